"""Ranks are recomputed when a result lands and stored, so reading a leaderboard is one query."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from evaluator.metrics import METRICS
from evaluator.ranking import rank_scores
from lai_platform.extensions import db
from lai_platform.models import Phase, Result, Submission


def primary_score(metrics: dict, metric: str) -> float | None:
    entry = metrics.get("metrics", {}).get(metric) or {}
    return entry.get("value")


def recompute_ranks(phase: Phase) -> None:
    results = db.session.scalars(select(Result).where(Result.phase_id == phase.id)).all()
    higher = METRICS[phase.primary_metric].higher_is_better
    ranks = rank_scores([r.primary_score for r in results], higher_is_better=higher)
    for result, rank in zip(results, ranks, strict=True):
        result.rank = rank


@dataclass(frozen=True)
class Row:
    rank: int | None
    submission: Submission
    result: Result

    def metric(self, name: str) -> dict:
        return self.result.metrics.get("metrics", {}).get(name) or {}


def leaderboard_rows(phase: Phase) -> list[Row]:
    results = db.session.scalars(
        select(Result)
        .where(Result.phase_id == phase.id)
        .options(joinedload(Result.submission).joinedload(Submission.user))
        .order_by(Result.rank.is_(None), Result.rank, Result.submission_id)
    ).all()
    return [Row(r.rank, r.submission, r) for r in results]


# The columns a leaderboard shows; every metric is on each submission's page.
LEADERBOARD_METRICS = ("auc", "balanced_accuracy", "sensitivity", "specificity", "macro_f1",
                       "kappa", "lld_mmri_score")


def shown_metrics(phase: Phase) -> list[str]:
    """The primary metric first, then the usual columns."""
    rest = [name for name in LEADERBOARD_METRICS if name != phase.primary_metric]
    return [phase.primary_metric, *rest]
