"""Participants of a challenge, for its organizers: list (VIEW); approve, reject, ban
(REVIEW) with a JSON body {"reason": "..."} (required to reject or ban)."""

from __future__ import annotations

from flask import g, jsonify, request

from lai_platform.api.access import organizer_endpoint
from lai_platform.api.blueprint import api_bp
from lai_platform.api.docs import documented
from lai_platform.api.errors import json_object
from lai_platform.api.schemas import (
    BOOL,
    INT,
    PAGE,
    REASON,
    STR,
    array,
    obj,
    ref,
    with_keys,
)
from lai_platform.challenges.review import decide, participants
from lai_platform.challenges.roles import Permission
from lai_platform.errors import PlatformError
from lai_platform.leaderboards.pages import page_number
from lai_platform.models import Challenge


@api_bp.get("/challenges/<slug>/participants")
@documented({200: obj({"challenge": STR, "total": INT, "page": INT,
                       "participants": array(ref("Participant"))})},
            query={"page": PAGE, "status": STR})
@organizer_endpoint(Permission.VIEW)
def list_participants(challenge: Challenge):
    page = page_number(request.args.get("page"))
    rows, total = participants(challenge, request.args.get("status"), page)
    return jsonify({"challenge": challenge.slug, "total": total, "page": page,
                    "participants": [row.to_json() for row in rows]})


ANSWER = with_keys("Participant", {"changed": BOOL})


def _decide(challenge: Challenge, user_id: int, action: str):
    body = json_object() if request.get_data() else {}  # approving needs no body
    reason = body.get("reason") or ""
    if not isinstance(reason, str):
        raise PlatformError("bad_reason", "`reason` must be text.", 400)
    decision = decide(challenge, user_id, action, g.user, reason)
    return jsonify({**decision.participant.to_json(), "changed": decision.changed})


@api_bp.post("/challenges/<slug>/participants/<int:user_id>/approve")
@documented({200: ANSWER}, request=REASON, required=False)
@organizer_endpoint(Permission.REVIEW)
def approve_participant(challenge: Challenge, user_id: int):
    return _decide(challenge, user_id, "approve")


@api_bp.post("/challenges/<slug>/participants/<int:user_id>/reject")
@documented({200: ANSWER}, request=REASON, required=False)
@organizer_endpoint(Permission.REVIEW)
def reject_participant(challenge: Challenge, user_id: int):
    return _decide(challenge, user_id, "reject")


@api_bp.post("/challenges/<slug>/participants/<int:user_id>/ban")
@documented({200: ANSWER}, request=REASON, required=False)
@organizer_endpoint(Permission.REVIEW)
def ban_participant(challenge: Challenge, user_id: int):
    return _decide(challenge, user_id, "ban")
