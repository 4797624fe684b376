"""Organizer pages: a challenge's teams (VIEW), and removing a member from one (MANAGE)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from lai_platform.challenges.roles import Permission
from lai_platform.errors import PlatformError
from lai_platform.models import Challenge
from lai_platform.teams.organizing import remove_member, teams_of
from lai_platform.web.organize.access import organizer_page
from lai_platform.web.organize.blueprint import organize_bp


@organize_bp.get("/<slug>/teams", endpoint="teams")
@organizer_page(Permission.VIEW)
def teams_page(challenge: Challenge):
    return render_template("organize/teams.html", challenge=challenge,
                           teams=teams_of(challenge),
                           phases=[(p.slug, p.title) for p in challenge.phases])


@organize_bp.post("/<slug>/teams/<int:team_id>/members/<int:user_id>/remove")
@organizer_page(Permission.MANAGE)
def remove_team_member(challenge: Challenge, team_id: int, user_id: int):
    back = url_for("organize.teams", slug=challenge.slug)
    try:
        removal = remove_member(challenge, team_id, user_id, g.user,
                                request.form.get("reason", ""))
    except PlatformError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")  # e.g. no reason given: nothing changed
        return redirect(back)
    done = f"{removal.member.email} removed from the team '{removal.team_name}'"
    if removal.team is None:
        flash(f"{done}; it had no member left and no submission, so it was deleted.",
              "success")
    else:
        flash(f"{done}; their submissions stay the team's.", "success")
    return redirect(back)
