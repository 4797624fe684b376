"""Organizers decide on participants: approve, reject (with a reason the person sees), ban.

A decision locks the participation row first (a write, as admission does), then reads it:
twenty organizers approving the same request at once give one change and one audit event,
the others find it already decided and change nothing. A ban takes the person's submissions
off the leaderboards (ranking skips banned participants) and stops submissions and
downloads (`participation.require_approved`); approving a banned person puts them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from lai_platform.audit import record
from lai_platform.errors import NotFound, PlatformError
from lai_platform.extensions import db
from lai_platform.models import Challenge, Participation, User
from lai_platform.models._time import utcnow
from lai_platform.models.locking import lock_rows
from lai_platform.submissions.moderation import request_reranking

STATUSES = ("pending", "approved", "rejected", "banned")
# What each decision sets, and whether it needs a reason.
DECISIONS = {"approve": ("approved", False), "reject": ("rejected", True),
             "ban": ("banned", True)}
REASON_MAX = 2000
PER_PAGE = 100


@dataclass(frozen=True)
class ParticipantRow:
    user_id: int
    email: str
    name: str
    status: str
    reason: str
    joined_at: datetime
    decided_at: datetime | None

    def to_json(self) -> dict:
        return {"user_id": self.user_id, "email": self.email, "name": self.name,
                "status": self.status, "reason": self.reason,
                "joined_at": _iso(self.joined_at), "decided_at": _iso(self.decided_at)}


@dataclass(frozen=True)
class Decision:
    participant: ParticipantRow
    changed: bool  # False: it was already so (a repeated or concurrent decision)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def check_status(status: str | None) -> str | None:
    if status and status not in STATUSES:
        raise PlatformError("bad_status", f"Unknown state {status!r}: choose one of "
                            f"{', '.join(STATUSES)}.", 400)
    return status or None


def participants(challenge: Challenge, status: str | None = None, page: int = 1,
                 per_page: int = PER_PAGE) -> tuple[list[ParticipantRow], int]:
    """One page of the challenge's participants (pending first, then by joining) and the
    total count."""
    where = [Participation.challenge_id == challenge.id]
    if check_status(status):
        where.append(Participation.status == status)
    total = db.session.scalar(select(func.count(Participation.id)).where(*where)) or 0
    rows = db.session.execute(
        select(User.id, User.email, User.display_name, Participation.status,
               Participation.reason, Participation.accepted_terms_at, Participation.decided_at)
        .join(User, User.id == Participation.user_id)
        .where(*where)
        .order_by((Participation.status != "pending"), Participation.id)
        .limit(per_page).offset((max(page, 1) - 1) * per_page)
    ).all()
    return [ParticipantRow(*row) for row in rows], total


def decide(challenge: Challenge, user_id: int, action: str, actor: User | None,
           reason: str = "") -> Decision:
    """Approve, reject or ban; commits the change and its audit event together."""
    if action not in DECISIONS:
        raise PlatformError("bad_action", f"Unknown decision {action!r}: approve, reject or "
                            "ban.", 400)
    status, needs_reason = DECISIONS[action]
    reason = _checked_reason(reason, needs_reason, action)
    # Lock the row before reading it: concurrent decisions queue here, one at a time.
    locked = lock_rows(Participation, Participation.challenge_id == challenge.id,
                       Participation.user_id == user_id)
    if not locked:
        db.session.rollback()
        raise NotFound(f"User {user_id} has not joined '{challenge.title}'.")
    row = db.session.scalar(
        select(Participation).where(Participation.challenge_id == challenge.id,
                                    Participation.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    before = {"status": row.status, "reason": row.reason}
    changed = (row.status, row.reason) != (status, reason)
    if changed:
        row.status, row.reason = status, reason
        row.decided_at, row.decided_by_id = utcnow(), actor.id if actor else None
        email = db.session.get(User, user_id).email
        record(actor, challenge, f"participant.{action}", email, before,
               {"status": status, "reason": reason})
    db.session.commit()
    if changed and "banned" in (before["status"], status):
        # Banned participants' entries leave the leaderboards; unbanned ones come back.
        request_reranking([p.id for p in challenge.phases])
    return Decision(_row_of(challenge, user_id), changed)


def _checked_reason(reason: str | None, needed: bool, action: str) -> str:
    reason = (reason or "").strip()
    if needed and not reason:
        raise PlatformError("reason_required", f"Give a reason to {action}: the participant "
                            "sees it.", 400)
    if len(reason) > REASON_MAX:
        raise PlatformError("reason_too_long", f"The reason has {len(reason)} characters; "
                            f"at most {REASON_MAX}.", 400)
    return reason


def _row_of(challenge: Challenge, user_id: int) -> ParticipantRow:
    row = db.session.execute(
        select(User.id, User.email, User.display_name, Participation.status,
               Participation.reason, Participation.accepted_terms_at, Participation.decided_at)
        .join(User, User.id == Participation.user_id)
        .where(Participation.challenge_id == challenge.id, Participation.user_id == user_id)
    ).one()
    return ParticipantRow(*row)
