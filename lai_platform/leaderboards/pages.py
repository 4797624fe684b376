"""Leaderboard pages: one indexed query over stored ranks, and the columns they show."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import defer, joinedload

from evaluator import METRICS
from lai_platform.challenges.tasks import task_of
from lai_platform.extensions import db
from lai_platform.leaderboards.parts import current_part, part_metrics
from lai_platform.models import Phase, Result, Submission

PER_PAGE = 100


@dataclass(frozen=True)
class Row:
    result: Result
    metrics: dict  # the part in force

    @property
    def rank(self) -> int | None:
        return self.result.rank

    @property
    def submission(self) -> Submission:
        return self.result.submission

    def metric(self, name: str) -> dict:
        return self.metrics.get("metrics", {}).get(name) or {}


def leaderboard_rows(phase: Phase, page: int = 1, per_page: int = PER_PAGE) -> list[Row]:
    """One page of the leaderboard, best first: a range of stored positions (one index scan).

    Metrics are shown on the part the stored ranks were computed on; when a phase closes,
    the ranking job's tick switches both to the private part together.
    """
    part = phase.ranked_on or current_part(phase)
    results = db.session.scalars(
        select(Result)
        .where(Result.phase_id == phase.id,
               Result.position > (max(page, 1) - 1) * per_page,
               Result.position <= max(page, 1) * per_page)
        .options(
            joinedload(Result.submission).joinedload(Submission.user),
            joinedload(Result.submission).joinedload(Submission.team),
            defer(Result.part_values),
        )
        .order_by(Result.position)
    ).all()
    return [Row(r, part_metrics(r, part)) for r in results]


MAX_PAGE = 100_000


def page_number(text: str | None) -> int:
    """The ?page= of a request: 1 for anything that is not a page number."""
    try:
        return min(max(int(text or 1), 1), MAX_PAGE)
    except ValueError:
        return 1


def page_count(phase: Phase, per_page: int = PER_PAGE) -> int:
    return max(1, -(-phase.shown_count // per_page))


def leaderboard_columns(phase: Phase) -> list[str]:
    """The metric columns: the phase's primary metric first, then its ranking metrics, then
    the metrics its challenge's task shows (every metric is on each submission's page)."""
    names = [phase.primary_metric, *(phase.ranking_metrics or []),
             *task_of(phase.challenge).metrics]
    return [n for n in dict.fromkeys(names) if n in METRICS]
