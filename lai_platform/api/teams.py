"""Teams: my team in a challenge, create one, join one with its invite token, renew that
token, leave."""

from __future__ import annotations

from flask import g, jsonify, url_for

from lai_platform.api.auth import token_required
from lai_platform.api.blueprint import api_bp
from lai_platform.api.docs import documented
from lai_platform.api.errors import json_object
from lai_platform.api.schemas import NEW_TEAM, TEAM_JOIN, TEAM_LEFT, ref
from lai_platform.challenges.lookups import get_challenge
from lai_platform.errors import NotFound
from lai_platform.models import Challenge, Team
from lai_platform.teams.entrants import team_of
from lai_platform.teams.membership import create, join, leave, members, renew_invite


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value else None


def team_json(team: Team, challenge: Challenge) -> dict:
    """A team as its members see it: the invite link is theirs to share."""
    return {
        "id": team.id,
        "challenge": challenge.slug,
        "name": team.name,
        "members": [{"name": user.display_name} for user in members(team)],
        "invite_token": team.invite_token,
        "invite_url": url_for("web.team_invite", token=team.invite_token, _external=True),
        "max_size": challenge.team_max_size,
        "changes_close_at": _iso(challenge.team_changes_close_at),
        "created_at": _iso(team.created_at),
    }


@api_bp.get("/challenges/<slug>/team")
@documented({200: ref("Team")})
@token_required
def my_team(slug: str):
    """The caller's team in the challenge; 404 when they are in none."""
    challenge = get_challenge(slug)
    team = team_of(g.user.id, challenge.id)
    if team is None:
        raise NotFound(f"You are not in a team in '{challenge.title}'.")
    return jsonify(team_json(team, challenge))


@api_bp.post("/challenges/<slug>/teams")
@documented({201: ref("Team")}, request=NEW_TEAM)
@token_required
def create_team(slug: str):
    challenge = get_challenge(slug)
    team = create(g.user, challenge, str(json_object().get("name") or ""))
    return jsonify(team_json(team, challenge)), 201


@api_bp.post("/teams/join")
@documented({200: ref("Team")}, request=TEAM_JOIN)
@token_required
def join_team():
    team = join(g.user, str(json_object().get("token") or ""))
    return jsonify(team_json(team, team.challenge))


@api_bp.post("/challenges/<slug>/team/invite")
@documented({200: ref("Team")})
@token_required
def renew_team_invite(slug: str):
    """A new invite token and link for one's team; the old link stops working at once."""
    challenge = get_challenge(slug)
    team = renew_invite(g.user, challenge)
    return jsonify(team_json(team, challenge))


@api_bp.post("/challenges/<slug>/team/leave")
@documented({200: TEAM_LEFT})
@token_required
def leave_team(slug: str):
    """Leave one's team (refused once one has submissions in it); the last member leaving
    deletes it."""
    challenge = get_challenge(slug)
    team = leave(g.user, challenge)
    return jsonify({"challenge": slug, "team_deleted": team is None})
