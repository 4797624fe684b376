"""Teams as the organizers see them: every team of a challenge with its members and its
submissions per phase, and removing a member (MANAGE; no Flask here).

Every id an organizer URL names is looked up *within* the challenge of the URL (as
challenges.lookups does): a team or person of another challenge is "not found".

A removed member's submissions stay the team's: they were made as its entries, they count
against its quotas and stand on its leaderboard row. A team left empty is deleted only when
it has no submissions (its entries keep their team). Organizers may remove a member after
team changes have closed: a rule breach does not wait for the calendar.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from lai_platform.audit import record
from lai_platform.challenges.lookups import MAX_ID
from lai_platform.challenges.review import REASON_MAX
from lai_platform.errors import NotFound, PlatformError
from lai_platform.extensions import db
from lai_platform.models import Challenge, Participation, Phase, Submission, Team, TeamMember, User
from lai_platform.models.locking import lock_rows


@dataclass(frozen=True)
class MemberRow:
    user_id: int
    name: str
    email: str

    def to_json(self) -> dict:
        return {"user_id": self.user_id, "name": self.name, "email": self.email}


@dataclass(frozen=True)
class TeamRow:
    id: int
    name: str
    created_at: datetime
    members: list[MemberRow]
    submissions: dict[str, int]  # phase slug → the team's submissions there, in phase order

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name,
                "members": [m.to_json() for m in self.members],
                "submissions": self.submissions,
                "created_at": self.created_at.isoformat() + "Z"}


@dataclass(frozen=True)
class Removal:
    team: TeamRow | None  # None: the team was left empty without submissions, and deleted
    member: MemberRow
    team_name: str


def teams_of(challenge: Challenge, only: int | None = None) -> list[TeamRow]:
    """The challenge's teams by name (or team ONLY), each with its members (in joining
    order) and its submission count per phase (every phase named, 0 included). Three
    queries in all, however many teams."""
    where = [Team.challenge_id == challenge.id] + ([Team.id == only] if only else [])
    teams = db.session.execute(select(Team.id, Team.name, Team.created_at).where(*where)
                               .order_by(func.lower(Team.name), Team.id)).all()
    members = _members_by_team(challenge, only) if teams else {}
    counts = _submission_counts(challenge, only) if teams else {}
    slugs = [phase.slug for phase in challenge.phases]
    return [TeamRow(row.id, row.name, row.created_at, members.get(row.id, []),
                    {slug: counts.get((row.id, slug), 0) for slug in slugs})
            for row in teams]


def team_names(challenge: Challenge, user_ids: list[int]) -> dict[int, tuple[int, str]]:
    """user id → (team id, team name), for those of USER_IDS who are in a team here."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(TeamMember.user_id, Team.id, Team.name)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.challenge_id == challenge.id, TeamMember.user_id.in_(user_ids)))
    return {user_id: (team_id, name) for user_id, team_id, name in rows}


def team_in(challenge: Challenge, team_id: int) -> Team:
    """The team if it is one of this challenge's; 404 otherwise (never across)."""
    team = None if not 0 < team_id <= MAX_ID else db.session.scalar(
        select(Team).where(Team.id == team_id, Team.challenge_id == challenge.id))
    if team is None:
        raise NotFound(f"No team {team_id} in challenge '{challenge.slug}'.")
    return team


def remove_member(challenge: Challenge, team_id: int, user_id: int, actor: User | None,
                  reason: str) -> Removal:
    """Take USER_ID out of the team, with a reason; the change and its audit event are
    committed together. The person's submissions stay the team's."""
    reason = _checked_reason(reason)
    team = team_in(challenge, team_id)
    # The order membership.py takes its locks in: the person's participation, then the team.
    lock_rows(Participation, Participation.user_id == user_id,
              Participation.challenge_id == challenge.id)
    lock_rows(Team, Team.id == team.id)
    member = _member_of(team, user_id)
    db.session.execute(delete(TeamMember).where(TeamMember.team_id == team.id,
                                                TeamMember.user_id == member.user_id))
    left = db.session.scalar(select(func.count(TeamMember.id))
                             .where(TeamMember.team_id == team.id)) or 0
    deleted = left == 0 and not _has_submissions(team)
    record(actor, challenge, "team.remove_member", member.email,
           {"team_id": team.id, "team": team.name, "user_id": member.user_id},
           {"reason": reason, "team_deleted": deleted})
    name = team.name
    if deleted:
        db.session.delete(team)
    else:
        # A new invite link: the removed person cannot rejoin with the one they hold.
        team.invite_token = secrets.token_urlsafe(32)
    db.session.commit()
    return Removal(None if deleted else teams_of(challenge, team_id)[0], member, name)


def _member_of(team: Team, user_id: int) -> MemberRow:
    row = None if not 0 < user_id <= MAX_ID else db.session.execute(
        select(User.id, User.display_name, User.email)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team.id, TeamMember.user_id == user_id)).first()
    if row is None:
        db.session.rollback()
        raise NotFound(f"User {user_id} is not a member of the team '{team.name}'.")
    return MemberRow(*row)


def _checked_reason(reason: str | None) -> str:
    reason = str(reason or "").strip()
    if not reason:
        raise PlatformError("reason_required", "Give a reason to remove a member: it goes "
                            "into the audit log.", 400)
    if len(reason) > REASON_MAX:
        raise PlatformError("reason_too_long", f"The reason has {len(reason)} characters; "
                            f"at most {REASON_MAX}.", 400)
    return reason


def _members_by_team(challenge: Challenge, only: int | None) -> dict[int, list[MemberRow]]:
    found: dict[int, list[MemberRow]] = defaultdict(list)
    where = [TeamMember.challenge_id == challenge.id] + (
        [TeamMember.team_id == only] if only else [])
    rows = db.session.execute(
        select(TeamMember.team_id, User.id, User.display_name, User.email)
        .join(User, User.id == TeamMember.user_id).where(*where)
        .order_by(TeamMember.joined_at, TeamMember.id))
    for team_id, *member in rows:
        found[team_id].append(MemberRow(*member))
    return found


def _submission_counts(challenge: Challenge, only: int | None) -> dict[tuple[int, str], int]:
    """(team id, phase slug) → how many submissions the team made there, any state."""
    team = Submission.team_id == only if only else Submission.team_id.is_not(None)
    rows = db.session.execute(
        select(Submission.team_id, Phase.slug, func.count(Submission.id))
        .join(Phase, Phase.id == Submission.phase_id)
        .where(Phase.challenge_id == challenge.id, team)
        .group_by(Submission.team_id, Phase.slug))
    return {(team_id, slug): n for team_id, slug, n in rows}


def _has_submissions(team: Team) -> bool:
    return db.session.scalar(select(Submission.id).where(Submission.team_id == team.id)
                             .limit(1)) is not None
