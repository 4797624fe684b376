"""Who sees what of a submission. Logs may carry test data: shown only where the phase allows."""

from __future__ import annotations

from lai_platform.challenges.roles import Permission, can
from lai_platform.extensions import db
from lai_platform.leaderboards.parts import current_part
from lai_platform.models import Dataset, Submission, SubmissionStatus, User
from lai_platform.scoring.history import history_of
from lai_platform.teams.entrants import team_id_of


def is_staff(viewer: User | None, submission: Submission) -> bool:
    """An organizer of the submission's challenge (any role) or a platform admin."""
    return can(viewer, submission.phase.challenge, Permission.VIEW)


def is_owner(submission: Submission, viewer: User | None) -> bool:
    """Its participant, or a member of the team it was made for: teammates see each other's
    submissions as their own."""
    if viewer is None:
        return False
    return viewer.id == submission.user_id or (
        submission.team_id is not None
        and team_id_of(viewer.id, submission.phase.challenge_id) == submission.team_id)


def is_owner_or_staff(submission: Submission, viewer: User | None) -> bool:
    return is_owner(submission, viewer) or is_staff(viewer, submission)


def can_view(submission: Submission, viewer: User | None) -> bool:
    # Succeeded submissions are public: their leaderboard row links to them. A hidden or
    # disqualified one is off the board: only its owner and the organizers see it.
    public = submission.status == SubmissionStatus.SUCCEEDED and submission.moderation is None
    return public or is_owner_or_staff(submission, viewer)


def visible_logs(submission: Submission, viewer: User | None) -> str | None:
    if viewer is None or not submission.logs:
        return None
    if is_staff(viewer, submission):
        return submission.logs
    if submission.phase.logs_visible and is_owner(submission, viewer):
        return submission.logs
    return None


SUBGROUP_KEYS = ("per_centre", "per_size_band", "per_diagnosis", "n_unknown_size")


def may_see_subgroups(submission: Submission, viewer: User | None) -> bool:
    """Per-centre, size-band and per-diagnosis results describe small groups of hidden
    cases: shown only where the phase allows it, and to organizers."""
    if submission.phase.case_results_visible:
        return True
    return is_staff(viewer, submission)


def metrics_for_viewer(metrics: dict | None, submission: Submission, viewer: User | None):
    if metrics is None or may_see_subgroups(submission, viewer):
        return metrics
    return {k: v for k, v in metrics.items() if k not in SUBGROUP_KEYS}


def visible_history(submission: Submission, viewer: User | None) -> list[dict]:
    """The submission's earlier scores, oldest first: when, on which dataset version, why
    replaced. The score is on all cases: hidden from all but organizers while the board
    shows only the public part (it would tell about the hidden cases)."""
    hide = current_part(submission.phase) == "public" and not is_staff(viewer, submission)
    rows = []
    for entry in history_of(submission):
        dataset = db.session.get(Dataset, entry.dataset_id) if entry.dataset_id else None
        rows.append({
            "dataset_id": entry.dataset_id,
            "dataset": f"{dataset.name} v{dataset.version}" if dataset else None,
            "metric": submission.phase.primary_metric,
            "primary_score": None if hide else entry.primary_score,
            "scored_at": entry.scored_at, "replaced_at": entry.replaced_at, "why": entry.why,
        })
    return rows
