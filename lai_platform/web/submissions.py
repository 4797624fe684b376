"""Submitting from the browser, and a submission's own page."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from evaluator.metrics import METRICS
from lai_platform.admission import admit
from lai_platform.api.challenges import get_phase
from lai_platform.auth import login_required
from lai_platform.errors import PlatformError
from lai_platform.extensions import db
from lai_platform.models import Submission
from lai_platform.visibility import can_view, is_owner_or_staff, visible_logs
from lai_platform.web import web_bp


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
    return render_template(
        "submission.html",
        sub=sub,
        owner_view=is_owner_or_staff(sub, g.user),
        logs=visible_logs(sub, g.user),
        metrics=METRICS,
    )


@web_bp.get("/my/submissions")
@login_required
def my_submissions():
    subs = db.session.scalars(
        select(Submission).where(Submission.user_id == g.user.id).order_by(Submission.id.desc())
    ).all()
    return render_template("my_submissions.html", submissions=subs)
