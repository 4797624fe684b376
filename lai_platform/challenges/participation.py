"""Who takes part in a challenge: joining, and the checks every participant-only action makes."""

from __future__ import annotations

from sqlalchemy import select

from lai_platform.errors import Forbidden, PlatformError
from lai_platform.extensions import db
from lai_platform.models import Challenge, Participation, User


def participation_of(user: User | None, challenge: Challenge) -> Participation | None:
    if user is None:
        return None
    return db.session.scalar(
        select(Participation).where(
            Participation.user_id == user.id, Participation.challenge_id == challenge.id
        )
    )


def require_approved(user: User, challenge: Challenge) -> Participation:
    participation = participation_of(user, challenge)
    if participation is None:
        raise Forbidden(
            "not_a_participant",
            f"You have not joined '{challenge.title}'. Join it (and accept its terms) first.",
        )
    if participation.status != "approved":
        raise Forbidden(
            "participation_pending",
            "Your request to join this challenge is waiting for the organizers' approval.",
        )
    return participation


def join(user: User, challenge: Challenge, accept_terms: bool) -> Participation:
    if not accept_terms:
        raise PlatformError(
            "terms_not_accepted", "You must accept the challenge's terms to join it.", 400
        )
    participation = participation_of(user, challenge)
    if participation is None:
        status = "approved" if challenge.access == "open" else "pending"
        participation = Participation(user_id=user.id, challenge_id=challenge.id, status=status)
        db.session.add(participation)
        db.session.commit()
    return participation
