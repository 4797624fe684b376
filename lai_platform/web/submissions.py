"""Submitting from the browser, and a submission's own page."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from evaluator import METRICS
from lai_platform.challenges.lookups import get_phase
from lai_platform.errors import PlatformError
from lai_platform.extensions import db
from lai_platform.leaderboards.parts import current_part, visible_curves, visible_metrics
from lai_platform.models import Submission
from lai_platform.submissions.admission import admit
from lai_platform.submissions.visibility import (
    can_view,
    is_owner_or_staff,
    may_see_subgroups,
    visible_logs,
)
from lai_platform.web import charts
from lai_platform.web.auth import login_required
from lai_platform.web.blueprint import web_bp


@web_bp.route("/challenges/<slug>/phases/<phase_slug>/submit", methods=("GET", "POST"))
@login_required
def submit(slug: str, phase_slug: str):
    phase = get_phase(slug, phase_slug)
    if request.method == "POST":
        upload = request.files.get("image")
        if upload is None or not upload.filename:
            flash("Choose the .tar file that `docker save` wrote.", "error")
        else:
            try:
                sub = admit(g.user, phase, upload.stream, request.form.get("comment", ""))
            except PlatformError as exc:
                flash(exc.message, "error")
            else:
                flash("Submission received: it is queued to run.", "success")
                return redirect(url_for("web.submission", submission_id=sub.id))
    return render_template("submit.html", phase=phase, challenge=phase.challenge)


@web_bp.get("/submissions/<int:submission_id>")
def submission(submission_id: int):
    sub = db.session.get(Submission, submission_id)
    if sub is None or not can_view(sub, g.user):
        abort(404)
    owner_view = is_owner_or_staff(sub, g.user)
    return render_template(
        "submission.html",
        sub=sub,
        owner_view=owner_view,
        logs=visible_logs(sub, g.user),
        metrics=METRICS,
        part=current_part(sub.phase),
        pictures=_pictures(sub) if sub.result else None,
        shown=visible_metrics(sub.result, sub.phase) if sub.result else None,
        subgroups=sub.result is not None and may_see_subgroups(sub, g.user),
    )


def _pictures(sub: Submission) -> dict:
    curves = visible_curves(sub.result, sub.phase) or {}
    matrix = visible_metrics(sub.result, sub.phase).get("confusion_matrix") or {}
    return {
        "roc": charts.roc_svg(curves.get("roc")),
        "reliability": charts.reliability_svg(curves.get("reliability")),
        "confusion": charts.confusion_matrix_svg(matrix.get("classes"), matrix.get("counts")),
    }


@web_bp.get("/my/submissions")
@login_required
def my_submissions():
    subs = db.session.scalars(
        select(Submission).where(Submission.user_id == g.user.id).order_by(Submission.id.desc())
    ).all()
    return render_template("my_submissions.html", submissions=subs)
