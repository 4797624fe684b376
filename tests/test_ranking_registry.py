"""Ranking methods come from one registry: a method added there ranks the leaderboard, is
described on it, is listed on the scoring page and is offered by the command line. And the
entry a participant keeps under display "best" is the best under the phase's own method."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from evaluator import RANKING_METHODS, RankingSettings
from evaluator.rank_methods import MeanRank, RankingMethod, competition_ranks
from tests.story import record_scored_submission


class WorstRank(MeanRank):
    """Rank on each metric, then rank the worst of those ranks: no weak spot allowed."""

    name = "worst_rank"
    summary = "the worst of the ranks on several metrics"
    explanation = "Rank every entry on each chosen metric; the worst of its ranks decides."

    def aggregate(self, table, higher_is_better, alpha) -> np.ndarray:
        return competition_ranks(table, higher_is_better).max(axis=1).astype(np.float64)

    def describe(self, settings: RankingSettings) -> str:
        return f"Ranked by the worst rank among {', '.join(self.metrics(settings))}."


@pytest.fixture
def worst_rank() -> Iterator[RankingMethod]:
    RANKING_METHODS[WorstRank.name] = WorstRank()
    yield RANKING_METHODS[WorstRank.name]
    del RANKING_METHODS[WorstRank.name]


def says_little(truth) -> dict:
    """Orders the cases perfectly (AUC 1) but commits to nothing (poor Brier, no diagnosis)."""
    uniform = {c: 1 / len(truth.classes) for c in truth.classes}
    return {"predictions": [
        {"case_id": c, "malignant_probability": 0.55 if m else 0.45,
         "diagnosis_probabilities": uniform}
        for c, m in zip(truth.case_ids, truth.malignant, strict=True)]}


def confident(truth) -> dict:
    """Confident and right, except every tenth case (AUC below 1, Brier and F1 good)."""
    entries = []
    for i, (c, m, d) in enumerate(
            zip(truth.case_ids, truth.malignant, truth.diagnosis, strict=True)):
        right = i % 10 != 0
        probabilities = {k: (0.9 if k == d else 0.1 / (len(truth.classes) - 1))
                         for k in truth.classes}
        entries.append({"case_id": c,
                        "malignant_probability": (0.95 if m else 0.05) if right
                        else (0.05 if m else 0.95),
                        "diagnosis_probabilities": probabilities})
    return {"predictions": entries}


def middling(truth) -> dict:
    return {"predictions": [
        {"case_id": c, "malignant_probability": 0.7 if m else 0.4,
         "diagnosis_probabilities": {k: 1 / len(truth.classes) for k in truth.classes}}
        for c, m in zip(truth.case_ids, truth.malignant, strict=True)]}


@pytest.fixture
def board(worst_rank, demo_platform):
    for name in ("ada", "bob"):
        demo_platform.participant(f"{name}@example.org")
    ids = {
        "ada-auc": record_scored_submission(demo_platform, "ada@example.org", "development",
                                            says_little),
        "ada-all-round": record_scored_submission(demo_platform, "ada@example.org",
                                                  "development", confident),
        "bob": record_scored_submission(demo_platform, "bob@example.org", "development",
                                        middling),
    }
    return demo_platform, ids


def ranks(platform) -> dict[int, int]:
    board = platform.anonymous().leaderboard()
    return {e["submission_id"]: e["rank"] for e in board["entries"]}


def test_a_new_method_ranks_and_is_shown_everywhere(board):
    platform, ids = board
    metrics = ["auc", "brier", "macro_f1"]
    result = platform.app.test_cli_runner().invoke(args=[
        "phases", "configure", "lai-liver", "development", "--ranking", "worst_rank",
        "--metrics", ",".join(metrics)])
    assert result.exit_code == 0, result.output
    # Ranks on AUC, Brier, F1: says_little 1, 3, 2; confident 3, 1, 1; middling 1, 2, 2.
    # Mean rank would put confident first with middling; the worst rank puts middling alone.
    assert ranks(platform) == {ids["bob"]: 1, ids["ada-auc"]: 2, ids["ada-all-round"]: 2}
    page = platform.app.test_client().get(
        "/challenges/lai-liver/phases/development/leaderboard").get_data(as_text=True)
    assert "Ranked by the worst rank among auc, brier, macro_f1." in page
    scoring = platform.app.test_client().get("/scoring").get_data(as_text=True)
    assert "<code>worst_rank</code>" in scoring and "no weak spot" not in scoring
    assert "the worst of its ranks decides" in scoring
    help_text = " ".join(platform.app.test_cli_runner().invoke(
        args=["phases", "configure", "--help"]).output.split())
    assert "worst_rank" in help_text and "the worst of the ranks" in help_text


def test_an_unknown_method_is_refused_with_the_choices(board):
    platform, _ = board
    result = platform.app.test_cli_runner().invoke(
        args=["phases", "configure", "lai-liver", "development", "--ranking", "best_guess"])
    assert result.exit_code != 0
    assert "worst_rank" in result.output and "mean_rank" in result.output


def test_display_best_keeps_the_entry_the_phases_method_ranks_best(board):
    platform, ids = board
    platform.set_phase("development", ranking_method="mean_rank",
                       ranking_metrics=["auc", "brier", "macro_f1"])
    everything = ranks(platform)
    # The all-round entry wins on mean rank though the other one has the better AUC.
    assert everything[ids["ada-all-round"]] < everything[ids["ada-auc"]]
    by_auc = platform.anonymous().leaderboard()["entries"]
    auc = {e["submission_id"]: e["metrics"]["auc"]["value"] for e in by_auc}
    assert auc[ids["ada-auc"]] > auc[ids["ada-all-round"]]

    platform.set_phase("development", display_mode="best")
    assert set(ranks(platform)) == {ids["ada-all-round"], ids["bob"]}
    platform.set_phase("development", ranking_method="score", ranking_metrics=[])
    assert set(ranks(platform)) == {ids["ada-auc"], ids["bob"]}  # by AUC, the primary metric
