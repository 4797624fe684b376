"""Pages people read: the home page's phases, states, deadlines and participant counts; a
challenge page's next step for each kind of visitor; the rank-stability picture labelled
like the leaderboard table. (Layout at two widths: tests/test_pages_browser.py.)"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta

from sqlalchemy import event

from lai_platform.challenges.overview import phase_state
from lai_platform.extensions import db
from lai_platform.models import Participation, Phase
from lai_platform.models._time import utcnow
from lai_platform.web.leaderboards import stability_label
from tests.paths import ROOT
from tests.story import Browser, perfect, record_scored_submission

NOW = datetime(2026, 12, 14, 12, 0)


def test_phase_states_in_words():
    def state(opens=None, closes=None):
        s = phase_state(Phase(opens_at=opens, closes_at=closes), NOW)
        return s.kind, s.text

    assert state() == ("open", "open, no deadline")
    assert state(closes=NOW + timedelta(days=3, hours=2)) == ("open", "open, closes in 3 days")
    assert state(closes=NOW + timedelta(hours=5)) == ("open", "open, closes in 5 hours")
    assert state(closes=NOW - timedelta(days=1)) == ("closed", "closed on 2026-12-13")
    assert state(opens=NOW + timedelta(days=9)) == ("upcoming", "opens on 2026-12-23")


def test_the_home_page_shows_phases_states_deadlines_and_participants(demo_platform):
    closes = (utcnow() + timedelta(days=3, hours=1)).replace(microsecond=0)
    demo_platform.set_phase("development", closes_at=closes)
    demo_platform.set_phase("final-test", opens_at=utcnow() + timedelta(days=30))
    for name in ("ada", "bob"):
        demo_platform.participant(f"{name}@example.org").join()
    html = demo_platform.app.test_client().get("/").get_data(as_text=True)
    assert "2 participants" in html
    assert 'data-phase="development" data-state="open"' in html
    assert "closes in 3 days" in html and f"deadline {closes:%Y-%m-%d %H:%M} UTC" in html
    assert 'data-phase="final-test" data-state="upcoming"' in html and "opens on" in html


def test_the_home_page_asks_the_database_a_fixed_number_of_times(demo_platform, tmp_path):
    def statements() -> int:
        seen = []
        with demo_platform.app.app_context():
            engine = db.engine
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert demo_platform.app.test_client().get("/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    one = statements()
    demo_platform.load_challenge(_second_bundle(tmp_path))
    assert statements() == one  # not one more query per challenge


def _second_bundle(tmp_path):
    bundle = tmp_path / "three-class"
    shutil.copytree(ROOT / "examples" / "three-class", bundle)
    return bundle


def step(client, slug: str = "lai-liver") -> str:
    html = client.get(f"/challenges/{slug}").get_data(as_text=True)
    return html.split('id="next-step" data-step="')[1].split('"')[0], html


def test_a_challenge_page_says_what_to_do_next(demo_platform):
    assert step(demo_platform.app.test_client())[0] == "sign_in"
    demo_platform.participant("ada@example.org")
    ada = Browser(demo_platform.app)
    ada.log_in("ada@example.org")
    assert step(ada.client)[0] == "join"
    ada.post_form("/challenges/lai-liver", "/challenges/lai-liver/join", accept_terms="yes")
    kind, html = step(ada.client)
    assert kind == "submit"
    assert "/challenges/lai-liver/phases/development/submit" in html.split('id="next-step"')[1]
    assert "Download the training data" in html
    demo_platform.set_phase("development", closes_at=utcnow() - timedelta(days=1))
    demo_platform.set_phase("final-test", closes_at=utcnow() - timedelta(days=1))
    assert step(ada.client)[0] == "wait"


def test_pending_rejected_and_banned_visitors_are_told_why(demo_platform):
    demo_platform.participant("ada@example.org").join()
    ada = Browser(demo_platform.app)
    ada.log_in("ada@example.org")
    for status, reason in (("pending", ""), ("rejected", "not a radiologist"),
                           ("banned", "shared test data")):
        with demo_platform.app.app_context():
            row = db.session.scalar(db.select(Participation))
            row.status, row.reason = status, reason
            db.session.commit()
        kind, html = step(ada.client)
        assert kind == status
        assert reason in html.split('id="next-step"')[1].split("</section>")[0]


def test_stability_labels_read_like_the_table():
    assert stability_label(1, "Ada", False) == "1 Ada"
    assert stability_label(1, "Constant", True) == "(1) baseline Constant"


def test_the_stability_picture_labels_by_rank_and_marks_the_baseline(demo_platform):
    demo_platform.participant("ada@example.org").join()
    demo_platform.participant("base@example.org").join()
    record_scored_submission(demo_platform, "base@example.org", "development",
                             _constant, baseline=True)
    record_scored_submission(demo_platform, "ada@example.org", "development", perfect)
    record_scored_submission(demo_platform, "ada@example.org", "development", _constant)
    html = demo_platform.app.test_client().get(
        "/challenges/lai-liver/phases/development/leaderboard").get_data(as_text=True)
    svg = html.split('class="lai-chart"')[1].split("</svg>")[0]
    assert ">1 ada<" in svg and "baseline base" in svg
    assert "#1" not in svg and "#2" not in svg  # no submission ids posing as ranks
    assert 'fill="#fff" stroke="currentColor"' in svg  # the baseline's hollow dot
    table = html.split('class="leaderboard"')[1]
    first = table.split("<tbody>")[1].split("</tr>")[0]
    assert '<td class="rank">1</td>' in first and ">ada<" in first


def _constant(truth) -> dict:
    return {"predictions": [
        {"case_id": c, truth.probability_key: 0.5,
         "diagnosis_probabilities": {label: 1 / len(truth.classes) for label in truth.classes}}
        for c in truth.case_ids
    ]}
