"""rank(): every method on small hand-worked tables, ties "1224", baselines, undefined."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluator.rank_methods import competition_ranks, rank

NAN = math.nan

# (id, method, scores, higher_is_better, baseline, expected ranks), each worked by hand.
RANKINGS = [
    ("score", "score", [0.7, 0.9, 0.8], True, None, [3, 1, 2]),
    ("score, lower is better, ties", "score", [[0.1], [0.2], [0.2], [0.3]], False, None,
     [1, 2, 2, 4]),
    ("score, undefined takes no rank", "score", [NAN, 0.2, 0.1], False, None, [None, 2, 1]),
    # per-metric ranks (1,2,3), (2,1,3), (2,3,1): means 5/3, 2, 7/3
    ("mean rank", "mean_rank", [[0.9, 0.5, 0.8], [0.8, 0.6, 0.7], [0.7, 0.4, 0.9]],
     True, None, [1, 2, 3]),
    # metric 1 tied: ranks (1,1,3), (2,1,3): means 1.5, 1, 3
    ("mean rank, tied metric shares 1224", "mean_rank",
     [[0.9, 0.5], [0.9, 0.6], [0.7, 0.4]], True, None, [2, 1, 3]),
    # per-metric ranks (1,3,1), (2,1,2), (3,2,3): medians 1, 2, 3
    ("median rank", "median_rank", [[0.9, 0.1, 0.9], [0.8, 0.9, 0.8], [0.7, 0.5, 0.7]],
     True, None, [1, 2, 3]),
    # metric 2 lower is better: ranks (1,3), (2,1), (3,2): means 2, 1.5, 2.5
    ("mean rank, per-metric direction", "mean_rank",
     [[0.9, 0.3], [0.8, 0.1], [0.7, 0.2]], [True, False], None, [2, 1, 3]),
    # undefined ranks last: metric 1 (1,2,3), metric 2 (2,1,3): means 1.5, 1.5, 3
    ("mean rank, undefined metric ranks last", "mean_rank",
     [[0.9, 0.5], [0.8, 0.6], [0.7, NAN]], True, None, [1, 1, 3]),
    # per-case Brier, lower better: case ranks (1,2,3), (1,3,2), (3,1,2) -> means 5/3, 2, 7/3
    ("case rank", "case_rank", [[0.1, 0.1, 0.5], [0.2, 0.3, 0.1], [0.3, 0.2, 0.2]],
     False, None, [1, 2, 3]),
    # case ranks (1,1,3), (1,3,1): means 1, 2, 2
    ("case rank, ties per case", "case_rank", [[0.1, 0.2], [0.1, 0.3], [0.4, 0.2]],
     False, None, [1, 2, 2]),
    # A > B in all 20 resamples, B > C in 19/20 (p = 0.05, not < 0.05), A > C always:
    # wins 2, 0, 0 -> ranks 1, 2, 2
    ("test then rank", "test_then_rank",
     [[3.0] * 20, [2.0] * 20, [1.0] * 19 + [2.0]], True, None, [1, 2, 2]),
    ("test then rank, alpha boundary passed", "test_then_rank",
     [[3.0] * 20, [2.0] * 20, [1.0] * 20], True, None, [1, 2, 3]),
    ("test then rank, lower is better", "test_then_rank",
     [[3.0] * 20, [2.0] * 20, [1.0] * 20], False, None, [3, 2, 1]),
    # baseline (0.85) would be 2nd; participants rank 1, 2, 3 as if it were absent
    ("baseline takes no rank", "score", [0.9, 0.85, 0.8, 0.7], True,
     [False, True, False, False], [1, 2, 2, 3]),
    ("baseline tied with a participant", "score", [0.9, 0.8, 0.8], True,
     [True, False, False], [1, 1, 1]),
    ("baseline among per-metric ranks", "mean_rank", [[0.9, 0.9], [0.5, 0.5], [0.1, 0.1]],
     True, [False, True, False], [1, 2, 2]),
    ("all-undefined entry", "mean_rank", [[NAN, NAN], [0.5, 0.5]], True, None, [None, 1]),
    ("empty", "mean_rank", np.zeros((0, 2)), True, None, []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "scores", "higher_is_better", "baseline", "expected"),
    [r[1:] for r in RANKINGS],
    ids=[r[0] for r in RANKINGS],
)
def test_rank(method, scores, higher_is_better, baseline, expected):
    ranks = rank(method, np.array(scores), higher_is_better=higher_is_better, baseline=baseline)
    assert ranks == expected


def test_alpha_is_configurable():
    scores = np.array([[3.0] * 20, [2.0] * 20, [1.0] * 19 + [2.0]])
    assert rank("test_then_rank", scores, alpha=0.1) == [1, 2, 3]


COMPETITION = [
    ("columns ranked separately", [[1, 5], [2, 4], [2, 6]], True, [[3, 2], [1, 3], [1, 1]]),
    ("nan last, tied", [[NAN], [1], [NAN]], False, [[2], [1], [2]]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("values", "higher_is_better", "expected"),
    [r[1:] for r in COMPETITION],
    ids=[r[0] for r in COMPETITION],
)
def test_competition_ranks(values, higher_is_better, expected):
    got = competition_ranks(np.array(values, dtype=float), higher_is_better)
    assert got.tolist() == expected


BAD = [
    ("unknown method", "best", [[1.0]], {}, "unknown ranking method"),
    ("score with two metrics", "score", [[1.0, 2.0]], {}, "one metric"),
    ("baseline length", "score", [1.0, 2.0], {"baseline": [True]}, "one flag per entry"),
    ("test needs one direction", "test_then_rank", [[1.0]], {"higher_is_better": [True]},
     "one higher_is_better"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "scores", "options", "message"), [r[1:] for r in BAD], ids=[r[0] for r in BAD]
)
def test_bad_arguments(method, scores, options, message):
    with pytest.raises(ValueError, match=message):
        rank(method, np.array(scores), **options)
