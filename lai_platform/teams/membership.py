"""Teams: create one, join one by its invite link, renew that link, leave one (no Flask
here).

Every change takes the person's participation row's write lock, then the team row's, in that
order (as admission does): a join and the joiner's own upload, or two joins for the last
place, queue there and read afresh what the one before them left. Team changes close at
the time the organizers set (`Challenge.team_changes_close_at`).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from lai_platform.audit import record
from lai_platform.challenges.participation import require_approved
from lai_platform.errors import NotFound, PlatformError, conflict
from lai_platform.extensions import db
from lai_platform.models import Challenge, Participation, Submission, Team, TeamMember, User
from lai_platform.models._time import utcnow
from lai_platform.models.locking import lock_rows
from lai_platform.submissions.moderation import request_reranking
from lai_platform.teams.entrants import team_of

NAME_MAX = 100


def members(team: Team) -> list[User]:
    """The team's members, in the order they joined."""
    return [m.user for m in team.members]


def check_changes_open(challenge: Challenge, now: datetime | None = None) -> None:
    closes = challenge.team_changes_close_at
    if closes is not None and (now or utcnow()) >= closes:
        raise PlatformError(
            "team_changes_closed",
            f"Team changes in '{challenge.title}' closed on {closes:%Y-%m-%d %H:%M} UTC: "
            "teams stay as they are until the end of the challenge.", 403)


def create(user: User, challenge: Challenge, name: str) -> Team:
    """A new team of one (its creator); 409 when the name is taken or they are in one."""
    name = " ".join(str(name or "").split())
    if not name or len(name) > NAME_MAX:
        raise PlatformError("bad_team_name",
                            f"A team name is 1 to {NAME_MAX} characters long.", 400)
    _check_may_change(user, challenge)
    _lock_participant(user, challenge)
    _check_not_in_team(user, challenge)
    taken = db.session.scalar(select(Team.id).where(Team.challenge_id == challenge.id,
                                                    func.lower(Team.name) == name.lower()))
    if taken is not None:
        db.session.rollback()
        raise PlatformError("team_name_taken",
                            f"A team named '{name}' exists already in '{challenge.title}': "
                            "choose another name, or ask that team for its invite link.", 409)
    team = Team(challenge_id=challenge.id, name=name, created_by_id=user.id,
                invite_token=secrets.token_urlsafe(32))
    db.session.add(team)
    db.session.flush()
    db.session.add(TeamMember(team_id=team.id, user_id=user.id, challenge_id=challenge.id))
    moved = _move_solo_submissions(user, challenge, team)
    record(user, challenge, "team.create", name, None,
           {"team_id": team.id, "name": name, "submissions_moved": moved})
    _commit()
    _rerank_if(moved, challenge)
    return team


def join(user: User, token: str) -> Team:
    """Join the team whose invite token this is; the joiner's earlier solo submissions of
    the challenge become the team's."""
    team = team_by_token(token)
    challenge = team.challenge
    _check_may_change(user, challenge)
    _lock_participant(user, challenge)
    lock_rows(Team, Team.id == team.id)
    db.session.refresh(team)
    current = team_of(user.id, challenge.id)
    if current is not None and current.id == team.id:
        db.session.rollback()
        return team
    _check_not_in_team(user, challenge)
    _check_room(team, challenge)
    _check_merge(user, team, challenge)
    db.session.add(TeamMember(team_id=team.id, user_id=user.id, challenge_id=challenge.id))
    moved = _move_solo_submissions(user, challenge, team)
    record(user, challenge, "team.join", team.name, None,
           {"team_id": team.id, "name": team.name, "submissions_moved": moved})
    _commit()
    _rerank_if(moved, challenge)
    return team


def leave(user: User, challenge: Challenge) -> Team | None:
    """Leave one's team; the last member leaving deletes it. Returns the team left, or
    None when it was deleted. Refused once the person has submissions in the team."""
    team = _own_team_locked(user, challenge)
    mine = db.session.scalar(select(func.count(Submission.id)).where(
        Submission.team_id == team.id, Submission.user_id == user.id)) or 0
    if mine:
        db.session.rollback()
        raise PlatformError(
            "team_has_your_submissions",
            f"You cannot leave '{team.name}': you made {mine} submission"
            f"{'s' if mine != 1 else ''} as its member, and they stay the team's entries. "
            "Write to the organizers if the team must change.", 409)
    db.session.execute(delete(TeamMember).where(TeamMember.team_id == team.id,
                                                TeamMember.user_id == user.id))
    left = db.session.scalar(select(func.count(TeamMember.id))
                             .where(TeamMember.team_id == team.id)) or 0
    record(user, challenge, "team.leave", team.name, {"team_id": team.id, "name": team.name},
           {"deleted": left == 0})
    if left == 0 and not _has_submissions(team):
        db.session.delete(team)
        team = None
    _commit()
    return team


