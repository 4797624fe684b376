"""Organizer pages: a challenge's participants (VIEW), and deciding on them (REVIEW)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from lai_platform.challenges.review import DECISIONS, PER_PAGE, STATUSES, decide, participants
from lai_platform.challenges.roles import Permission
from lai_platform.errors import PlatformError
from lai_platform.leaderboards.pages import page_number
from lai_platform.models import Challenge
from lai_platform.teams.organizing import team_names
from lai_platform.web.organize.access import organizer_page
from lai_platform.web.organize.blueprint import organize_bp

DONE = {"approve": "approved", "reject": "rejected", "ban": "banned"}


@organize_bp.get("/<slug>/participants", endpoint="participants")
@organizer_page(Permission.VIEW)
def participants_page(challenge: Challenge):
    status = request.args.get("status") or None
    page = page_number(request.args.get("page"))
    rows, total = participants(challenge, status, page)
    return render_template("organize/participants.html", challenge=challenge, rows=rows,
                           teams=team_names(challenge, [row.user_id for row in rows]),
                           total=total, page=page, pages=max(1, -(-total // PER_PAGE)),
                           status=status, statuses=STATUSES, decisions=tuple(DECISIONS))


def _decide(challenge: Challenge, user_id: int, action: str):
    back = url_for("organize.participants", slug=challenge.slug,
                   status=request.form.get("back_status") or None)
    try:
        decision = decide(challenge, user_id, action, g.user, request.form.get("reason", ""))
    except PlatformError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")  # e.g. no reason given: nothing changed
        return redirect(back)
    who = decision.participant.email
    if decision.changed:
        flash(f"{who}: {DONE[action]}.", "success")
    else:
        flash(f"{who} was already {DONE[action]}: nothing changed.", "info")
    return redirect(back)


@organize_bp.post("/<slug>/participants/<int:user_id>/approve")
@organizer_page(Permission.REVIEW)
def approve_participant(challenge: Challenge, user_id: int):
    return _decide(challenge, user_id, "approve")


@organize_bp.post("/<slug>/participants/<int:user_id>/reject")
@organizer_page(Permission.REVIEW)
def reject_participant(challenge: Challenge, user_id: int):
    return _decide(challenge, user_id, "reject")


@organize_bp.post("/<slug>/participants/<int:user_id>/ban")
@organizer_page(Permission.REVIEW)
def ban_participant(challenge: Challenge, user_id: int):
    return _decide(challenge, user_id, "ban")
