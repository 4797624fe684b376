"""Phases set up by organizers: create, edit with every value checked, reorder; a change
that moves ranks re-ranks at once."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from lai_platform.challenges.lookups import find_phase
from lai_platform.extensions import db
from lai_platform.models import AuditEvent
from tests.organizing.conftest import Cast
from tests.story import record_scored_submission
from tests.test_leaderboard_ranking import skill

BASE = "/api/v1/challenges/lai-liver/phases"


def patch(person, url: str, body: dict):
    return person.api.client.patch(url, json=body,
                                   headers={"Authorization": f"Bearer {person.api.token}"})


def phase_row(cast: Cast, slug: str) -> dict:
    with cast.platform.app.app_context():
        phase = find_phase("lai-liver", slug)
        return {c.name: getattr(phase, c.name) for c in phase.__table__.columns}


def actions(cast: Cast) -> list[str]:
    with cast.platform.app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_an_editor_creates_a_phase_that_waits_for_its_dataset(cast):
    response = cast.editor.web.post_form("/organize/lai-liver/phases", slug="extra-test",
                                         title="Extra test")
    assert response.status_code == 200
    assert "Phase &#39;Extra test&#39; created" in response.get_data(as_text=True)
    row = phase_row(cast, "extra-test")
    assert row["dataset_id"] is None and row["position"] == 2
    assert row["ranking_method"] == "score" and row["display_mode"] == "all"
    detail = cast.outsider.api.get("/api/v1/challenges/lai-liver").get_json()
    assert detail["phases"][-1]["slug"] == "extra-test"
    assert detail["phases"][-1]["n_cases"] is None
    assert "phase.create" in actions(cast)
    again = cast.editor.web.post_form("/organize/lai-liver/phases", slug="extra-test",
                                      title="")
    html = again.get_data(as_text=True)
    assert again.status_code == 400
    assert "already has a phase &#39;extra-test&#39;" in html
    assert "The title must not be empty." in html
    assert cast.reviewer.api.post_json(BASE, {"slug": "x", "title": "X"}).status_code == 403


def test_every_bad_value_is_named_and_nothing_is_saved(cast):
    before = phase_row(cast, "development")
    response = patch(cast.editor, f"{BASE}/development", {
        "opens_at": "2026-03-01 12:00", "closes_at": "2026-02-01T00:00Z",
        "submissions_per_day": 0, "submissions_total": "many", "submissions_concurrent": 2.5,
        "time_limit_s": 0, "memory_mb": 10, "cpus": 1000, "pids": "x",
        "image_max_mb": "", "ranking_method": "nope", "display": "top",
        "public_fraction": 1.5, "primary_metric": "no_such_metric", "colour": "red",
    })
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    for expected in [
        "closes_at (2026-02-01 00:00 UTC) must be after opens_at (2026-03-01 12:00 UTC)",
        "submissions_per_day (a limit per participant) must be between 1 and 1000000, not 0",
        "submissions_total (a limit per participant) must be a whole number, not 'many'",
        "submissions_concurrent (a limit per participant) must be a whole number",
        "The time limit (seconds) must be between 1 and 86400",
        "The memory limit (MB) must be between 128 and 524288, not 10",
        "The CPU limit must be between 0.1 and 64, not 1000",
        "The process limit must be a whole number, not 'x'",
        "The image size limit (MB) must be given",
        "display must be one of all, best, latest, not 'top'",
        "The public fraction must be between 0 and 1, not 1.5",
        "The primary metric 'no_such_metric' is not one of the task's metrics",
        "Unknown setting(s) colour",
    ]:
        assert expected in message, expected
    assert phase_row(cast, "development") == before
    assert "phase.edit" not in actions(cast)


def test_an_unknown_ranking_method_is_named(cast):
    response = patch(cast.editor, f"{BASE}/development", {"ranking_method": "nope"})
    assert response.status_code == 400
    assert "unknown ranking method 'nope'" in response.get_json()["error"]["message"]
    alpha = patch(cast.editor, f"{BASE}/development",
                  {"ranking_method": "test_then_rank", "ranking_alpha": 0})
    assert "alpha must be between 0 and 1" in alpha.get_json()["error"]["message"]
    assert phase_row(cast, "development")["ranking_method"] == "score"


def test_the_phase_form_saves_windows_quotas_limits_and_visibility(cast):
    page = "/organize/lai-liver/phases/development"
    html = cast.editor.web.client.get(page).get_data(as_text=True)
    assert "Opens at (UTC)" in html and "Closes at (UTC)" in html
    response = cast.editor.web.post_form(
        page, title="Development", description="Validation split.",
        opens_at="2026-01-01T00:00", closes_at="2026-06-30T23:59", submissions_per_day="5",
        submissions_total="", submissions_concurrent="1", time_limit_s="1200",
        memory_mb="8192", cpus="4", pids="", shm_mb="", gpu="on", image_max_mb="2048",
        ranking_method="score", ranking_metrics="", ranking_alpha="0.05", display="all",
        public_fraction="", primary_metric="auc", case_results_visible="on")
    assert response.status_code == 200, response.get_data(as_text=True)
    row = phase_row(cast, "development")
    assert row["opens_at"] == datetime(2026, 1, 1) and row["closes_at"] == datetime(2026, 6, 30,
                                                                                   23, 59)
    assert (row["submissions_per_day"], row["submissions_total"],
            row["submissions_concurrent"]) == (5, None, 1)
    assert row["limits"] == {"time_limit_s": 1200.0, "memory_mb": 8192, "cpus": 4.0,
                             "gpu": True}
    assert row["image_max_bytes"] == 2048 * 2**20
    assert row["logs_visible"] is False and row["case_results_visible"] is True
    with cast.platform.app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "phase.edit")).one()
        assert event.before["logs_visible"] is True and event.after["logs_visible"] is False
        assert "title" not in event.after  # unchanged fields are not recorded
    shown = cast.editor.web.client.get(page).get_data(as_text=True)
    assert 'value="2026-06-30T23:59"' in shown


def test_a_change_of_display_or_ranking_re_ranks_at_once(cast):
    platform = cast.platform
    first = record_scored_submission(platform, cast.participant.email, "development",
                                     skill(0.0))
    second = record_scored_submission(platform, cast.participant.email, "development",
                                      skill(0.8, 3))
    other = record_scored_submission(platform, cast.outsider.email, "development",
                                     skill(0.4, 4))
    board = cast.outsider.api.leaderboard()
    assert {e["submission_id"] for e in board["entries"]} == {first, second, other}
    version = board["ranks_version"]
    response = patch(cast.editor, f"{BASE}/development", {"display": "best"})
    assert response.status_code == 200 and response.get_json()["changed"] == ["display_mode"]
    board = cast.outsider.api.leaderboard()  # no ranking job ran: the request re-ranked
    assert {e["submission_id"]: e["rank"] for e in board["entries"]} == {first: 1, other: 2}
    assert board["ranks_version"] > version
    response = patch(cast.editor, f"{BASE}/development",
                     {"ranking_method": "mean_rank", "ranking_metrics": "auc, macro_f1"})
    assert response.status_code == 200
    board = cast.outsider.api.leaderboard()
    assert board["ranking"] == {"method": "mean_rank", "metrics": ["auc", "macro_f1"],
                                "alpha": 0.05}


def test_a_public_fraction_splits_the_cases_and_needs_a_dataset(cast):
    response = patch(cast.editor, f"{BASE}/development", {"public_fraction": 0.25})
    assert response.status_code == 200
    row = phase_row(cast, "development")
    assert len(row["public_case_ids"]) == 10  # of 40 cases
    assert patch(cast.editor, f"{BASE}/development",
                 {"public_fraction": ""}).status_code == 200
    assert phase_row(cast, "development")["public_case_ids"] is None
    cast.editor.api.post_json(BASE, {"slug": "empty", "title": "Empty"})
    bare = patch(cast.editor, f"{BASE}/empty", {"public_fraction": 0.5})
    assert bare.status_code == 400
    assert "needs the phase's dataset" in bare.get_json()["error"]["message"]


def test_phases_are_reordered(cast):
    page = "/organize/lai-liver/phases"
    response = cast.editor.web.post_form(page, "/organize/lai-liver/phases/order",
                                         **{"position.development": "2",
                                            "position.final-test": "1"})
    assert response.status_code == 200
    detail = cast.outsider.api.get("/api/v1/challenges/lai-liver").get_json()
    assert [p["slug"] for p in detail["phases"]] == ["final-test", "development"]
    bad = cast.editor.api.post_json(f"{BASE}/order", {"order": ["development", "nope"]})
    assert bad.status_code == 400
    message = bad.get_json()["error"]["message"]
    assert "Missing: final-test." in message and "Not a phase of this challenge: nope." in message
    assert cast.editor.api.post_json(f"{BASE}/order", {
        "order": ["development", "final-test"]}).get_json()["order"] == [
        "development", "final-test"]
    with cast.platform.app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "phase.reorder").order_by(AuditEvent.id)).all()
        assert [e.after["order"] for e in events] == [["final-test", "development"],
                                                      ["development", "final-test"]]
    assert cast.reviewer.api.post_json(f"{BASE}/order", {"order": []}).status_code == 403
