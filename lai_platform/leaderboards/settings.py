"""How a phase ranks and shows its entries: checked in one place for bundles and the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from evaluator import RankingSettings, ranking_method
from evaluator.rank_methods import check_settings
from lai_platform.challenges.lookups import find_phase
from lai_platform.extensions import db
from lai_platform.leaderboards.ranks import DISPLAY_MODES, recompute_ranks
from lai_platform.models import Phase
from lai_platform.scoring.scorers import check_method_fits, scorer_class


def check_ranking(phase: Phase, method: str, metrics: Sequence[str], alpha: float,
                  primary_metric: str | None = None) -> None:
    """ValueError naming the problem unless the phase can rank this way (with
    `primary_metric` instead of its own, for a form that changes both)."""
    try:
        chosen = ranking_method(method)
        check_settings(chosen, RankingSettings(primary_metric or phase.primary_metric,
                                               tuple(metrics), alpha))
        check_method_fits(chosen, scorer_class(phase))
    except ValueError as exc:
        raise ValueError(f"phase {phase.slug}: {exc}") from exc


def apply_ranking(phase: Phase, method: str = "score", metrics: Sequence[str] = (),
                  alpha: float = 0.05) -> None:
    """Set the phase's ranking after checking it can work; ValueError names the problem."""
    check_ranking(phase, method, metrics, alpha)
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
    phase = find_phase(challenge_slug, phase_slug)
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
