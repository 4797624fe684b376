"""Team pages: the Team card on the challenge page, creating and leaving a team, renewing
its invite link, and the invite link (/teams/join/<token>: a page to confirm, then a form
that joins)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from lai_platform.challenges.lookups import get_challenge
from lai_platform.challenges.participation import participation_of
from lai_platform.errors import PlatformError
from lai_platform.models import Challenge, User
from lai_platform.models._time import utcnow
from lai_platform.teams.entrants import team_of
from lai_platform.teams.membership import (
    create,
    join,
    leave,
    members,
    renew_invite,
    team_by_token,
)
from lai_platform.web.auth import login_required
from lai_platform.web.blueprint import web_bp


def team_card(challenge: Challenge, user: User | None) -> dict:
    """What the challenge page's Team card shows to a signed-in participant."""
    team = team_of(user.id, challenge.id) if user is not None else None
    closes = challenge.team_changes_close_at
    return {
        "team": team,
        "members": members(team) if team else [],
        "invite_url": (url_for("web.team_invite", token=team.invite_token, _external=True)
                       if team else None),
        "closes_at": closes,
        "closed": closes is not None and utcnow() >= closes,
        "max_size": challenge.team_max_size,
    }


@web_bp.app_context_processor
def team_helpers() -> dict:
    return {"team_card": team_card}


@web_bp.post("/challenges/<slug>/teams")
@login_required
def create_team(slug: str):
    return _team_change(slug, lambda c: create(g.user, c, request.form.get("name", "")),
                        lambda team: f"Team '{team.name}' created: share its invite link "
                        "with your teammates.")


@web_bp.post("/challenges/<slug>/team/leave")
@login_required
def leave_team(slug: str):
    return _team_change(slug, lambda c: leave(g.user, c),
                        lambda left: "You have left your team." if left else
                        "You have left your team; it had no other member and was deleted.")


@web_bp.post("/challenges/<slug>/team/invite")
@login_required
def renew_team_invite(slug: str):
    return _team_change(slug, lambda c: renew_invite(g.user, c),
                        lambda _: "The team has a new invite link: the old one no longer "
                        "works.")


def _team_change(slug: str, change: Callable[[Challenge], Any],
                 said: Callable[[Any], str]):
    """Make a team change; its refusal or its outcome in words, back on the Team card."""
    challenge = get_challenge(slug)  # an unknown challenge: the 404 page
    try:
        outcome = change(challenge)
    except PlatformError as exc:
        flash(exc.message, "error")
    else:
        flash(said(outcome), "success")
    return redirect(url_for("web.challenge", slug=slug, _anchor="team"))


@web_bp.get("/teams/join/<token>")
@login_required
def team_invite(token: str):
    """The invite link: who invites, to what; joining needs the button (a POST)."""
    team = team_by_token(token)  # an unknown token: the error page says why (404)
    challenge = team.challenge
    return render_template(
        "team_join.html", team=team, challenge=challenge, members=members(team),
        current=team_of(g.user.id, challenge.id),
        participation=participation_of(g.user, challenge), card=team_card(challenge, g.user),
        token=token)


@web_bp.post("/teams/join/<token>")
@login_required
def join_team(token: str):
    try:
        team = join(g.user, token)
    except PlatformError as exc:
        flash(exc.message, "error")
        return redirect(url_for("web.team_invite", token=token))
    flash(f"You have joined the team '{team.name}'.", "success")
    return redirect(url_for("web.challenge", slug=team.challenge.slug, _anchor="team"))
