"""Organizers' evaluation images: validated like any upload, stored, attached to a phase."""

from __future__ import annotations

import hashlib
from pathlib import Path

from evaluator import ranking_method
from lai_platform import services
from lai_platform.challenges.lookups import find_phase
from lai_platform.extensions import db
from lai_platform.images.tarball import ImageRejected, inspect_image_tarball
from lai_platform.leaderboards.ranks import recompute_ranks
from lai_platform.scoring.scorers import ContainerScorer, check_method_fits

MAX_EVALUATOR_BYTES = 8 * 2**30


def set_evaluation_image(challenge_slug: str, phase_slug: str, tarball: Path | None) -> str | None:
    phase = find_phase(challenge_slug, phase_slug)
    if phase is None:
        raise ValueError(f"No phase {challenge_slug}/{phase_slug}.")
    if tarball is None:
        phase.evaluation_image_id = phase.evaluation_image_key = None
        db.session.commit()
        return None
    check_method_fits(ranking_method(phase.ranking_method), ContainerScorer)
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