def _own_team_locked(user: User, challenge: Challenge) -> Team:
    """The user's team, its row locked after their participation's (the order every team
    change takes), while team changes are open; 404 when they are in none."""
    check_changes_open(challenge)
    _lock_participant(user, challenge)
    team = team_of(user.id, challenge.id)
    if team is None:
        db.session.rollback()
        raise PlatformError("not_in_team", f"You are not in a team in '{challenge.title}'.",
                            404)
    lock_rows(Team, Team.id == team.id)
    return team


def renew_invite(user: User, challenge: Challenge) -> Team:
    """A new invite token for one's team: a leaked link stops working at once (people
    already in the team stay). Any member may renew it, while team changes are open."""
    team = _own_team_locked(user, challenge)
    team.invite_token = secrets.token_urlsafe(32)
    # Neither token goes into the log: organizers read it, and the link is the members' key.
    record(user, challenge, "team.invite_renew", team.name, None,
           {"team_id": team.id, "name": team.name})
    _commit()
    return team


def team_by_token(token: str) -> Team:
    team = db.session.scalar(select(Team).where(Team.invite_token == str(token or "")))
    if team is None:
        raise NotFound("This invite link is not valid: the team may have been deleted. Ask "
                       "its members for a new link.")
    return team


def _check_may_change(user: User, challenge: Challenge) -> None:
    require_approved(user, challenge)
    check_changes_open(challenge)


def _lock_participant(user: User, challenge: Challenge) -> None:
    """The same first lock as admission's: the person's participation row."""
    lock_rows(Participation, Participation.user_id == user.id,
              Participation.challenge_id == challenge.id)


def _check_not_in_team(user: User, challenge: Challenge) -> None:
    current = team_of(user.id, challenge.id)
    if current is not None:
        db.session.rollback()
        raise PlatformError(
            "already_in_team",
            f"You are already in the team '{current.name}' in '{challenge.title}': leave it "
            "first (possible while you have no submissions in it).", 409)


def _check_room(team: Team, challenge: Challenge) -> None:
    limit = challenge.team_max_size
    size = db.session.scalar(select(func.count(TeamMember.id))
                             .where(TeamMember.team_id == team.id)) or 0
    if limit is not None and size >= limit:
        db.session.rollback()
        raise PlatformError("team_full",
                            f"The team '{team.name}' is full: teams in '{challenge.title}' have "
                            f"at most {limit} member{'s' if limit != 1 else ''}.", 409)


def _check_merge(user: User, team: Team, challenge: Challenge) -> None:
    """Members share each phase's total quota and final marks: joining must fit in both."""
    for phase in challenge.phases:
        theirs, mine = _counts(team, user, phase.id, Submission.counts_against_quota)
        total = phase.submissions_total
        if total is not None and theirs + mine > total:
            db.session.rollback()
            raise PlatformError(
                "team_quota_exceeded",
                f"Joining '{team.name}' would give it {theirs + mine} submissions in "
                f"'{phase.title}' ({theirs} of the team's and {mine} of yours), more than the "
                f"{total} a team may make there: members share the quota.", 409)
        limit = phase.final_selection_max
        theirs, mine = _counts(team, user, phase.id, Submission.selected_for_final)
        if phase.final_selection_on and mine and theirs + mine > limit:
            db.session.rollback()
            raise PlatformError(
                "final_selection_full",
                f"Joining '{team.name}' would give it {theirs + mine} submissions selected "
                f"for the final leaderboard of '{phase.title}', more than its {limit}: "
                "unmark some of yours first.", 409)


def _counts(team: Team, user: User, phase_id: int, flag) -> tuple[int, int]:
    def count(*where) -> int:
        return db.session.scalar(select(func.count(Submission.id)).where(
            Submission.phase_id == phase_id, flag.is_(True), *where)) or 0
    return (count(Submission.team_id == team.id),
            count(Submission.user_id == user.id, Submission.team_id.is_(None)))


def _move_solo_submissions(user: User, challenge: Challenge, team: Team) -> int:
    phase_ids = [p.id for p in challenge.phases]
    return db.session.execute(
        update(Submission).where(Submission.user_id == user.id, Submission.team_id.is_(None),
                                 Submission.phase_id.in_(phase_ids))
        .values(team_id=team.id).execution_options(synchronize_session=False)).rowcount


def _rerank_if(moved: int, challenge: Challenge) -> None:
    """Moved submissions now stand for the team: its rows on the boards change."""
    if moved:
        request_reranking([phase.id for phase in challenge.phases])


def _has_submissions(team: Team) -> bool:
    return db.session.scalar(select(Submission.id).where(Submission.team_id == team.id)
                             .limit(1)) is not None


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError:  # the same name chosen, or the same person joining, at once
        db.session.rollback()
        raise conflict() from None
