"""Ranking by one metric: competition ranks ("1224") for ascending and descending metrics,
with undefined scores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluator import rank

RANKINGS = [
    # (id, values, higher_is_better, expected ranks)
    ("empty", [], True, []),
    ("single", [0.7], True, [1]),
    ("higher is better", [0.7, 0.9, 0.8], True, [3, 1, 2]),
    ("lower is better", [0.7, 0.9, 0.8], False, [1, 3, 2]),
    ("ties share the best rank, 1224", [0.9, 0.8, 0.8, 0.7], True, [1, 2, 2, 4]),
    ("ties, lower is better", [0.1, 0.2, 0.2, 0.3], False, [1, 2, 2, 4]),
    ("tie at the top", [0.9, 0.9, 0.5], True, [1, 1, 3]),
    ("all tied", [0.5, 0.5, 0.5], False, [1, 1, 1]),
    ("none takes no rank", [None, 0.8, 0.9], True, [None, 2, 1]),
    ("nan counts as none", [math.nan, 0.2, 0.1], False, [None, 2, 1]),
    ("all none", [None, None], True, [None, None]),
    ("none between ties", [0.5, None, 0.5, 0.4], True, [1, None, 1, 3]),
    ("integers and negatives", [-1, 3, 0, 3], True, [4, 1, 3, 1]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("values", "higher_is_better", "expected"),
    [r[1:] for r in RANKINGS],
    ids=[r[0] for r in RANKINGS],
)
def test_rank_by_score(values, higher_is_better, expected):
    scores = np.array([math.nan if v is None else v for v in values], dtype=float)
    assert rank("score", scores, higher_is_better=higher_is_better) == expected
