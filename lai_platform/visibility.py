"""Who sees what of a submission. Logs may carry test data: shown only where the phase allows."""

from __future__ import annotations

from lai_platform.models import Submission, SubmissionStatus, User


def is_owner_or_staff(submission: Submission, viewer: User | None) -> bool:
    if viewer is None:
        return False
    return viewer.id == submission.user_id or viewer.is_admin or viewer.is_organizer


def can_view(submission: Submission, viewer: User | None) -> bool:
    # Succeeded submissions are public: their leaderboard row links to them.
    return submission.status == SubmissionStatus.SUCCEEDED or is_owner_or_staff(
        submission, viewer
    )


def visible_logs(submission: Submission, viewer: User | None) -> str | None:
    if viewer is None or not submission.logs:
        return None
    if viewer.is_admin or viewer.is_organizer:
        return submission.logs
    if viewer.id == submission.user_id and submission.phase.logs_visible:
        return submission.logs
    return None
