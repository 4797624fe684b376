"""Organizers decide who takes part: approve, reject with a reason, ban; joining follows the
challenge's access and e-mail domains; the person always sees where they stand."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lai_platform.accounts.users import find_user
from lai_platform.challenges.lookups import find_challenge
from lai_platform.extensions import db
from lai_platform.models import AuditEvent, Participation
from tests.organizing.conftest import SLUG, make_cast
from tests.story import perfect, record_scored_submission, together

API = f"/api/v1/challenges/{SLUG}"
PAGE = f"/organize/{SLUG}/participants"


def set_challenge(platform, **fields) -> None:
    with platform.app.app_context():
        challenge = find_challenge(SLUG)
        for key, value in fields.items():
            setattr(challenge, key, value)
        db.session.commit()


def user_id(platform, email: str) -> int:
    with platform.app.app_context():
        return find_user(email).id


def status_of(platform, email: str) -> tuple[str, str]:
    with platform.app.app_context():
        row = db.session.scalar(sa.select(Participation).where(
            Participation.user_id == find_user(email).id))
        return row.status, row.reason


def events(platform, action: str) -> list[AuditEvent]:
    with platform.app.app_context():
        found = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return list(found)



def test_a_reviewer_approves_a_request_in_the_browser_and_the_person_sees_it(cast):
    platform = cast.platform
    set_challenge(platform, access="review")
    assert cast.outsider.api.join().get_json()["status"] == "pending"
    page = cast.outsider.web.client.get(f"/challenges/{SLUG}").get_data(as_text=True)
    assert 'data-status="pending"' in page
    refused = cast.outsider.api.get(f"{API}/training-data")
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "participation_pending"

    listing = cast.reviewer.web.client.get(PAGE + "?status=pending").get_data(as_text=True)
    assert cast.outsider.email in listing and cast.participant.email not in listing
    uid = user_id(platform, cast.outsider.email)
    response = cast.reviewer.web.post_form(PAGE, f"{PAGE}/{uid}/approve")
    assert response.status_code == 200
    assert f"{cast.outsider.email}: approved." in response.get_data(as_text=True)

    shown = cast.outsider.api.get(API).get_json()
    assert shown["participation"] == "approved"
    page = cast.outsider.web.client.get(f"/challenges/{SLUG}").get_data(as_text=True)
    assert 'data-status="approved"' in page
    [event] = events(platform, "participant.approve")
    assert event.target == cast.outsider.email
    assert event.before["status"] == "pending" and event.after["status"] == "approved"


def test_a_rejected_person_sees_the_reason_and_cannot_rejoin_by_themselves(cast):
    platform = cast.platform
    uid = user_id(platform, cast.pending.email)
    missing = cast.reviewer.api.post_json(f"{API}/participants/{uid}/reject", {})
    assert missing.status_code == 400
    assert missing.get_json()["error"]["code"] == "reason_required"
    assert status_of(platform, cast.pending.email) == ("pending", "")

    reason = "No signed data-use agreement."
    response = cast.reviewer.api.post_json(f"{API}/participants/{uid}/reject",
                                           {"reason": reason})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "rejected" and response.get_json()["changed"]

    shown = cast.pending.api.get(API).get_json()
    assert (shown["participation"], shown["participation_reason"]) == ("rejected", reason)
    page = cast.pending.web.client.get(f"/challenges/{SLUG}").get_data(as_text=True)
    assert 'data-status="rejected"' in page and reason in page

    again = cast.pending.api.join()
    assert again.status_code == 403
    assert again.get_json()["error"]["code"] == "participation_rejected"
    assert reason in again.get_json()["error"]["message"]
    flashed = cast.pending.web.post_form(f"/challenges/{SLUG}", f"/challenges/{SLUG}/join",
                                         accept_terms="yes").get_data(as_text=True)
    assert "was rejected" in flashed
    assert status_of(platform, cast.pending.email) == ("rejected", reason)
    # The organizers can still let them in.
    assert cast.reviewer.api.post_json(f"{API}/participants/{uid}/approve", {}).status_code == 200
    assert status_of(platform, cast.pending.email) == ("approved", "")


def test_a_ban_stops_submissions_and_downloads_and_takes_entries_off_the_board(cast):
    platform = cast.platform
    sub_id = record_scored_submission(platform, cast.participant.email, "development", perfect)
    assert [e["submission_id"] for e in cast.participant.api.leaderboard()["entries"]] == [sub_id]
    uid = user_id(platform, cast.participant.email)

    response = cast.admin.web.post_form(PAGE, f"{PAGE}/{uid}/ban", reason="Shared the test data.")
    assert "banned" in response.get_data(as_text=True)
    platform.rank_due()
    assert cast.participant.api.leaderboard()["entries"] == []
    submit = cast.participant.api.submit(b"not read", phase="development")
    assert submit.status_code == 403
    assert submit.get_json()["error"]["code"] == "participation_banned"
    assert "Shared the test data." in submit.get_json()["error"]["message"]
    assert cast.participant.api.get(f"{API}/training-data").status_code == 403
    page = cast.participant.web.client.get(f"/challenges/{SLUG}").get_data(as_text=True)
    assert 'data-status="banned"' in page and "Shared the test data." in page
    [event] = events(platform, "participant.ban")
    assert (event.before["status"], event.after["status"]) == ("approved", "banned")

    cast.admin.api.post_json(f"{API}/participants/{uid}/approve", {})
    platform.rank_due()
    assert [e["submission_id"] for e in cast.participant.api.leaderboard()["entries"]] == [sub_id]


def test_only_allowed_email_domains_may_join(cast):
    platform = cast.platform
    set_challenge(platform, email_domains=["uni-liver.edu"])
    refused = cast.outsider.api.join()
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "email_domain_not_allowed"
    assert "uni-liver.edu" in refused.get_json()["error"]["message"]
    member = platform.participant("eve@radiology.uni-liver.edu")
    assert member.join().get_json()["status"] == "approved"
    # Someone already in keeps their place.
    assert cast.participant.api.join().get_json()["status"] == "approved"


def test_a_closed_challenge_takes_nobody_new(cast):
    set_challenge(cast.platform, access="closed")
    refused = cast.outsider.api.join()
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "challenge_closed"
    page = cast.outsider.web.post_form(f"/challenges/{SLUG}", f"/challenges/{SLUG}/join",
                                       accept_terms="yes").get_data(as_text=True)
    assert "takes no new participants" in page
    with cast.platform.app.app_context():
        assert find_user(cast.outsider.email) is not None
        assert db.session.scalar(sa.select(sa.func.count(Participation.id)).where(
            Participation.user_id == find_user(cast.outsider.email).id)) == 0


def test_the_participant_list_filters_by_state(cast):
    every = cast.reviewer.api.get(f"{API}/participants").get_json()
    assert {p["email"]: p["status"] for p in every["participants"]} == {
        cast.participant.email: "approved", cast.pending.email: "pending"}
    pending = cast.reviewer.api.get(f"{API}/participants?status=pending").get_json()
    assert [p["email"] for p in pending["participants"]] == [cast.pending.email]
    assert pending["participants"][0]["name"] == "pending"
    bad = cast.reviewer.api.get(f"{API}/participants?status=maybe")
    assert bad.status_code == 400
    assert cast.editor.api.post_json(
        f"{API}/participants/{user_id(cast.platform, cast.pending.email)}/approve", {}
    ).status_code == 403


def test_twenty_concurrent_approvals_make_one_change(demo_platform_any_db):
    platform = demo_platform_any_db
    cast = make_cast(platform)
    uid = user_id(platform, cast.pending.email)
    url = f"{API}/participants/{uid}/approve"
    answers = together([lambda: cast.reviewer.api.post_json(url, {})] * 20)
    assert [r.status_code for r in answers] == [200] * 20
    assert sum(r.get_json()["changed"] for r in answers) == 1
    assert status_of(platform, cast.pending.email)[0] == "approved"
    assert len(events(platform, "participant.approve")) == 1


def test_twenty_concurrent_joins_make_one_participation(demo_platform_any_db):
    platform = demo_platform_any_db
    set_challenge(platform, access="review")
    person = platform.participant("crowd@example.org")
    answers = together([person.join] * 20)
    assert [r.status_code for r in answers] == [200] * 20
    assert {r.get_json()["status"] for r in answers} == {"pending"}
    with platform.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Participation.id)).where(
            Participation.user_id == find_user(person.email).id)) == 1


@pytest.mark.parametrize("status", ["approved", "banned"])
def test_the_api_reports_the_state_to_its_owner(cast, status):
    if status == "banned":
        uid = user_id(cast.platform, cast.participant.email)
        cast.reviewer.api.post_json(f"{API}/participants/{uid}/ban", {"reason": "cheating"})
    shown = cast.participant.api.get(API).get_json()
    assert shown["participation"] == status
    assert shown["participation_reason"] == ("cheating" if status == "banned" else None)
