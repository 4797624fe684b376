"""A phase's submissions, for the challenge's organizers: list with filters, logs and
predictions (VIEW); rerun, hide, disqualify, restore, baseline (REVIEW).

Bodies: {"reason": "..."} to hide or disqualify (required), {"why": "..."} to rerun
(optional), {"baseline": true|false} for baseline (default true). A submission id of another
challenge answers 404.
"""

from __future__ import annotations

from flask import g, jsonify, request

from lai_platform.api.access import organizer_endpoint
from lai_platform.api.blueprint import api_bp
from lai_platform.api.docs import documented
from lai_platform.api.errors import json_object
from lai_platform.api.schemas import (
    BOOL,
    INT,
    PAGE,
    REASON,
    STR,
    array,
    obj,
    optional,
    ref,
    with_keys,
)
from lai_platform.challenges.lookups import phase_in
from lai_platform.challenges.roles import Permission
from lai_platform.errors import PlatformError
from lai_platform.leaderboards.pages import page_number
from lai_platform.models import Challenge, Submission
from lai_platform.submissions import moderation


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value else None


def row_json(sub: Submission) -> dict:
    return {
        "id": sub.id,
        "phase": sub.phase.slug,
        "participant": {"user_id": sub.user_id, "email": sub.user.email,
                        "name": sub.user.display_name},
        "status": sub.status,
        "failure_reason": sub.failure_reason,
        "failure_message": sub.failure_message,
        "counts_against_quota": sub.counts_against_quota,
        "is_baseline": sub.is_baseline,
        "moderation": sub.moderation,
        "moderation_reason": sub.moderation_reason if sub.moderation else None,
        "primary_score": sub.result.primary_score if sub.result else None,
        "rank": sub.result.rank if sub.result else None,
        "attempts": sub.attempts,
        "worker": sub.worker,
        "created_at": _iso(sub.created_at),
        "finished_at": _iso(sub.finished_at),
    }


def _body() -> dict:
    return json_object() if request.get_data() else {}


def _text(body: dict, name: str) -> str:
    value = body.get(name) or ""
    if not isinstance(value, str):
        raise PlatformError(f"bad_{name}", f"`{name}` must be text.", 400)
    return value


@api_bp.get("/challenges/<slug>/phases/<phase_slug>/submissions")
@documented({200: obj({"phase": STR, "total": INT, "page": INT, "pages": INT,
                       "per_page": INT,
                       "submissions": array(ref("ModeratedSubmission"))})},
            query={"page": PAGE, "per_page": PAGE, "status": STR, "reason": STR,
                   "participant": STR, "since": STR, "until": STR})
@organizer_endpoint(Permission.VIEW)
def phase_submissions(challenge: Challenge, phase_slug: str):
    phase = phase_in(challenge, phase_slug)
    per_page = min(max(request.args.get("per_page", moderation.PER_PAGE, type=int), 1), 500)
    found = moderation.list_submissions(phase, moderation.parse_filters(request.args),
                                        page_number(request.args.get("page")), per_page)
    return jsonify({"phase": phase.slug, "total": found.total, "page": found.page,
                    "pages": found.pages, "per_page": found.per_page,
                    "submissions": [row_json(sub) for sub in found.items]})


@api_bp.get("/challenges/<slug>/submissions/<int:submission_id>/logs")
@documented({200: obj({"id": INT, "status": STR, "logs": STR})})
@organizer_endpoint(Permission.VIEW)
def submission_logs(challenge: Challenge, submission_id: int):
    sub = moderation.find_submission(challenge, submission_id)
    return jsonify({"id": sub.id, "status": sub.status, "logs": sub.logs or ""})


@api_bp.get("/challenges/<slug>/submissions/<int:submission_id>/predictions")
@documented({200: {"description": "the predictions file the run wrote"}})
@organizer_endpoint(Permission.VIEW)
def submission_predictions(challenge: Challenge, submission_id: int):
    return moderation.predictions_response(moderation.find_submission(challenge, submission_id))


ANSWER = with_keys("ModeratedSubmission", {"changed": BOOL})


def _answer(sub: Submission, changed: bool):
    return jsonify({**row_json(sub), "changed": changed})


@api_bp.post("/challenges/<slug>/submissions/<int:submission_id>/rerun")
@documented({202: ANSWER}, request=optional({"why": STR}), required=False)
@organizer_endpoint(Permission.REVIEW)
def rerun_submission(challenge: Challenge, submission_id: int):
    sub = moderation.find_submission(challenge, submission_id)
    changed = moderation.rerun(sub, g.user, _text(_body(), "why"))
    return _answer(sub, changed), 202


def _moderate(challenge: Challenge, submission_id: int, action: str):
    sub = moderation.find_submission(challenge, submission_id)
    changed = moderation.moderate(sub, action, g.user, _text(_body(), "reason"))
    return _answer(sub, changed)


@api_bp.post("/challenges/<slug>/submissions/<int:submission_id>/hide")
@documented({200: ANSWER}, request=REASON, required=False)
@organizer_endpoint(Permission.REVIEW)
def hide_submission(challenge: Challenge, submission_id: int):
    return _moderate(challenge, submission_id, "hide")


@api_bp.post("/challenges/<slug>/submissions/<int:submission_id>/disqualify")
@documented({200: ANSWER}, request=REASON, required=False)
@organizer_endpoint(Permission.REVIEW)
def disqualify_submission(challenge: Challenge, submission_id: int):
    return _moderate(challenge, submission_id, "disqualify")


@api_bp.post("/challenges/<slug>/submissions/<int:submission_id>/restore")
@documented({200: ANSWER}, request=REASON, required=False)
@organizer_endpoint(Permission.REVIEW)
def restore_submission(challenge: Challenge, submission_id: int):
    return _moderate(challenge, submission_id, "restore")


@api_bp.post("/challenges/<slug>/submissions/<int:submission_id>/baseline")
@documented({200: ANSWER}, request=optional({"baseline": BOOL}), required=False)
@organizer_endpoint(Permission.REVIEW)
def baseline_submission(challenge: Challenge, submission_id: int):
    sub = moderation.find_submission(challenge, submission_id)
    baseline = _body().get("baseline", True)
    if not isinstance(baseline, bool):
        raise PlatformError("bad_baseline", "`baseline` must be true or false.", 400)
    return _answer(sub, moderation.set_baseline(sub, baseline, g.user))
