"""Submissions: create (upload a `docker save` tarball), show."""

from __future__ import annotations

from flask import g, jsonify, request

from lai_platform.api.auth import token_or_session, token_required
from lai_platform.api.blueprint import api_bp
from lai_platform.api.docs import MULTIPART, documented
from lai_platform.api.schemas import FINAL_SELECTION, STR, SUBMISSION_CREATED, UPLOAD, ref
from lai_platform.challenges.lookups import get_phase
from lai_platform.errors import NotFound, PlatformError
from lai_platform.extensions import db
from lai_platform.jobs.gpu_wait import waiting_for
from lai_platform.leaderboards.exports import rank_interval_json
from lai_platform.leaderboards.parts import current_part, visible_metrics
from lai_platform.models import Submission, User
from lai_platform.submissions.admission import admit_body
from lai_platform.submissions.final_selection import mark_for_final
from lai_platform.submissions.queue_position import standing
from lai_platform.submissions.visibility import (
    can_view,
    is_owner_or_staff,
    is_staff,
    metrics_for_viewer,
    visible_history,
    visible_logs,
)


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value else None


def submission_json(sub: Submission, viewer: User | None) -> dict:
    place = standing(sub)
    data = {
        "id": sub.id,
        "challenge": sub.phase.challenge.slug,
        "phase": sub.phase.slug,
        "participant": sub.user.display_name,
        "team": sub.team.name if sub.team else None,  # the entrant it counts for
        "status": sub.status,
        "created_at": _iso(sub.created_at),
        "started_at": _iso(sub.started_at),
        "finished_at": _iso(sub.finished_at),
        "image_id": sub.image.image_id,
        "is_baseline": sub.is_baseline,
        "waiting_for": waiting_for(sub),  # e.g. "waiting for a GPU worker"; None: its turn
        # Runs ahead of it in its queue (queued before it, or running); None unless queued.
        "queue_position": place.position,
        "expected_start": _iso(place.expected_start),  # an estimate; None: no basis
        "metrics": metrics_for_viewer(
            visible_metrics(sub.result, sub.phase) if sub.result else None, sub, viewer
        ),
        "scored_on": current_part(sub.phase) if sub.result else None,
        "rank": sub.result.rank if sub.result else None,
        "rank_interval": rank_interval_json(sub.result),
        "dataset_id": sub.result.dataset_id if sub.result else None,
        # Earlier scores (a rerun, a new dataset version), oldest first.
        "history": [h | {"scored_at": _iso(h["scored_at"]),
                         "replaced_at": _iso(h["replaced_at"])}
                    for h in visible_history(sub, viewer)],
    }
    if is_owner_or_staff(sub, viewer):
        data |= {
            "comment": sub.comment,
            "failure_reason": sub.failure_reason,
            "failure_message": sub.failure_message,
            "counts_against_quota": sub.counts_against_quota,
            "logs_visible": sub.phase.logs_visible,
            "logs": visible_logs(sub, viewer),
            "run_seconds": sub.run_seconds,
            # Hidden or disqualified by the organizers, and why (None: not moderated).
            "moderation": sub.moderation,
            "moderation_reason": sub.moderation_reason if sub.moderation else None,
            # Marked to count for the private leaderboard at close (of at most K; None: off).
            "selected_for_final": sub.selected_for_final,
            "final_selection_max": (sub.phase.final_selection_max
                                    if sub.phase.final_selection_on else None),
        }
    if is_staff(viewer, sub):
        data["worker"] = sub.worker  # which worker ran it: organizers only
    if is_staff(viewer, sub) and sub.result:
        data["metrics_all_cases"] = sub.result.metrics
    return data


@api_bp.post("/challenges/<slug>/phases/<phase_slug>/submissions")
@documented({202: SUBMISSION_CREATED}, request=UPLOAD, request_type=MULTIPART,
            query={"comment": STR})
@token_required
def create_submission(slug: str, phase_slug: str):
    # Refused at once (401, 403, 413, 429) before a byte of the body is read.
    submission = admit_body(g.user, get_phase(slug, phase_slug), request.stream,
                            request.content_type, request.content_length,
                            request.args.get("comment", ""))
    return jsonify({"id": submission.id, "status": submission.status}), 202


@api_bp.get("/submissions/<int:submission_id>")
@documented({200: ref("Submission")})
@token_or_session  # the submission page polls it with the session cookie
def show_submission(submission_id: int):
    sub = db.session.get(Submission, submission_id)
    if sub is None or not can_view(sub, g.user):
        raise NotFound(f"No submission {submission_id} that you can see.")
    return jsonify(submission_json(sub, g.user))


@api_bp.post("/submissions/<int:submission_id>/final-selection")
@documented({200: ref("Submission")}, request=FINAL_SELECTION)
@token_required
def final_selection(submission_id: int):
    """{"selected": true|false}: mark one's own submission for the final leaderboard."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("selected"), bool):
        raise PlatformError("bad_request", 'Send {"selected": true} or {"selected": false}.',
                            400)
    sub = mark_for_final(submission_id, g.user, body["selected"])
    return jsonify(submission_json(sub, g.user))
