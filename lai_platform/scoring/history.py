"""A submission's earlier scores: kept when a rerun or a new dataset version replaces them."""

from __future__ import annotations

from sqlalchemy import select

from lai_platform.extensions import db
from lai_platform.models import ResultDetail, ScoreHistory, Submission


def archive_result(submission: Submission, why: str) -> ScoreHistory | None:
    """Move the submission's current result into its history; the caller commits."""
    result = submission.result
    if result is None:
        return None
    entry = ScoreHistory(
        submission_id=submission.id,
        dataset_id=result.dataset_id,
        metrics=result.metrics,
        primary_score=result.primary_score,
        scored_at=result.created_at,
        why=why[:200],
    )
    db.session.add(entry)
    detail = db.session.get(ResultDetail, submission.id)
    if detail is not None:
        db.session.delete(detail)
    db.session.delete(result)
    db.session.flush()
    db.session.expire(submission, ["result"])
    return entry


def history_of(submission: Submission) -> list[ScoreHistory]:
    """Oldest first."""
    return list(db.session.scalars(
        select(ScoreHistory).where(ScoreHistory.submission_id == submission.id)
        .order_by(ScoreHistory.id)
    ))
