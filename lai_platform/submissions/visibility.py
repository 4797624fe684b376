"""Who sees what of a submission. Logs may carry test data: shown only where the phase allows."""

from __future__ import annotations

from lai_platform.challenges.roles import Permission, can
from lai_platform.models import Submission, SubmissionStatus, User


def is_staff(viewer: User | None, submission: Submission) -> bool:
    """An organizer of the submission's challenge (any role) or a platform admin."""
    return can(viewer, submission.phase.challenge, Permission.VIEW)


def is_owner_or_staff(submission: Submission, viewer: User | None) -> bool:
    return (viewer is not None and viewer.id == submission.user_id) or is_staff(
        viewer, submission
    )


def can_view(submission: Submission, viewer: User | None) -> bool:
    # Succeeded submissions are public: their leaderboard row links to them.
    return submission.status == SubmissionStatus.SUCCEEDED or is_owner_or_staff(
        submission, viewer
    )


def visible_logs(submission: Submission, viewer: User | None) -> str | None:
    if viewer is None or not submission.logs:
        return None
    if is_staff(viewer, submission):
        return submission.logs
    if viewer.id == submission.user_id and submission.phase.logs_visible:
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
