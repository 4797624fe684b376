"""Ranking as a job of its own, per phase, coalesced.

A result landing, a settings change or the tick *requests* a ranking (a timestamp on the
phase, written after the run's own transaction) and enqueues the job. The job ranks only if
a request is newer than its phase's last ranking, and one ranking covers every request made
before it began: a burst of results landing together gives one or two recomputes, not one
each. Never inside a GET, never inside a run's transaction.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select, update

from lai_platform.extensions import db
from lai_platform.leaderboards.parts import current_part
from lai_platform.leaderboards.ranks import lock_for_ranking, recompute_ranks
from lai_platform.models import Phase
from lai_platform.models._time import utcnow


def request_ranking(phase_id: int) -> None:
    """Mark the phase as needing a ranking; commits. The caller enqueues the job."""
    db.session.execute(
        update(Phase).where(Phase.id == phase_id).values(rank_requested_at=utcnow())
    )
    db.session.commit()


def rank_phase(phase_id: int) -> bool:
    """The job: rank the phase if a request is newer than its last ranking; True if it did."""
    # Take the phase's ranking lock first: a second job for the same phase waits here and
    # then finds the requests it came for already covered.
    lock_for_ranking(phase_id)
    phase = db.session.get(Phase, phase_id, populate_existing=True)
    if phase is None or not _due(phase):
        db.session.rollback()  # the version it took back with it
        return False
    recompute_ranks(phase, utcnow(), locked=True)
    db.session.commit()
    return True


def _due(phase: Phase) -> bool:
    if phase.ranked_at is None:
        return True
    if phase.rank_requested_at is not None and phase.rank_requested_at >= phase.ranked_at:
        return True
    return phase.ranked_on != current_part(phase)


def phases_due() -> list[int]:
    """Phases whose ranking is out of date: requested since their last ranking, or whose
    public/private part changed (a phase opened or closed). The tick enqueues these."""
    phases = db.session.scalars(select(Phase).order_by(Phase.id)).all()
    return [phase.id for phase in phases if _due(phase)]


def run_ranking(app: Flask, phase_id: int) -> None:
    """The job queues' ranking handler."""
    with app.app_context():
        try:
            rank_phase(phase_id)
        finally:
            db.session.remove()
