"""Challenge pages: list, detail (text, terms, phases, contract), join, training data."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from lai_platform.challenges.lookups import get_challenge
from lai_platform.challenges.overview import (
    challenges_for_home,
    next_step,
    participant_counts,
    phase_state,
)
from lai_platform.challenges.participation import join, participation_of, require_approved
from lai_platform.challenges.training_data import training_data_response
from lai_platform.errors import PlatformError
from lai_platform.models._time import utcnow
from lai_platform.web.auth import login_required
from lai_platform.web.blueprint import web_bp


@web_bp.get("/")
def index():
    now = utcnow()
    return render_template("index.html", challenges=challenges_for_home(),
                           participants=participant_counts(),
                           state=lambda phase: phase_state(phase, now))


@web_bp.get("/challenges/<slug>")
def challenge(slug: str):
    challenge = get_challenge(slug)
    participation = participation_of(g.user, challenge)
    now = utcnow()
    return render_template(
        "challenge.html",
        challenge=challenge,
        participation=participation,
        step=next_step(g.user, challenge, participation, now),
        state=lambda phase: phase_state(phase, now),
    )


@web_bp.post("/challenges/<slug>/join")
@login_required
def join_challenge(slug: str):
    challenge = get_challenge(slug)
    try:
        participation = join(g.user, challenge, request.form.get("accept_terms") == "yes")
    except PlatformError as exc:  # closed, e-mail domain, an earlier rejection or ban
        flash(exc.message, "error")
        return redirect(url_for("web.challenge", slug=slug))
    if participation.status == "approved":
        flash("You have joined the challenge. Good luck!", "success")
    else:
        flash("Your request to join is waiting for the organizers' approval.", "info")
    return redirect(url_for("web.challenge", slug=slug))


@web_bp.get("/challenges/<slug>/training-data")
@login_required
def training_data(slug: str):
    challenge = get_challenge(slug)
    require_approved(g.user, challenge)
    return training_data_response(challenge)
