"""Taking a submission in: who may submit, the upload, image validation and quotas.

Quota checks run after taking a write lock on the participant's row, so two concurrent
requests cannot both take the last slot.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select, update

from lai_platform import services
from lai_platform.challenges.participation import require_approved
from lai_platform.errors import PlatformError
from lai_platform.extensions import db
from lai_platform.images.tarball import ImageRejected, inspect_image_tarball
from lai_platform.models import ContainerImage, Participation, Phase, Submission, User
from lai_platform.models._time import utcnow

CHUNK = 1024 * 1024


def admit(user: User, phase: Phase, upload: BinaryIO, comment: str = "") -> Submission:
    """Validate and store an uploaded image and queue a submission; raises PlatformError."""
    participation = require_approved(user, phase.challenge)
    now = utcnow()
    if not phase.is_open(now):
        raise PlatformError("phase_closed", f"The phase '{phase.title}' is not open.", 403)
    check_quota(user, phase, now)  # early, before a long upload; again under the lock below

    settings = services.get().settings
    upload_dir = settings.data_dir / "uploads"
    upload_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=upload_dir, suffix=".tar")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _copy_limited(upload, out, phase.image_max_bytes)
        try:
            info = inspect_image_tarball(tmp, phase.image_max_bytes)
        except ImageRejected as exc:
            raise PlatformError(f"image_{exc.code}", exc.message, 422) from exc
        key = f"images/{user.id}/{digest}.tar"
        storage = services.get().storage
        if not storage.exists(key):
            with tmp.open("rb") as stream:
                storage.save(key, stream)
    finally:
        tmp.unlink(missing_ok=True)

    # Lock the participation row (an UPDATE locks in PostgreSQL and SQLite alike), then count.
    db.session.execute(
        update(Participation)
        .where(Participation.id == participation.id)
        .values(last_submission_at=now)
    )
    try:
        check_quota(user, phase, now)
    except PlatformError:
        db.session.rollback()
        raise
    image = ContainerImage(
        user_id=user.id,
        image_id=info.image_id,
        storage_key=key,
        size_bytes=info.size_bytes,
        architecture=info.architecture,
        repo_tags=list(info.repo_tags),
    )
    submission = Submission(phase=phase, user=user, image=image, comment=comment[:500])
    db.session.add_all([image, submission])
    db.session.commit()
    services.get().jobs.enqueue(submission.id)
    return submission


def _copy_limited(src: BinaryIO, dst: BinaryIO, limit: int) -> str:
    sha = hashlib.sha256()
    total = 0
    while chunk := src.read(CHUNK):
        total += len(chunk)
        if total > limit:
            raise PlatformError(
                "image_too_large",
                f"The image is larger than this phase's limit of {limit / 2**20:.0f} MB.",
                413,
            )
        sha.update(chunk)
        dst.write(chunk)
    if total == 0:
        raise PlatformError("image_missing", "The upload is empty: send the `docker save` file.")
    return sha.hexdigest()


def counted_submissions(user: User, phase: Phase, since: datetime | None = None) -> int:
    query = select(func.count(Submission.id)).where(
        Submission.user_id == user.id,
        Submission.phase_id == phase.id,
        Submission.counts_against_quota.is_(True),
    )
    if since is not None:
        query = query.where(Submission.created_at >= since)
    return db.session.scalar(query) or 0


def check_quota(user: User, phase: Phase, now: datetime) -> None:
    if phase.submissions_total is not None:
        used = counted_submissions(user, phase)
        if used >= phase.submissions_total:
            raise PlatformError(
                "quota_exceeded",
                f"You have used all {phase.submissions_total} submissions of '{phase.title}'.",
                429,
            )
    if phase.submissions_per_day is not None:
        used = counted_submissions(user, phase, since=now - timedelta(days=1))
        if used >= phase.submissions_per_day:
            raise PlatformError(
                "quota_exceeded",
                f"You have used your {phase.submissions_per_day} submissions of the last 24 "
                f"hours in '{phase.title}'. Failed runs caused by the platform are not counted.",
                429,
            )
