"""Organizers see a challenge's teams (members, submissions per phase) on a page and in the
API; a challenge admin removes a member who broke the rules, with a reason that goes into
the audit log. The removed person's submissions stay the team's."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from lai_platform.accounts.users import find_user
from lai_platform.extensions import db
from lai_platform.models import AuditEvent, Submission, Team, TeamMember
from tests.organizing.conftest import SLUG, Cast, make_cast
from tests.teams.conftest import error, join_team, joined, made_submissions, team_of_people

API = f"/api/v1/challenges/{SLUG}/teams"
PAGE = f"/organize/{SLUG}/teams"


@pytest.fixture
def cast(demo_platform) -> Cast:
    return make_cast(demo_platform)


def ids(platform, team_name: str, email: str) -> tuple[int, int]:
    """(the team's id, the person's user id)."""
    with platform.app.app_context():
        team_id = db.session.scalar(sa.select(Team.id).where(Team.name == team_name))
        return team_id, find_user(email).id


def remove_url(team_id: int, user_id: int, api: bool = True) -> str:
    base = API if api else PAGE
    return f"{base}/{team_id}/members/{user_id}/remove"


def team_members(platform, team_id: int) -> list[int]:
    with platform.app.app_context():
        return list(db.session.scalars(
            sa.select(TeamMember.user_id).where(TeamMember.team_id == team_id)))


def portal_phase(platform) -> tuple[list, str]:
    """Ada and Bob form 'Portal Phase'; Ada made two development submissions as its member,
    Bob one. Cyd takes part on her own."""
    people = joined(platform, "ada", "bob", "cyd")
    token = team_of_people(platform, "Portal Phase", people[0], people[1])
    made_submissions(platform, "ada@example.org", "development", 2)
    made_submissions(platform, "bob@example.org", "development", 1, "failed")
    return people, token


def test_organizers_see_each_team_with_its_members_and_submissions(cast):
    platform = cast.platform
    portal_phase(platform)
    listed = cast.reviewer.api.get(API)
    assert listed.status_code == 200
    [team] = listed.get_json()["teams"]
    assert team["name"] == "Portal Phase" and team["created_at"].endswith("Z")
    assert [(m["name"], m["email"]) for m in team["members"]] == [
        ("ada", "ada@example.org"), ("bob", "bob@example.org")]
    assert team["submissions"] == {"development": 3, "final-test": 0}

    page = cast.editor.web.client.get(PAGE).get_data(as_text=True)
    assert "Portal Phase" in page and "ada@example.org" in page and "bob@example.org" in page
    assert 'data-phase="development">3<' in page
    assert f'href="{PAGE}"' in page  # the Teams tab of the organizer pages
    assert "remove</button>" not in page  # an editor may not remove members

    people = cast.reviewer.web.client.get(f"/organize/{SLUG}/participants").get_data(
        as_text=True)
    assert ">Portal Phase</a>" in people and "on their own" in people  # cyd's row
    assert cast.participant.api.get(API).status_code == 403  # not for participants


def test_a_reviewer_sees_the_teams_but_cannot_remove_a_member(cast):
    platform = cast.platform
    portal_phase(platform)
    team_id, bob = ids(platform, "Portal Phase", "bob@example.org")
    refused = cast.reviewer.api.post_json(remove_url(team_id, bob), {"reason": "cheating"})
    assert error(refused)[:2] == (403, "not_permitted")
    page = cast.reviewer.web.post_form(PAGE, remove_url(team_id, bob, api=False),
                                       reason="cheating")
    assert page.status_code == 403
    assert len(team_members(platform, team_id)) == 2


def test_an_admin_removes_a_member_with_a_reason_and_the_submissions_stay(cast):
    platform = cast.platform
    (ada, bob, _), token = portal_phase(platform)
    team_id, bob_id = ids(platform, "Portal Phase", "bob@example.org")
    no_reason = cast.admin.api.post_json(remove_url(team_id, bob_id), {"reason": "  "})
    assert error(no_reason)[:2] == (400, "reason_required")

    removed = cast.admin.api.post_json(remove_url(team_id, bob_id),
                                       {"reason": "shared test labels"})
    assert removed.status_code == 200
    answer = removed.get_json()
    assert answer["removed"]["email"] == "bob@example.org" and not answer["team_deleted"]
    assert [m["name"] for m in answer["team"]["members"]] == ["ada"]
    assert answer["team"]["submissions"]["development"] == 3  # bob's failed one included

    with platform.app.app_context():
        teams = db.session.scalars(sa.select(Submission.team_id)).all()
        event = db.session.scalar(sa.select(AuditEvent)
                                  .where(AuditEvent.action == "team.remove_member"))
        assert teams == [team_id] * 3  # all three stay the team's entries
        assert (event.target, event.after["reason"]) == ("bob@example.org",
                                                         "shared test labels")
        assert event.actor_id == find_user(cast.admin.email).id
    # The old invite link no longer lets bob back in.
    assert error(join_team(bob, token))[:2] == (404, "not_found")
    again = cast.admin.api.post_json(remove_url(team_id, bob_id), {"reason": "twice"})
    assert error(again)[0] == 404


def test_the_admin_removes_in_the_browser_and_an_empty_team_goes_only_without_entries(cast):
    platform = cast.platform
    (_, _, cyd_person), _ = portal_phase(platform)
    team_of_people(platform, "Solo Act", cyd_person)
    solo_id, cyd = ids(platform, "Solo Act", "cyd@example.org")
    page = cast.admin.web.post_form(PAGE, remove_url(solo_id, cyd, api=False),
                                    reason="duplicate account")
    shown = html.unescape(page.get_data(as_text=True))
    assert "cyd@example.org removed from the team 'Solo Act'" in shown
    assert "so it was deleted" in shown and "Solo Act</td>" not in shown

    team_id, ada = ids(platform, "Portal Phase", "ada@example.org")
    _, bob = ids(platform, "Portal Phase", "bob@example.org")
    for user in (ada, bob):
        cast.admin.web.post_form(PAGE, remove_url(team_id, user, api=False), reason="breach")
    shown = cast.admin.web.client.get(PAGE).get_data(as_text=True)
    assert "Portal Phase" in shown and "no member left" in shown  # it has submissions
    assert team_members(platform, team_id) == []


def test_another_challenge_s_admin_gets_404_for_this_challenge_s_teams(cast):
    platform = cast.platform
    portal_phase(platform)
    team_id, bob = ids(platform, "Portal Phase", "bob@example.org")
    other = "/api/v1/challenges/other-challenge/teams"
    attacker = cast.other_organizer
    assert attacker.api.get(other).get_json()["teams"] == []
    crossed = attacker.api.post_json(f"{other}/{team_id}/members/{bob}/remove",
                                     {"reason": "probe"})
    status, _, message = error(crossed)
    assert status == 404 and f"No team {team_id} in challenge 'other-challenge'" in message
    page = attacker.web.post_form("/organize/other-challenge/teams",
                                  f"/organize/other-challenge/teams/{team_id}/members/{bob}"
                                  "/remove", reason="probe")
    assert page.status_code == 404
    # Within the right challenge, a person who is not in that team is not found either.
    _, cyd = ids(platform, "Portal Phase", "cyd@example.org")
    stranger = cast.admin.api.post_json(remove_url(team_id, cyd), {"reason": "probe"})
    assert error(stranger)[0] == 404
    assert len(team_members(platform, team_id)) == 2
