"""Organizers' evaluation images: validated like any upload, stored, attached to a phase."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from lai_platform import services
from lai_platform.extensions import db
from lai_platform.image_tarball import ImageRejected, inspect_image_tarball
from lai_platform.leaderboard import recompute_ranks
from lai_platform.models import Challenge, Phase
from lai_platform.phase_scoring import VECTOR_METHODS

MAX_EVALUATOR_BYTES = 8 * 2**30


def set_evaluation_image(challenge_slug: str, phase_slug: str, tarball: Path | None) -> str | None:
    challenge = db.session.scalar(select(Challenge).where(Challenge.slug == challenge_slug))
    phase: Phase | None = challenge.phase(phase_slug) if challenge else None
    if phase is None:
        raise ValueError(f"No phase {challenge_slug}/{phase_slug}.")
    if tarball is None:
        phase.evaluation_image_id = phase.evaluation_image_key = None
        db.session.commit()
        return None
    if phase.ranking_method in VECTOR_METHODS:
        raise ValueError(f"Ranking method {phase.ranking_method} needs the built-in evaluator.")
    try:
        info = inspect_image_tarball(tarball, MAX_EVALUATOR_BYTES)
    except ImageRejected as exc:
        raise ValueError(exc.message) from exc
    digest = hashlib.sha256(info.image_id.encode()).hexdigest()[:32]
    key = f"evaluators/{digest}.tar"
    with tarball.open("rb") as stream:
        services.get().storage.save(key, stream)
    phase.evaluation_image_id, phase.evaluation_image_key = info.image_id, key
    recompute_ranks(phase)
    db.session.commit()
    return info.image_id
