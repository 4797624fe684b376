"""Challenge pages: list, detail (text, terms, phases, contract), join, data, leaderboard."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from evaluator.metrics import METRICS
from lai_platform.api.challenges import get_challenge, get_phase, training_data_response
from lai_platform.auth import login_required
from lai_platform.extensions import db
from lai_platform.leaderboard import leaderboard_rows, shown_metrics
from lai_platform.models import Challenge
from lai_platform.participation import join, participation_of, require_approved
from lai_platform.web import web_bp


@web_bp.get("/")
def index():
    challenges = db.session.scalars(select(Challenge).order_by(Challenge.id)).all()
    return render_template("index.html", challenges=challenges)


@web_bp.get("/challenges/<slug>")
def challenge(slug: str):
    challenge = get_challenge(slug)
    return render_template(
        "challenge.html",
        challenge=challenge,
        participation=participation_of(g.user, challenge),
    )


@web_bp.post("/challenges/<slug>/join")
@login_required
def join_challenge(slug: str):
    challenge = get_challenge(slug)
    part = join(g.user, challenge, request.form.get("accept_terms") == "yes")
    if part.status == "approved":
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


@web_bp.get("/challenges/<slug>/phases/<phase_slug>/leaderboard")
def leaderboard(slug: str, phase_slug: str):
    phase = get_phase(slug, phase_slug)
    return render_template(
        "leaderboard.html",
        phase=phase,
        challenge=phase.challenge,
        rows=leaderboard_rows(phase),
        metric_names=shown_metrics(phase),
        metrics=METRICS,
    )
