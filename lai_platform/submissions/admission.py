"""Taking a submission in, in three steps so that no database connection waits on a body:

1. `check_may_submit` (database, before the body is read): participant approved, phase
   open, quota not used up, declared size within the phase's limit. Gives a `Ticket`.
2. The body is streamed into storage (`uploads.receive`, no database) and the stored
   tarball is validated where it lies (`inspect_stored`, no database, no copy).
3. `register` (database): the quota again, atomically, after taking a write lock on the
   participant's row, and on their team's row when they are in one (two requests cannot
   both take the last slot; a team's members share its quotas); then the rows.

A refusal after the image was stored deletes it: nothing is left behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from sqlalchemy import func, select, update

from lai_platform import services
from lai_platform.challenges.participation import require_approved
from lai_platform.errors import PlatformError
from lai_platform.extensions import db
from lai_platform.images.tarball import ImageInfo, ImageRejected, inspect_image_stream
from lai_platform.models import (
    ContainerImage,
    Participation,
    Phase,
    Submission,
    SubmissionStatus,
    Team,
    User,
)
from lai_platform.models._time import utcnow
from lai_platform.storage import Storage
from lai_platform.submissions.uploads import (
    MULTIPART_SLACK,
    ImageSink,
    copy_into,
    receive,
    too_large,
)
from lai_platform.teams.entrants import entrant_submissions, team_id_of


@dataclass(frozen=True)
class Ticket:
    """What the early checks established, as plain values (no database objects)."""

    user_id: int
    phase_id: int
    participation_id: int
    max_bytes: int

    def image_key(self) -> str:
        return f"images/{self.user_id}/{uuid.uuid4().hex}.tar"


def check_may_submit(user: User, phase: Phase, content_length: int | None = None) -> Ticket:
    """Everything that can be refused before the body is read; raises PlatformError."""
    participation = require_approved(user, phase.challenge)
    now = utcnow()
    if not phase.is_open(now):
        raise PlatformError("phase_closed", f"The phase '{phase.title}' is not open.", 403)
    if phase.dataset_id is None:
        raise PlatformError("no_test_data", f"The phase '{phase.title}' has no test data yet: "
                            "it takes submissions once its organizers attach a dataset.", 403)
    check_quota(user.id, phase, now)
    if content_length is not None and content_length > phase.image_max_bytes + MULTIPART_SLACK:
        raise too_large(phase.image_max_bytes)
    return Ticket(user.id, phase.id, participation.id, phase.image_max_bytes)


def inspect_stored(storage: Storage, key: str, size: int, max_bytes: int) -> ImageInfo:
    """Validate the tarball where it is stored; refused: deleted, and PlatformError(422)."""
    if size == 0:
        storage.delete(key)
        raise PlatformError("image_missing", "The upload is empty: send the `docker save` file.")
    try:
        with storage.open(key) as stream:
            return inspect_image_stream(stream, size, max_bytes)
    except ImageRejected as exc:
        storage.delete(key)
        raise PlatformError(f"image_{exc.code}", exc.message, 422) from exc


def register(ticket: Ticket, key: str, sha256: str, info: ImageInfo,
             comment: str = "") -> Submission:
    """The final, atomic quota check and the rows; queues the run. Refused: deleted."""
    storage = services.get().storage
    now = utcnow()
    # Lock the participation row (an UPDATE locks in PostgreSQL and SQLite alike), then count.
    db.session.execute(
        update(Participation)
        .where(Participation.id == ticket.participation_id)
        .values(last_submission_at=now)
    )
    db.session.expire_all()  # read the participation's status as it is now, under the lock
    phase = db.session.get(Phase, ticket.phase_id)
    # A team's members share its quotas: their uploads queue on the team row's lock too
    # (taken second, after the participation's, as every team change takes them).
    team_id = team_id_of(ticket.user_id, phase.challenge_id)
    if team_id is not None:
        db.session.execute(update(Team).where(Team.id == team_id)
                           .values(last_submission_at=now))
    try:
        # A ban or a rejection may have landed while the body streamed in.
        require_approved(db.session.get(User, ticket.user_id), phase.challenge)
        check_quota(ticket.user_id, phase, now)
    except PlatformError:
        db.session.rollback()
        storage.delete(key)
        raise
    key = _known_copy(ticket.user_id, sha256, key, storage)
    image = ContainerImage(user_id=ticket.user_id, image_id=info.image_id, storage_key=key,
                           tarball_sha256=sha256, size_bytes=info.size_bytes,
                           architecture=info.architecture, repo_tags=list(info.repo_tags))
    submission = Submission(phase_id=ticket.phase_id, user_id=ticket.user_id, image=image,
                            team_id=team_id, comment=comment[:500])
    db.session.add_all([image, submission])
    db.session.commit()
    services.get().jobs.enqueue(submission.id)
    return submission


def _known_copy(user_id: int, sha256: str, key: str, storage: Storage) -> str:
    """The same person uploading the same tarball again: keep one stored copy."""
    earlier = db.session.scalar(
        select(ContainerImage.storage_key)
        .where(ContainerImage.user_id == user_id, ContainerImage.tarball_sha256 == sha256)
        .limit(1)
    )
    if earlier is None or earlier == key or not storage.exists(earlier):
        return key
    storage.delete(key)
    return earlier


def admit(user: User, phase: Phase, upload: BinaryIO, comment: str = "") -> Submission:
    """All three steps for an image that is already a stream (commands, the demo)."""
    ticket = check_may_submit(user, phase)
    storage = services.get().storage
    with ImageSink(storage, ticket.image_key(), ticket.max_bytes) as sink:
        copy_into(sink, upload)
    info = inspect_stored(storage, sink.key, sink.size, ticket.max_bytes)
    return register(ticket, sink.key, sink.sha256, info, comment)


def admit_body(user: User, phase: Phase, body: BinaryIO, content_type: str | None,
               content_length: int | None, comment: str = "",
               check_field: Callable[[str, str | None], None] | None = None) -> Submission:
    """All three steps for an HTTP request body (see `uploads.receive`)."""
    ticket = check_may_submit(user, phase, content_length)
    db.session.close()  # no database connection is held while the body streams in
    storage = services.get().storage
    received = receive(body, content_type, storage, ticket.image_key(), ticket.max_bytes,
                       check_field)
    if received.key is None:
        raise PlatformError(
            "image_missing",
            "Send the image as the multipart field 'image' (the output of `docker save`).",
        )
    info = inspect_stored(storage, received.key, received.size, ticket.max_bytes)
    return register(ticket, received.key, received.sha256, info,
                    received.fields.get("comment", comment))


def _entrant(user_id: int, phase: Phase):
    """The condition on Submission for the entrant the user submits as (team or self)."""
    return entrant_submissions(user_id, team_id_of(user_id, phase.challenge_id))


def counted_submissions(user_id: int, phase: Phase, since: datetime | None = None) -> int:
    """The entrant's submissions that count against the phase's quota: a team's members
    share them."""
    query = select(func.count(Submission.id)).where(
        _entrant(user_id, phase),
        Submission.phase_id == phase.id,
        Submission.counts_against_quota.is_(True),
    )
    if since is not None:
        query = query.where(Submission.created_at >= since)
    return db.session.scalar(query) or 0


def in_flight(user_id: int, phase: Phase) -> int:
    """The entrant's submissions of the phase that are queued or running."""
    return db.session.scalar(select(func.count(Submission.id)).where(
        _entrant(user_id, phase), Submission.phase_id == phase.id,
        Submission.status.in_((SubmissionStatus.QUEUED, SubmissionStatus.RUNNING)),
    )) or 0


def check_quota(user_id: int, phase: Phase, now: datetime) -> None:
    you = "Your team has" if team_id_of(user_id, phase.challenge_id) else "You have"
    if phase.submissions_concurrent is not None:
        running = in_flight(user_id, phase)
        if running >= phase.submissions_concurrent:
            raise PlatformError(
                "too_many_running",
                f"{you} {running} submissions queued or running in '{phase.title}'; it "
                f"takes at most {phase.submissions_concurrent} at once. Submit again when "
                "one has finished.",
                429,
            )
    if phase.submissions_total is not None:
        used = counted_submissions(user_id, phase)
        if used >= phase.submissions_total:
            raise PlatformError(
                "quota_exceeded",
                f"{you} used all {phase.submissions_total} submissions of '{phase.title}'.",
                429,
            )
    if phase.submissions_per_day is not None:
        used = counted_submissions(user_id, phase, since=now - timedelta(days=1))
        if used >= phase.submissions_per_day:
            raise PlatformError(
                "quota_exceeded",
                f"{you} used {'its' if you.startswith('Your') else 'your'} "
                f"{phase.submissions_per_day} submissions of the last 24 "
                f"hours in '{phase.title}'. Failed runs caused by the platform are not counted.",
                429,
            )
