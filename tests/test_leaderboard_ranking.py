"""Leaderboards an organizer configures: ranking methods, display modes, baselines shown but
not ranked, rank stability, and the public/private split. Scored by the real pipeline code."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import numpy as np
import pytest

from evaluator import rank
from lai_platform.extensions import db
from lai_platform.models import Phase
from lai_platform.models._time import utcnow
from tests.story import record_scored_submission, together


def skill(guess: float, seed: int = 0):
    """Confident, right predictions, except a share `guess` of cases that are pure guesses."""

    def predict(truth) -> dict:
        rng = np.random.default_rng(seed)
        entries = []
        for case_id, malignant, diagnosis in zip(
            truth.case_ids, truth.malignant, truth.diagnosis, strict=True
        ):
            if rng.random() < guess:
                p = float(rng.random())
                raw = {c: float(rng.random()) for c in truth.classes}
            else:
                p = 0.6 if malignant else 0.4
                raw = {c: 0.02 for c in truth.classes}
                raw[diagnosis] = 0.9
            total = sum(raw.values())
            entries.append({"case_id": case_id, "malignant_probability": p,
                            "diagnosis_probabilities": {c: v / total for c, v in raw.items()}})
        return {"predictions": entries}

    return predict


def shrink(amount: float):
    """Every case predicted the same distance from the truth: per-case scores order strictly."""

    def predict(truth) -> dict:
        k = len(truth.classes)
        return {"predictions": [
            {"case_id": case_id,
             "malignant_probability": 0.5 + (malignant - 0.5) * (1 - amount),
             "diagnosis_probabilities": {
                 c: (1 - amount) * (c == diagnosis) + amount / k for c in truth.classes}}
            for case_id, malignant, diagnosis in zip(
                truth.case_ids, truth.malignant, truth.diagnosis, strict=True)
        ]}

    return predict


@pytest.fixture
def board(demo_platform):
    platform = demo_platform
    for name in ("ada", "bob", "cy"):
        platform.participant(f"{name}@example.org")
    platform.organizer("org@example.org", "lai-liver")
    return platform


def entries(platform, phase="development") -> list[dict]:
    return platform.anonymous().leaderboard(phase)["entries"]


def ranks_by_id(platform, phase="development") -> dict[int, int | None]:
    return {e["submission_id"]: e["rank"] for e in entries(platform, phase)}


def test_baseline_is_shown_with_its_would_be_rank_and_takes_none(board):
    good = record_scored_submission(board, "ada@example.org", "development", skill(0.0))
    weak = record_scored_submission(board, "bob@example.org", "development", skill(0.7, 1))
    base = record_scored_submission(board, "org@example.org", "development", skill(0.3, 2),
                                    baseline=True)
    ranks = ranks_by_id(board)
    assert ranks[good] == 1 and ranks[weak] == 2  # the baseline pushes nobody down
    assert ranks[base] == 2
    flagged = {e["submission_id"]: e["is_baseline"] for e in entries(board)}
    assert flagged == {good: False, weak: False, base: True}
    html = board.app.test_client().get(
        "/challenges/lai-liver/phases/development/leaderboard").get_data(as_text=True)
    assert 'class="baseline"' in html and "(2)" in html


def test_display_best_or_latest_per_participant(board):
    first = record_scored_submission(board, "ada@example.org", "development", skill(0.0))
    second = record_scored_submission(board, "ada@example.org", "development", skill(0.7, 3))
    other = record_scored_submission(board, "bob@example.org", "development", skill(0.3, 4))
    assert set(ranks_by_id(board)) == {first, second, other}
    board.set_phase("development", display_mode="best")
    assert ranks_by_id(board) == {first: 1, other: 2}
    board.set_phase("development", display_mode="latest")
    assert set(ranks_by_id(board)) == {second, other}


@pytest.mark.parametrize(
    "method, metrics",
    [("score", []), ("mean_rank", ["auc", "macro_f1", "brier"]),
     ("median_rank", ["auc", "kappa", "ece"]), ("case_rank", ["brier"]),
     ("test_then_rank", [])],
)
def test_ranking_methods_follow_the_evaluator(board, method, metrics):
    def entry(i: int, noise: float):
        return shrink(noise / 2) if method == "case_rank" else skill(noise, i)

    ids = [
        record_scored_submission(board, f"{who}@example.org", "development", entry(i, noise))
        for i, (who, noise) in enumerate([("ada", 0.0), ("bob", 0.3), ("cy", 0.8)])
    ]
    board.set_phase("development", ranking_method=method, ranking_metrics=metrics)
    ranks = ranks_by_id(board)
    assert [ranks[i] for i in ids] == [1, 2, 3]  # clear skill differences: every method agrees
    board_json = board.anonymous().leaderboard()
    assert board_json["ranking"]["method"] == method
    # Stability follows the chosen method, even for metrics chosen after scoring.
    assert board_json["rank_stability"]["n_entries"] == 3
    assert board_json["entries"][0]["rank_interval"]["low"] == 1


def test_test_then_rank_ties_entries_it_cannot_tell_apart(board):
    a = record_scored_submission(board, "ada@example.org", "development", skill(0.3, 7))
    b = record_scored_submission(board, "bob@example.org", "development", skill(0.3, 8))
    c = record_scored_submission(board, "cy@example.org", "development", skill(1.0, 9))
    board.set_phase("development", ranking_method="test_then_rank", ranking_alpha=0.05)
    ranks = ranks_by_id(board)
    assert ranks[a] == ranks[b] == 1 and ranks[c] == 3


def test_rank_stability_is_reported(board):
    ids = [
        record_scored_submission(board, f"{who}@example.org", "development", skill(noise, i))
        for i, (who, noise) in enumerate([("ada", 0.0), ("bob", 0.4), ("cy", 0.4)])
    ]
    board_json = board.anonymous().leaderboard()
    summary = board_json["rank_stability"]
    assert summary["n_entries"] == 3 and summary["n_resamples"] == 200
    assert -1 <= summary["kendall_tau_low"] <= summary["kendall_tau_median"] <= 1
    intervals = {e["submission_id"]: e["rank_interval"] for e in board_json["entries"]}
    assert intervals[ids[0]] == {"low": 1, "high": 1, "hold_probability": 1.0}  # perfect
    # Two near-equal entries swap places in some resamples.
    assert intervals[ids[1]]["low"] == 2 and intervals[ids[1]]["high"] == 3
    assert 0 < intervals[ids[1]]["hold_probability"] < 1
    html = board.app.test_client().get(
        "/challenges/lai-liver/phases/development/leaderboard").get_data(as_text=True)
    assert "Kendall" in html and "2–3" in html
    assert html.count('role="img"') == 1  # the rank-stability picture


def test_public_part_while_open_private_part_after_close(board):
    ada = board.participant("dee@example.org")
    sub = record_scored_submission(board, "dee@example.org", "final-test", skill(0.3))
    with board.app.app_context():
        phase = db.session.scalar(db.select(Phase).where(Phase.slug == "final-test"))
        n_public, n_all = len(phase.public_case_ids), phase.dataset.n_cases
    assert 0 < n_public < n_all
    open_board = board.anonymous().leaderboard("final-test")
    assert open_board["scored_on"] == "public"
    assert ada.submission(sub)["metrics"]["n_cases"] == n_public

    board.set_phase("final-test", closes_at=utcnow() - timedelta(minutes=1))
    closed = board.anonymous().leaderboard("final-test")
    assert closed["scored_on"] == "private"
    assert ada.submission(sub)["metrics"]["n_cases"] == n_all - n_public
    org = board.anonymous()
    org.token = _token(board, "org@example.org")
    assert org.submission(sub)["metrics_all_cases"]["n_cases"] == n_all


def test_subgroups_on_the_submission_page(board):
    sub = record_scored_submission(board, "ada@example.org", "development", skill(0.3))
    html = board.app.test_client().get(f"/submissions/{sub}").get_data(as_text=True)
    assert 'id="subgroups"' in html and "(seen in training)" in html
    assert "Lesion" in html and "haemangioma" in html
    assert html.count('role="img"') == 3  # ROC, reliability, confusion matrix
    final = record_scored_submission(board, "ada@example.org", "final-test", skill(0.3))
    html = board.app.test_client().get(f"/submissions/{final}").get_data(as_text=True)
    assert 'id="subgroups"' not in html  # hidden test cases: no per-group hints
    ada_api = board.anonymous()
    ada_api.token = _token(board, "ada@example.org")
    assert "per_centre" not in ada_api.submission(final)["metrics"]
    assert "per_centre" in ada_api.submission(sub)["metrics"]


def _token(platform, email: str) -> str:
    from lai_platform.models import ApiToken, User

    with platform.app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        row, token = ApiToken.issue(user, "test")
        db.session.add(row)
        db.session.commit()
    return token


def test_evaluator_rank_matches_stored_ranks(board):
    ids = [
        record_scored_submission(board, f"{who}@example.org", "development", skill(n, i))
        for i, (who, n) in enumerate([("ada", 0.2), ("bob", 0.2), ("cy", 0.5)])
    ]
    by_id = {e["submission_id"]: e for e in entries(board)}
    aucs = [by_id[i]["metrics"]["auc"]["value"] for i in ids]
    assert [by_id[i]["rank"] for i in ids] == rank("score", np.array(aucs))


def test_leaderboard_pages(board):
    ids = [record_scored_submission(board, "ada@example.org", "development", skill(0.1 * i, i))
           for i in range(3)]
    first = board.anonymous().get("/api/v1/challenges/lai-liver/phases/development/leaderboard"
                                   "?page=1").get_json()
    assert first["total"] == 3 and [e["submission_id"] for e in first["entries"]] == ids
    second = board.anonymous().get("/api/v1/challenges/lai-liver/phases/development/leaderboard"
                                   "?page=2").get_json()
    assert second["entries"] == [] and second["page"] == 2


def test_results_landing_together_are_all_ranked(demo_platform_any_db):
    platform = demo_platform_any_db
    people = [f"p{i}@example.org" for i in range(4)]
    for email in people:
        platform.participant(email)
    together([
        partial(record_scored_submission, platform, email, "development", skill(0.2 * i, i))
        for i, email in enumerate(people)
    ])
    board = entries(platform)
    aucs = np.array([e["metrics"]["auc"]["value"] for e in board])
    assert len(board) == 4
    # Every stored rank accounts for all four results, whichever committed last.
    assert [e["rank"] for e in board] == rank("score", aucs)
