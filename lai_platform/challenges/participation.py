"""Who takes part in a challenge: joining, and the checks every participant-only action makes.

A participation is approved, pending (access `review`), rejected or banned. A rejected or
banned row stays as it is when the person joins again: only an organizer changes it (the
messages say to write to the organizers, who approve from their participants page).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lai_platform.errors import Forbidden, PlatformError
from lai_platform.extensions import db
from lai_platform.models import Challenge, Participation, User

ASK_AGAIN = ("If you think this should change, write to the challenge's organizers: they can "
             "approve you from their participants page.")


def participation_of(user: User | None, challenge: Challenge) -> Participation | None:
    if user is None:
        return None
    return db.session.scalar(
        select(Participation).where(
            Participation.user_id == user.id, Participation.challenge_id == challenge.id
        )
    )


def refusal(participation: Participation, challenge: Challenge) -> Forbidden | None:
    """Why a participation that is not approved may not act (None when approved)."""
    reason = f" Reason: {participation.reason}" if participation.reason else ""
    if participation.status == "approved":
        return None
    if participation.status == "pending":
        return Forbidden(
            "participation_pending",
            "Your request to join this challenge is waiting for the organizers' approval.",
        )
    if participation.status == "banned":
        return Forbidden(
            "participation_banned",
            f"You have been banned from '{challenge.title}': you may not submit or download "
            f"its data.{reason} {ASK_AGAIN}",
        )
    return Forbidden(
        "participation_rejected",
        f"Your request to join '{challenge.title}' was rejected.{reason} {ASK_AGAIN}",
    )


def require_approved(user: User, challenge: Challenge) -> Participation:
    participation = participation_of(user, challenge)
    if participation is None:
        raise Forbidden(
            "not_a_participant",
            f"You have not joined '{challenge.title}'. Join it (and accept its terms) first.",
        )
    refused = refusal(participation, challenge)
    if refused is not None:
        raise refused
    return participation


def domain_allowed(email: str, domains: list[str]) -> bool:
    """An empty list allows anyone; "uni.edu" allows "a@uni.edu" and "a@med.uni.edu"."""
    if not domains:
        return True
    domain = email.rsplit("@", 1)[-1].strip().lower()
    for allowed in domains:
        allowed = allowed.strip().lower().lstrip("@")
        if allowed and (domain == allowed or domain.endswith("." + allowed)):
            return True
    return False


def check_may_join(user: User, challenge: Challenge) -> None:
    """Refusals for a new participant (someone already in keeps their state)."""
    if challenge.access == "closed":
        raise Forbidden("challenge_closed",
                        f"'{challenge.title}' takes no new participants: its organizers have "
                        "closed it to joining.")
    if not domain_allowed(user.email, challenge.email_domains or []):
        domains = ", ".join(challenge.email_domains)
        raise Forbidden("email_domain_not_allowed",
                        f"'{challenge.title}' is open only to accounts with an e-mail address "
                        f"in these domains: {domains}. Register with such an address.")


def join(user: User, challenge: Challenge, accept_terms: bool) -> Participation:
    if not accept_terms:
        raise PlatformError(
            "terms_not_accepted", "You must accept the challenge's terms to join it.", 400
        )
    participation = participation_of(user, challenge)
    if participation is None:
        check_may_join(user, challenge)
        status = "approved" if challenge.access == "open" else "pending"
        db.session.add(Participation(user_id=user.id, challenge_id=challenge.id, status=status))
        try:
            db.session.commit()
        except IntegrityError:  # the same person joining twice at once: one row wins
            db.session.rollback()
        participation = participation_of(user, challenge)
    if participation.status in ("rejected", "banned"):
        # Joining again does not reopen a decision: say so, with the organizers' reason.
        raise refusal(participation, challenge)
    return participation
