"""Organizer pages: a phase's submissions with filters (VIEW), one submission with its logs
and score history (VIEW), its predictions (VIEW), and the actions on it (REVIEW)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from lai_platform.challenges.lookups import phase_in
from lai_platform.challenges.roles import Permission
from lai_platform.errors import PlatformError
from lai_platform.leaderboards.pages import page_number
from lai_platform.models import Challenge, SubmissionStatus
from lai_platform.runner.base import FailureReason
from lai_platform.scoring.history import history_of
from lai_platform.submissions import moderation
from lai_platform.web.organize.access import organizer_page
from lai_platform.web.organize.blueprint import organize_bp


@organize_bp.get("/<slug>/submissions", endpoint="submissions")
@organizer_page(Permission.VIEW)
def submissions_page(challenge: Challenge):
    phase_slug = request.args.get("phase")
    phase = phase_in(challenge, phase_slug) if phase_slug else next(iter(challenge.phases), None)
    try:
        filters = moderation.parse_filters(request.args)
    except PlatformError as exc:  # a mistyped date: say so, show the phase unfiltered
        flash(exc.message, "error")
        filters = moderation.Filters()
    found = (moderation.list_submissions(phase, filters, page_number(request.args.get("page")))
             if phase else None)
    return render_template("organize/submissions.html", challenge=challenge, phase=phase,
                           found=found, args=request.args, statuses=list(SubmissionStatus),
                           reasons=[str(r) for r in FailureReason])


@organize_bp.get("/<slug>/submissions/<int:submission_id>", endpoint="submission")
@organizer_page(Permission.VIEW)
def submission_page(challenge: Challenge, submission_id: int):
    sub = moderation.find_submission(challenge, submission_id)
    return render_template("organize/submission.html", challenge=challenge, sub=sub,
                           history=history_of(sub))


@organize_bp.get("/<slug>/submissions/<int:submission_id>/predictions")
@organizer_page(Permission.VIEW)
def submission_predictions(challenge: Challenge, submission_id: int):
    return moderation.predictions_response(moderation.find_submission(challenge, submission_id))


def _act(challenge: Challenge, submission_id: int, action: str):
    sub = moderation.find_submission(challenge, submission_id)
    back = redirect(url_for("organize.submission", slug=challenge.slug,
                            submission_id=submission_id))
    try:
        if action == "rerun":
            moderation.rerun(sub, g.user, request.form.get("why", ""))
            flash(f"Submission {sub.id} is queued to run again; its earlier score is kept in "
                  "its history.", "success")
        elif action == "baseline":
            on = request.form.get("baseline", "yes") == "yes"
            changed = moderation.set_baseline(sub, on, g.user)
            flash(f"Submission {sub.id} {'is' if on else 'is not'} a baseline"
                  f"{'' if changed else ' (it already was so)'}.", "success")
        else:
            changed = moderation.moderate(sub, action, g.user, request.form.get("reason", ""))
            flash(f"Submission {sub.id}: {action} done." if changed
                  else f"Submission {sub.id}: nothing to change.", "success")
    except PlatformError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
    return back


@organize_bp.post("/<slug>/submissions/<int:submission_id>/rerun")
@organizer_page(Permission.REVIEW)
def rerun_submission(challenge: Challenge, submission_id: int):
    return _act(challenge, submission_id, "rerun")


@organize_bp.post("/<slug>/submissions/<int:submission_id>/hide")
@organizer_page(Permission.REVIEW)
def hide_submission(challenge: Challenge, submission_id: int):
    return _act(challenge, submission_id, "hide")


@organize_bp.post("/<slug>/submissions/<int:submission_id>/disqualify")
@organizer_page(Permission.REVIEW)
def disqualify_submission(challenge: Challenge, submission_id: int):
    return _act(challenge, submission_id, "disqualify")


@organize_bp.post("/<slug>/submissions/<int:submission_id>/restore")
@organizer_page(Permission.REVIEW)
def restore_submission(challenge: Challenge, submission_id: int):
    return _act(challenge, submission_id, "restore")


@organize_bp.post("/<slug>/submissions/<int:submission_id>/baseline")
@organizer_page(Permission.REVIEW)
def baseline_submission(challenge: Challenge, submission_id: int):
    return _act(challenge, submission_id, "baseline")
