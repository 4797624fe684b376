"""Teams: create one, invite by link, join, leave; and every refusal in words one can act on."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from lai_platform.extensions import db
from lai_platform.models import AuditEvent, Challenge, Submission, Team
from lai_platform.models._time import utcnow
from tests.teams.conftest import (
    create_team,
    error,
    joined,
    leave_team,
    made_submissions,
    my_team,
    renew_invite,
    team_of_people,
)
from tests.teams.conftest import (
    join_team as join,
)


def set_challenge(platform, **fields) -> None:
    with platform.app.app_context():
        challenge = db.session.scalar(sa.select(Challenge).where(Challenge.slug == "lai-liver"))
        for name, value in fields.items():
            setattr(challenge, name, value)
        db.session.commit()


def test_ada_creates_a_team_and_bob_joins_with_its_invite_link(demo_platform):
    platform = demo_platform
    ada, bob = joined(platform, "ada", "bob")
    created = create_team(ada, "  Liver   Lovers ")
    assert created.status_code == 201
    team = created.get_json()
    assert team["name"] == "Liver Lovers" and [m["name"] for m in team["members"]] == ["ada"]
    assert team["invite_url"].endswith(f"/teams/join/{team['invite_token']}")

    assert my_team(bob).status_code == 404  # bob is on his own so far
    joined_answer = join(bob, team["invite_token"])
    assert joined_answer.status_code == 200
    assert [m["name"] for m in joined_answer.get_json()["members"]] == ["ada", "bob"]
    assert [m["name"] for m in my_team(ada).get_json()["members"]] == ["ada", "bob"]
    assert join(bob, team["invite_token"]).status_code == 200  # again: nothing changes

    with platform.app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action)
                                     .where(AuditEvent.action.like("team.%"))).all()
    assert actions == ["team.create", "team.join"]


def test_refusals_say_what_to_do(demo_platform):
    platform = demo_platform
    ada, bob, cyd = joined(platform, "ada", "bob", "cyd")
    stranger = platform.participant("eve@example.org")  # never joined the challenge
    token = team_of_people(platform, "Liver Lovers", ada)

    assert error(create_team(stranger, "Eve's"))[:2] == (403, "not_a_participant")
    assert error(join(stranger, token))[:2] == (403, "not_a_participant")
    assert error(create_team(bob, "liver lovers"))[:2] == (409, "team_name_taken")
    assert error(create_team(bob, ""))[:2] == (400, "bad_team_name")
    assert error(join(bob, "no-such-token"))[:2] == (404, "not_found")
    assert error(create_team(ada, "Another"))[:2] == (409, "already_in_team")

    team_of_people(platform, "Bob's", bob)
    status, code, message = error(join(bob, token))
    assert (status, code) == (409, "already_in_team") and "Bob's" in message

    set_challenge(platform, team_max_size=1)
    status, code, message = error(join(cyd, token))
    assert (status, code) == (409, "team_full") and "at most 1 member" in message


def test_a_leaked_invite_link_is_renewed_and_the_old_one_stops_working(demo_platform):
    platform = demo_platform
    ada, bob, cyd, eve = joined(platform, "ada", "bob", "cyd", "eve")
    leaked = team_of_people(platform, "Leaky Pipes", ada, bob)

    renewed = renew_invite(bob)  # any member may renew it, not only the creator
    assert renewed.status_code == 200
    team = renewed.get_json()
    fresh = team["invite_token"]
    assert fresh != leaked and team["invite_url"].endswith(f"/teams/join/{fresh}")
    assert [m["name"] for m in team["members"]] == ["ada", "bob"]  # members stay
    assert my_team(ada).get_json()["invite_token"] == fresh

    assert error(join(eve, leaked))[:2] == (404, "not_found")
    assert join(cyd, fresh).status_code == 200

    assert error(renew_invite(eve))[:2] == (404, "not_in_team")  # not a member: no link
    stranger = platform.participant("zed@example.org")  # never joined the challenge
    assert renew_invite(stranger).status_code == 404
    assert my_team(ada).get_json()["invite_token"] == fresh

    with platform.app.app_context():
        event = db.session.scalar(sa.select(AuditEvent)
                                  .where(AuditEvent.action == "team.invite_renew"))
        assert event.target == "Leaky Pipes" and event.actor.email == "bob@example.org"
        assert fresh not in str(event.after) and leaked not in str(event.after)


def test_team_changes_close_at_the_date_the_organizers_set(demo_platform):
    platform = demo_platform
    ada, bob = joined(platform, "ada", "bob")
    org = platform.organizer("org@example.org", "lai-liver")
    token = team_of_people(platform, "Early Birds", ada)
    closed = (utcnow() - timedelta(hours=1)).replace(microsecond=0)
    answer = org.client.patch("/api/v1/challenges/lai-liver", headers=org._headers(),
                              json={"team_changes_close_at": closed.isoformat() + "Z",
                                    "team_max_size": 4})
    assert answer.status_code == 200
    assert answer.get_json()["challenge"]["team_changes_close_at"] == closed.isoformat() + "Z"
    assert answer.get_json()["challenge"]["team_max_size"] == 4

    for refused in (join(bob, token), create_team(bob, "Late"), leave_team(ada),
                    renew_invite(ada)):
        status, code, message = error(refused)
        assert (status, code) == (403, "team_changes_closed")
        assert f"closed on {closed:%Y-%m-%d %H:%M} UTC" in message
    bad = org.client.patch("/api/v1/challenges/lai-liver", headers=org._headers(),
                           json={"team_max_size": 0})
    assert bad.status_code == 400 and "team_max_size" in bad.get_json()["error"]["message"]


def test_leaving_a_team_and_the_last_one_out_deletes_it(demo_platform):
    platform = demo_platform
    ada, bob = joined(platform, "ada", "bob")
    team_of_people(platform, "Short Lived", ada, bob)
    left = leave_team(bob)
    assert left.status_code == 200 and left.get_json()["team_deleted"] is False
    assert [m["name"] for m in my_team(ada).get_json()["members"]] == ["ada"]
    assert error(leave_team(bob))[:2] == (404, "not_in_team")
    assert leave_team(ada).get_json()["team_deleted"] is True
    with platform.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Team.id))) == 0
    assert create_team(bob, "Short Lived").status_code == 201  # the name is free again


def test_leaving_after_submitting_is_refused_and_the_entries_stay_the_teams(demo_platform):
    platform = demo_platform
    ada, bob = joined(platform, "ada", "bob")
    team_of_people(platform, "Stayers", ada, bob)
    made_submissions(platform, "bob@example.org", "development", 2)
    status, code, message = error(leave_team(bob))
    assert (status, code) == (409, "team_has_your_submissions")
    assert "2 submissions" in message and "stay the team's" in message
    assert leave_team(ada).status_code == 200  # ada made none: she may go


def test_joining_brings_ones_submissions_but_not_past_the_shared_quota(demo_platform, image):
    platform = demo_platform
    platform.set_phase("final-test", submissions_total=2, submissions_per_day=None)
    ada, bob = joined(platform, "ada", "bob")
    token = team_of_people(platform, "Quota Keepers", ada)
    made_submissions(platform, "ada@example.org", "final-test", 1)
    bobs = made_submissions(platform, "bob@example.org", "final-test", 2)

    status, code, message = error(join(bob, token))
    assert (status, code) == (409, "team_quota_exceeded")
    assert ("would give it 3 submissions in 'Final test' (1 of the team's and 2 of yours), "
            "more than the 2") in message

    with platform.app.app_context():  # a platform fault: that one never counted
        db.session.get(Submission, bobs[0]).counts_against_quota = False
        db.session.commit()
    assert join(bob, token).status_code == 200
    with platform.app.app_context():
        assert {db.session.get(Submission, s).team.name for s in bobs} == {"Quota Keepers"}
    refused = ada.submit(image.read_bytes(), phase="final-test")
    assert refused.status_code == 429
    assert "Your team has used all 2 submissions" in refused.get_json()["error"]["message"]
