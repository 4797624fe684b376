"""Leaderboard exports (CSV, JSON) and the frozen final leaderboard."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from lai_platform.accounts.users import find_user
from lai_platform.extensions import db
from lai_platform.models import AuditEvent, FinalLeaderboard
from tests.organizing.conftest import Cast
from tests.story import record_scored_submission
from tests.test_leaderboard_ranking import skill

PHASE = "/api/v1/challenges/lai-liver/phases"
FORMULA_NAME = "=HYPERLINK(\"http://evil.example\",\"x\")"


def scored_board(cast: Cast, phase: str = "development") -> list[int]:
    with cast.platform.app.app_context():
        find_user(cast.outsider.email).display_name = FORMULA_NAME
        db.session.commit()
    return [record_scored_submission(cast.platform, person.email, phase, skill(guess, seed))
            for person, guess, seed in ((cast.participant, 0.0, 1), (cast.outsider, 0.6, 2))]


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_has_every_metric_ci_rank_and_interval_and_no_formula(cast):
    good, weak = scored_board(cast)
    response = cast.reviewer.web.client.get(
        "/organize/lai-liver/phases/development/leaderboard.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response.get_data(as_text=True))
    assert [int(r["submission_id"]) for r in rows] == [good, weak]
    assert [r["rank"] for r in rows] == ["1", "2"]
    board = cast.outsider.api.leaderboard()["entries"]
    for row, entry in zip(rows, board, strict=True):
        assert int(row["rank_low"]) == entry["rank_interval"]["low"]
        assert int(row["rank_high"]) == entry["rank_interval"]["high"]
        for name, value in entry["metrics"].items():  # every metric the board has
            assert float(row[name]) == value["value"]
            assert float(row[f"{name}_ci_low"]) == value["ci_low"]
            assert float(row[f"{name}_ci_high"]) == value["ci_high"]
    assert rows[0]["ranked_on"] == "all" and rows[0]["baseline"] == "False"
    assert rows[1]["participant"] == "'" + FORMULA_NAME  # neutralised: a quote first
    assert not any(cell.startswith(("=", "+", "@")) for r in rows for cell in r.values())
    with cast.platform.app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "leaderboard.export")).one()
        assert event.target == "development.csv" and event.after["entries"] == 2
        assert event.actor.email == cast.reviewer.email


def test_a_split_phase_exports_both_parts_and_says_which_ranks(cast):
    scored_board(cast, "final-test")
    rows = read_csv(cast.admin.api.get(f"{PHASE}/final-test/leaderboard.csv").get_data(
        as_text=True))
    assert rows and all(r["ranked_on"] == "public" for r in rows)
    assert {"public_auc", "private_auc", "private_auc_ci_low", "private_auc_ci_high"} <= set(
        rows[0])
    document = cast.admin.api.get(f"{PHASE}/final-test/leaderboard/export.json").get_json()
    assert document["ranked_on"] == "public"
    entry = document["entries"][0]
    assert set(entry["parts"]) == {"public", "private"}
    assert entry["parts"]["private"]["auc"]["value"] is not None
    # The public JSON has no private part.
    public = cast.outsider.api.leaderboard("final-test")["entries"][0]
    assert "parts" not in public


def test_exports_are_for_organizers_only(cast):
    scored_board(cast)
    for person in (cast.participant, cast.outsider, cast.other_organizer, cast.pending):
        assert person.api.get(f"{PHASE}/development/leaderboard.csv").status_code == 403
        assert person.web.client.get(
            "/organize/lai-liver/phases/development/leaderboard.json").status_code == 403
    anonymous = cast.platform.anonymous().get(f"{PHASE}/development/leaderboard.csv")
    assert anonymous.status_code == 401


def test_publishing_before_the_close_is_refused_and_close_now_publishes(cast):
    scored_board(cast)
    refused = cast.admin.api.post_json(f"{PHASE}/development/final", {})
    assert refused.status_code == 409
    assert "has no closing time" in refused.get_json()["error"]["message"]
    assert cast.editor.api.post_json(f"{PHASE}/development/final",
                                     {"close_now": True}).status_code == 403
    published = cast.admin.api.post_json(f"{PHASE}/development/final", {"close_now": True})
    assert published.status_code == 201
    body = published.get_json()
    assert len(body["entries"]) == 2 and body["entries"][0]["rank"] == 1
    assert body["columns"][0]["metric"] == "auc"
    detail = cast.outsider.api.get("/api/v1/challenges/lai-liver").get_json()
    assert detail["phases"][0]["closes_at"] is not None  # closed now
    with cast.platform.app.app_context():
        done = [e.action for e in db.session.scalars(sa.select(AuditEvent).order_by(
            AuditEvent.id))]
        assert done[-2:] == ["phase.edit", "leaderboard.publish"]


def test_the_final_leaderboard_is_frozen_shown_and_kept_per_publication(cast):
    good, weak = scored_board(cast)
    page = "/organize/lai-liver/leaderboards"
    response = cast.admin.web.post_form(page, "/organize/lai-liver/phases/development/final",
                                        close_now="yes")
    assert "Final leaderboard of &#39;Development&#39; published" in response.get_data(
        as_text=True)
    first = cast.outsider.api.get(f"{PHASE}/development/leaderboard/final").get_json()
    # A later change of the ranking moves the live board, never the published one.
    cast.admin.api.client.patch(
        f"{PHASE}/development", json={"display": "latest", "ranking_method": "mean_rank",
                                      "ranking_metrics": ["macro_f1", "kappa"]},
        headers={"Authorization": f"Bearer {cast.admin.api.token}"})
    record_scored_submission(cast.platform, cast.participant.email, "development",
                             skill(0.9, 5))
    live = cast.outsider.api.leaderboard()
    assert {e["submission_id"] for e in live["entries"]} != {good, weak}
    assert cast.outsider.api.get(f"{PHASE}/development/leaderboard/final").get_json() == first
    html = cast.platform.anonymous().client.get(
        "/challenges/lai-liver/phases/development/leaderboard").get_data(as_text=True)
    assert "Development: final leaderboard" in html and "Published " in html
    assert html.index("final leaderboard") < html.index("Live leaderboard")
    assert live["final_published_at"] == first["published_at"]
    cast.admin.web.post_form(page, "/organize/lai-liver/phases/development/final")
    with cast.platform.app.app_context():
        finals = db.session.scalars(sa.select(FinalLeaderboard).order_by(
            FinalLeaderboard.id)).all()
        assert len(finals) == 2
        assert [e["submission_id"] for e in finals[0].rows] == [good, weak]
        assert finals[1].published_at >= finals[0].published_at
    latest = cast.outsider.api.get(f"{PHASE}/development/leaderboard/final").get_json()
    assert latest["published_at"] != first["published_at"] or latest["entries"] != first[
        "entries"]
    organizer = cast.reviewer.web.client.get(page).get_data(as_text=True)
    assert organizer.count("Final leaderboard published") == 2
