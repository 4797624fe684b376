"""What the home and challenge pages say about a challenge: each phase's state in words,
its participants, and what a visitor can do next."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lai_platform.extensions import db
from lai_platform.models import Challenge, Participation, Phase, User

DAY_S = 86400


@dataclass(frozen=True)
class PhaseState:
    kind: str  # open | closed | upcoming
    text: str  # e.g. "open, closes in 3 days"


def phase_state(phase: Phase, now: datetime) -> PhaseState:
    """Open, closed or upcoming, with the time left or the date, in words (UTC)."""
    if phase.opens_at is not None and now < phase.opens_at:
        return PhaseState("upcoming", f"opens on {phase.opens_at:%Y-%m-%d}")
    if phase.closes_at is None:
        return PhaseState("open", "open, no deadline")
    if now >= phase.closes_at:
        return PhaseState("closed", f"closed on {phase.closes_at:%Y-%m-%d}")
    left_s = (phase.closes_at - now).total_seconds()
    if left_s < DAY_S:
        hours = max(1, math.ceil(left_s / 3600))
        return PhaseState("open", f"open, closes in {hours} hour{'s' * (hours != 1)}")
    days = int(left_s // DAY_S)
    return PhaseState("open", f"open, closes in {days} day{'s' * (days != 1)}")


def challenges_for_home() -> list[Challenge]:
    """Every challenge with its phases loaded in one more query (not one per challenge)."""
    return list(db.session.scalars(
        select(Challenge).options(selectinload(Challenge.phases)).order_by(Challenge.id)))


def participant_counts() -> dict[int, int]:
    """Approved participants per challenge id, in one query."""
    rows = db.session.execute(
        select(Participation.challenge_id, func.count())
        .where(Participation.status == "approved")
        .group_by(Participation.challenge_id)
    )
    return {challenge_id: n for challenge_id, n in rows}


@dataclass(frozen=True)
class NextStep:
    kind: str  # sign_in | join | closed | pending | rejected | banned | submit | wait
    open_phases: list[Phase]  # where an approved participant can submit now


def next_step(user: User | None, challenge: Challenge, participation: Participation | None,
              now: datetime) -> NextStep:
    """What this visitor can do next on the challenge's page."""
    open_phases = [p for p in challenge.phases
                   if p.dataset_id is not None and p.is_open(now)]
    if user is None:
        return NextStep("sign_in", open_phases)
    if participation is None:
        return NextStep("closed" if challenge.access == "closed" else "join", open_phases)
    if participation.status != "approved":
        return NextStep(participation.status, [])  # pending, rejected or banned
    return NextStep("submit" if open_phases else "wait", open_phases)
