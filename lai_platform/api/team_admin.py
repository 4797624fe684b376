"""Teams of a challenge, for its organizers: list them (VIEW); remove a member (MANAGE) with
a JSON body {"reason": "..."}. The removed person's submissions stay the team's."""

from __future__ import annotations

from flask import g, jsonify

from lai_platform.api.access import organizer_endpoint
from lai_platform.api.blueprint import api_bp
from lai_platform.api.docs import documented
from lai_platform.api.errors import json_object
from lai_platform.api.schemas import MEMBER_REMOVAL, MEMBER_REMOVED, TEAM_LIST
from lai_platform.challenges.roles import Permission
from lai_platform.errors import PlatformError
from lai_platform.models import Challenge
from lai_platform.teams.organizing import remove_member, teams_of


@api_bp.get("/challenges/<slug>/teams")
@documented({200: TEAM_LIST})
@organizer_endpoint(Permission.VIEW)
def list_teams(challenge: Challenge):
    """The challenge's teams, by name, with members and submissions per phase."""
    return jsonify({"challenge": challenge.slug,
                    "teams": [team.to_json() for team in teams_of(challenge)]})


@api_bp.post("/challenges/<slug>/teams/<int:team_id>/members/<int:user_id>/remove")
@documented({200: MEMBER_REMOVED}, request=MEMBER_REMOVAL)
@organizer_endpoint(Permission.MANAGE)
def remove_team_member(challenge: Challenge, team_id: int, user_id: int):
    """Remove a member from a team, with a reason (audited).

    The person's submissions stay the team's; the team gets a new invite link; a team left
    with no member is deleted only if it has no submission."""
    reason = json_object().get("reason")
    if reason is not None and not isinstance(reason, str):
        raise PlatformError("bad_reason", "`reason` must be text.", 400)
    removal = remove_member(challenge, team_id, user_id, g.user, reason or "")
    return jsonify({"challenge": challenge.slug, "removed": removal.member.to_json(),
                    "team_deleted": removal.team is None,
                    "team": removal.team.to_json() if removal.team else None})
