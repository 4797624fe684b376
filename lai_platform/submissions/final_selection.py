"""Final selection: on a phase whose organizers allow it (`Phase.final_selection_max`, K), a
participant marks up to K of their succeeded submissions; once the phase has closed, only
those count for their entry on the private part (see `leaderboards.ranks.final_candidates`).
A team shares its K: any member may mark or unmark the team's submissions.

Marking takes the participation row's write lock first (as admission does), and the team
row's for a team's submission, then counts afresh: concurrent marks queue there and never
exceed K. Nothing is re-ranked: while the
phase is open the board ranks on the public part, where the selection plays no role.
"""

from __future__ import annotations

from sqlalchemy import select

from lai_platform.errors import NotFound, PlatformError
from lai_platform.extensions import db
from lai_platform.models import Participation, Phase, Submission, SubmissionStatus, Team, User
from lai_platform.models._time import utcnow
from lai_platform.models.locking import lock_rows
from lai_platform.teams.entrants import entrant_submissions, team_id_of


def selected_ids(phase: Phase, user_id: int, team_id: int | None = None) -> list[int]:
    """The entrant's (the team's, else the participant's own) marked submissions of the
    phase, oldest first."""
    return list(db.session.scalars(
        select(Submission.id).where(Submission.phase_id == phase.id,
                                    entrant_submissions(user_id, team_id),
                                    Submission.selected_for_final.is_(True))
        .order_by(Submission.id)))


def mark_for_final(submission_id: int, user: User, selected: bool) -> Submission:
    """Mark (or unmark) one of the user's own or their team's submissions; refused with the
    reason."""
    sub = db.session.get(Submission, submission_id)
    if sub is None or not _is_entrants(sub, user):
        raise NotFound(f"No submission {submission_id} of yours.")
    _check_phase(sub.phase)
    _lock_participant(sub, user)
    db.session.refresh(sub)  # what a concurrent mark left
    if sub.selected_for_final == selected:
        db.session.rollback()
        return sub
    if selected:
        _check_selectable(sub)
        chosen = selected_ids(sub.phase, sub.user_id, sub.team_id)
        limit = sub.phase.final_selection_max
        if len(chosen) >= limit:
            db.session.rollback()
            raise PlatformError(
                "final_selection_full",
                f"You may select at most {limit} submission{'s' if limit != 1 else ''} for the "
                f"final leaderboard of '{sub.phase.title}', and {_listed(chosen)} "
                f"{'is' if len(chosen) == 1 else 'are'} selected: unmark one first.", 409)
    sub.selected_for_final = selected
    db.session.commit()
    return sub


def _check_phase(phase: Phase) -> None:
    if not phase.final_selection_on:
        raise PlatformError(
            "no_final_selection",
            f"The phase '{phase.title}' has no final selection: its leaderboard at close "
            "counts your submissions as its display mode says.", 409)
    if not phase.is_open(utcnow()):
        raise PlatformError(
            "phase_closed",
            f"The phase '{phase.title}' has closed: the final selection can no longer "
            "change.", 409)


def _check_selectable(sub: Submission) -> None:
    why = None
    if sub.status != SubmissionStatus.SUCCEEDED:
        why = f"it is {sub.status}; only succeeded submissions can be selected"
    elif sub.moderation is not None:
        why = f"it was {sub.moderation} by the organizers"
    elif sub.is_baseline:
        why = "it is a baseline"
    if why:
        db.session.rollback()
        raise PlatformError("not_selectable",
                            f"Submission {sub.id} cannot be selected for the final "
                            f"leaderboard: {why}.", 409)


def _is_entrants(sub: Submission, user: User) -> bool:
    """The user's own submission, or one of their team's."""
    return sub.user_id == user.id or (
        sub.team_id is not None and sub.team_id == team_id_of(user.id, sub.phase.challenge_id))


def _lock_participant(sub: Submission, user: User) -> None:
    """One mark at a time per entrant and challenge: the marker's participation row's lock
    (the user row's for someone without one, such as an organizer), then the team row's for
    a team's submission (the order admission and team changes take them in)."""
    if not lock_rows(Participation, Participation.user_id == user.id,
                     Participation.challenge_id == sub.phase.challenge_id):
        lock_rows(User, User.id == user.id)
    if sub.team_id is not None:
        lock_rows(Team, Team.id == sub.team_id)


def _listed(ids: list[int]) -> str:
    names = [f"#{i}" for i in ids]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
