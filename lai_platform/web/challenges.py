"""Challenge pages: list, detail (text, terms, phases, contract), join, data, leaderboard."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from evaluator.metrics import METRICS
from lai_platform import charts
from lai_platform.api.challenges import get_challenge, get_phase, training_data_response
from lai_platform.auth import login_required
from lai_platform.extensions import db
from lai_platform.leaderboard import (
    PER_PAGE,
    count_shown,
    current_part,
    leaderboard_rows,
    shown_metrics,
)
from lai_platform.models import Challenge
from lai_platform.participation import join, participation_of, require_approved
from lai_platform.web import web_bp


@web_bp.get("/")
def index():
    challenges = db.session.scalars(select(Challenge).order_by(Challenge.id)).all()
    return render_template("index.html", challenges=challenges)


@web_bp.get("/scoring")
def scoring():
    from lai_platform import services

    return render_template("scoring.html", metrics=METRICS,
                           resamples=services.get().settings.bootstrap_resamples)


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
    page = max(request.args.get("page", 1, type=int), 1)
    rows = leaderboard_rows(phase, page)
    return render_template(
        "leaderboard.html",
        phase=phase,
        page=page,
        pages=max(1, -(-count_shown(phase) // PER_PAGE)),
        challenge=phase.challenge,
        rows=rows,
        stability_picture=_stability_picture(rows),
        part=current_part(phase),
        ranking_text=ranking_description(phase),
        metric_names=shown_metrics(phase),
        metrics=METRICS,
    )


def _stability_picture(rows):
    entries = [
        {"label": f"#{row.submission.id} {row.submission.user.display_name}", "rank": row.rank,
         "low": row.result.rank_low, "high": row.result.rank_high,
         "hold_probability": row.result.rank_hold_probability}
        for row in rows
        if row.result.rank_low is not None
    ]
    return charts.rank_intervals_svg(entries) if len(entries) >= 2 else None


def ranking_description(phase) -> str:
    """How this phase ranks, in one sentence for participants."""
    primary = METRICS[phase.primary_metric]
    direction = "higher" if primary.higher_is_better else "lower"
    names = ", ".join(METRICS[n].label for n in (phase.ranking_metrics or [phase.primary_metric]))
    return {
        "score": f"Ranked by {primary.label} ({direction} is better).",
        "mean_rank": f"Ranked by the mean of the ranks on {names}.",
        "median_rank": f"Ranked by the median of the ranks on {names}.",
        "case_rank": f"Ranked by the mean over cases of per-case ranks on "
                     f"{(phase.ranking_metrics or ['brier'])[0]} (lower is better).",
        "test_then_rank": f"Ranked by how many entries each one beats significantly on "
                          f"{primary.label} (paired bootstrap, α = {phase.ranking_alpha}).",
    }[phase.ranking_method]
