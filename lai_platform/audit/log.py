"""Recording and reading audit events."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from lai_platform.extensions import db
from lai_platform.models import AuditEvent, Challenge, User


def record(actor: User | None, challenge: Challenge | None, action: str, target: str = "",
           before: dict | None = None, after: dict | None = None) -> AuditEvent:
    """Add an event to the session; it is committed with the change it describes."""
    event = AuditEvent(
        challenge_id=challenge.id if challenge is not None else None,
        actor_id=actor.id if actor is not None else None,
        action=action,
        target=target[:200],
        before=_plain(before),
        after=_plain(after),
    )
    db.session.add(event)
    return event


def changes(obj: Any, values: dict[str, Any]) -> tuple[dict, dict]:
    """The fields of ``obj`` that ``values`` changes: (before, after), only those that differ."""
    before, after = {}, {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            before[name], after[name] = old, value
    return before, after


def events_of(challenge: Challenge, limit: int = 500, before_id: int | None = None
              ) -> list[AuditEvent]:
    """Newest first."""
    query = select(AuditEvent).where(AuditEvent.challenge_id == challenge.id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))


def _plain(values: dict | None) -> dict | None:
    """JSON-safe copies: datetimes as ISO text, anything else unknown as its text."""
    if values is None:
        return None

    def default(value: Any) -> str:
        if isinstance(value, datetime | date):
            return value.isoformat()
        return str(value)

    return json.loads(json.dumps(values, default=default))
