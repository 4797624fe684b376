"""How a phase ranks and shows its entries: checked in one place for bundles and the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from evaluator import METRICS, RANKING_METHODS
from lai_platform.extensions import db
from lai_platform.leaderboard import DISPLAY_MODES, recompute_ranks
from lai_platform.models import Challenge, Phase
from lai_platform.phase_scoring import PER_CASE_METRICS, VECTOR_METHODS


def apply_ranking(phase: Phase, method: str = "score", metrics: Sequence[str] = (),
                  alpha: float = 0.05) -> None:
    if method not in RANKING_METHODS:
        raise ValueError(f"phase {phase.slug}: ranking method {method!r} is not one of "
                         f"{', '.join(RANKING_METHODS)}")
    for name in metrics:
        if name not in METRICS:
            raise ValueError(f"phase {phase.slug}: unknown ranking metric {name!r}")
    if method == "case_rank" and (list(metrics) or ["brier"])[0] not in PER_CASE_METRICS:
        raise ValueError(f"phase {phase.slug}: case_rank needs a per-case metric, one of "
                         f"{', '.join(PER_CASE_METRICS)}")
    if method in VECTOR_METHODS and phase.evaluation_image_id:
        raise ValueError(f"phase {phase.slug}: {method} needs the built-in evaluator")
    if not 0 < alpha < 1:
        raise ValueError(f"phase {phase.slug}: ranking alpha must be between 0 and 1")
    phase.ranking_method, phase.ranking_metrics, phase.ranking_alpha = method, list(metrics), alpha


def apply_display(phase: Phase, mode: str) -> None:
    if mode not in DISPLAY_MODES:
        raise ValueError(f"phase {phase.slug}: display must be one of {', '.join(DISPLAY_MODES)}")
    phase.display_mode = mode


def configure_phase(
    challenge_slug: str,
    phase_slug: str,
    *,
    method: str | None = None,
    metrics: Sequence[str] | None = None,
    alpha: float | None = None,
    display: str | None = None,
    closes_at: datetime | None = None,
) -> Phase:
    challenge = db.session.scalar(select(Challenge).where(Challenge.slug == challenge_slug))
    phase = challenge.phase(phase_slug) if challenge else None
    if phase is None:
        raise ValueError(f"No phase {challenge_slug}/{phase_slug}.")
    apply_ranking(
        phase,
        method or phase.ranking_method,
        phase.ranking_metrics if metrics is None else metrics,
        phase.ranking_alpha if alpha is None else alpha,
    )
    if display is not None:
        apply_display(phase, display)
    if closes_at is not None:
        phase.closes_at = closes_at
    recompute_ranks(phase)
    db.session.commit()
    return phase
