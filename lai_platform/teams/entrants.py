"""Who an entry belongs to: a team, or a participant on their own (no Flask here).

Quotas, final marks and leaderboard rows are per entrant: a team's members share them.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select

from lai_platform.extensions import db
from lai_platform.models import Submission, Team, TeamMember


def team_of(user_id: int, challenge_id: int) -> Team | None:
    """The user's team in the challenge (a person is in one team per challenge at most)."""
    return db.session.scalar(
        select(Team).join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.user_id == user_id, TeamMember.challenge_id == challenge_id))


def team_id_of(user_id: int, challenge_id: int) -> int | None:
    return db.session.scalar(
        select(TeamMember.team_id)
        .where(TeamMember.user_id == user_id, TeamMember.challenge_id == challenge_id))


def entrant_submissions(user_id: int, team_id: int | None) -> ColumnElement[bool]:
    """The condition on Submission for one entrant: the team's, else the user's own solo
    ones (a submission made before joining a team moves into it on joining)."""
    if team_id is not None:
        return Submission.team_id == team_id
    return (Submission.user_id == user_id) & Submission.team_id.is_(None)


def entrant_key(user_id: int, team_id: int | None) -> tuple[str, int]:
    """A key that is the same for every entry of one entrant."""
    return ("team", team_id) if team_id is not None else ("user", user_id)
