"""Submitting from the browser, and a submission's own page."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from evaluator import METRICS
from lai_platform.challenges.lookups import get_phase
from lai_platform.challenges.tasks import task_of
from lai_platform.errors import PlatformError
from lai_platform.extensions import csrf, db
from lai_platform.jobs.gpu_wait import waiting_for
from lai_platform.leaderboards.parts import current_part, visible_curves, visible_metrics
from lai_platform.models import Submission, TeamMember
from lai_platform.models._time import utcnow
from lai_platform.submissions.admission import admit_body
from lai_platform.submissions.final_selection import mark_for_final, selected_ids
from lai_platform.submissions.queue_position import standing
from lai_platform.submissions.visibility import (
    can_view,
    is_owner,
    is_owner_or_staff,
    may_see_subgroups,
    visible_history,
    visible_logs,
)
from lai_platform.web import charts
from lai_platform.web.auth import login_required
from lai_platform.web.blueprint import web_bp
from lai_platform.web.security import valid_csrf


@web_bp.get("/challenges/<slug>/phases/<phase_slug>/submit")
@login_required
def submit(slug: str, phase_slug: str):
    phase = get_phase(slug, phase_slug)
    return render_template("submit.html", phase=phase, challenge=phase.challenge)


@web_bp.post("/challenges/<slug>/phases/<phase_slug>/submit")
@csrf.exempt  # checked as the form streams in: the token field must precede the image
@login_required
def upload(slug: str, phase_slug: str):
    try:
        sub = admit_body(g.user, get_phase(slug, phase_slug), request.stream,
                         request.content_type, request.content_length,
                         check_field=csrf_before_file())
    except PlatformError as exc:
        flash(exc.message, "error")
        return redirect(url_for("web.submit", slug=slug, phase_slug=phase_slug))
    flash("Submission received: it is queued to run.", "success")
    return redirect(url_for("web.submission", submission_id=sub.id))


def csrf_before_file() -> Callable[[str, str | None], None]:
    """A streamed form's check: its CSRF token must come before any file (value None)."""
    checked = valid_csrf(request.headers.get("X-CSRFToken"))

    def check(name: str, value: str | None) -> None:
        nonlocal checked
        if name == "csrf_token" and not checked:
            if not valid_csrf(value):
                raise _stale_form()
            checked = True
        elif value is None and not checked:
            raise _stale_form()

    return check


_csrf_before_image = csrf_before_file  # the name other modules imported first


def _stale_form() -> PlatformError:
    return PlatformError("csrf_failed", "The form has expired or was not sent from this site: "
                         "reload the page and submit again.", 400)


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
        history=visible_history(sub, g.user),
        task=task_of(sub.phase.challenge),
        waiting_for=waiting_for(sub),
        place=standing(sub),
        final_selected=(selected_ids(sub.phase, sub.user_id, sub.team_id)
                        if owner_view and sub.phase.final_selection_on else None),
        selection_open=sub.phase.is_open(utcnow()),
        may_mark=is_owner(sub, g.user),  # its participant or a teammate
    )


@web_bp.post("/submissions/<int:submission_id>/final-selection")
@login_required
def final_selection(submission_id: int):
    selected = request.form.get("selected") == "1"
    try:
        mark_for_final(submission_id, g.user, selected)
    except PlatformError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "error")
    else:
        flash("Selected for the final leaderboard." if selected
              else "No longer selected for the final leaderboard.", "success")
    return redirect(url_for("web.submission", submission_id=submission_id))


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
    # Their own, and their teams' (a teammate's submissions are the team's, and theirs).
    teams = select(TeamMember.team_id).where(TeamMember.user_id == g.user.id)
    subs = db.session.scalars(
        select(Submission).where(or_(Submission.user_id == g.user.id,
                                     Submission.team_id.in_(teams)))
        .order_by(Submission.id.desc())
    ).all()
    return render_template("my_submissions.html", submissions=subs)
