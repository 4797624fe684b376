"""Final selection: on a split phase, participants mark up to K submissions; at close only
those count for their entry on the private part. Scored by the real pipeline code."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import sqlalchemy as sa

from lai_platform.extensions import db
from lai_platform.models import ContainerImage, Phase, Submission, User
from lai_platform.models._time import utcnow
from tests.story import Browser, record_scored_submission, together
from tests.test_leaderboard_ranking import skill

PHASE = "final-test"
API = "/api/v1/challenges/lai-liver/phases"


def people(platform):
    ada, bob = platform.participant("ada@example.org"), platform.participant("bob@example.org")
    for person in (ada, bob):
        assert person.join().status_code == 200
    org = platform.organizer("org@example.org", "lai-liver")
    return ada, bob, org


def mark(person, sub: int, selected: bool = True):
    return person.post_json(f"/api/v1/submissions/{sub}/final-selection", {"selected": selected})


def board_ids(platform) -> set[int]:
    return {e["submission_id"] for e in platform.anonymous().leaderboard(PHASE)["entries"]}


def close(platform, closed: bool = True) -> None:
    platform.set_phase(PHASE, closes_at=utcnow() - timedelta(minutes=1) if closed else None)


def test_the_selection_decides_which_entry_counts_at_close(demo_platform):
    platform = demo_platform
    ada, bob, org = people(platform)
    platform.set_phase(PHASE, display_mode="best", final_selection_max=2)
    strong = record_scored_submission(platform, "ada@example.org", PHASE, skill(0.0))
    weak = record_scored_submission(platform, "ada@example.org", PHASE, skill(0.8, 1))
    third = record_scored_submission(platform, "ada@example.org", PHASE, skill(0.9, 2))
    other = record_scored_submission(platform, "bob@example.org", PHASE, skill(0.3, 3))

    close(platform)  # nothing selected: the best of each, as without the setting
    assert board_ids(platform) == {strong, other}
    close(platform, False)

    assert mark(bob, weak).status_code == 404  # someone else's: not found
    chosen = mark(ada, weak)
    assert chosen.status_code == 200 and chosen.get_json()["selected_for_final"] is True
    assert chosen.get_json()["final_selection_max"] == 2
    assert mark(ada, third).status_code == 200
    full = mark(ada, strong)
    assert full.status_code == 409 and full.get_json()["error"]["code"] == "final_selection_full"
    assert "at most 2" in full.get_json()["error"]["message"]
    assert f"#{weak} and #{third}" in full.get_json()["error"]["message"]
    assert mark(ada, third, False).get_json()["selected_for_final"] is False

    close(platform)  # ada's entry is the one she chose; bob (no choice) keeps his best
    closed = platform.anonymous().leaderboard(PHASE)
    assert closed["scored_on"] == "private"
    assert {e["submission_id"] for e in closed["entries"]} == {weak, other}
    refused = mark(ada, weak, False)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "phase_closed"

    platform.set_phase(PHASE, final_selection_max=None)  # off: today's behaviour again
    assert board_ids(platform) == {strong, other}


def test_selection_is_refused_where_it_does_not_apply(demo_platform):
    platform = demo_platform
    ada, _bob, _org = people(platform)
    dev = record_scored_submission(platform, "ada@example.org", "development", skill(0.2))
    answer = mark(ada, dev)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "no_final_selection"
    platform.set_phase(PHASE, final_selection_max=1)
    failed = _submissions(platform, "ada@example.org", 1, status="failed")[0]
    answer = mark(ada, failed)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "not_selectable"
    bad = ada.post_json(f"/api/v1/submissions/{failed}/final-selection", {"selected": "yes"})
    assert bad.status_code == 400


def test_organizers_set_k_and_see_the_marks_the_owner_makes_on_the_page(demo_platform):
    platform = demo_platform
    _ada, _bob, org = people(platform)
    url = f"{API}/{PHASE}"
    headers = org._headers()
    for wrong in (0, 21, "three", 2.5):
        answer = org.client.patch(url, json={"final_selection_max": wrong}, headers=headers)
        assert answer.status_code == 400, wrong
    answer = org.client.patch(url, json={"final_selection_max": 3}, headers=headers)
    assert answer.status_code == 200 and answer.get_json()["phase"]["final_selection_max"] == 3

    sub = record_scored_submission(platform, "ada@example.org", PHASE, skill(0.2))
    browser = Browser(platform.app)
    browser.log_in("ada@example.org")
    page = browser.client.get(f"/submissions/{sub}").get_data(as_text=True)
    assert 'id="final-selection"' in page and "Select for the final leaderboard" in page
    done = browser.post_form(f"/submissions/{sub}", f"/submissions/{sub}/final-selection",
                             selected="1").get_data(as_text=True)
    assert "Selected for the final leaderboard." in done and "Unmark" in done
    listed = Browser(platform.app)
    listed.log_in("org@example.org")
    html = listed.client.get(f"/organize/lai-liver/submissions?phase={PHASE}")
    assert "selected for final" in html.get_data(as_text=True)
    assert org.client.patch(url, json={"final_selection_max": ""},
                            headers=headers).get_json()["phase"]["final_selection_max"] is None


def test_twenty_concurrent_marks_never_exceed_k(demo_platform_any_db):
    platform = demo_platform_any_db
    ada, _bob, _org = people(platform)
    platform.set_phase(PHASE, final_selection_max=3)
    subs = _submissions(platform, "ada@example.org", 20)
    codes = [r.status_code for r in together([partial(mark, ada, sub) for sub in subs])]
    assert sorted(codes) == [200] * 3 + [409] * 17
    with platform.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Submission.id)).where(
            Submission.selected_for_final.is_(True))) == 3


def _submissions(platform, email: str, n: int, status: str = "succeeded") -> list[int]:
    """N submissions of the final phase, in STATUS, without runs or scores."""
    with platform.app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        phase = db.session.scalar(sa.select(Phase).where(Phase.slug == PHASE))
        image = ContainerImage(user_id=user.id, image_id="sha256:" + "1" * 64,
                               storage_key="images/none", size_bytes=0, architecture="amd64")
        subs = [Submission(phase=phase, user=user, image=image, status=status)
                for _ in range(n)]
        db.session.add_all(subs)
        db.session.commit()
        return [s.id for s in subs]
