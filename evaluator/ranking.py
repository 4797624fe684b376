"""Leaderboard ranks from scores."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evaluator.rank_methods import rank


def rank_scores(values: Sequence[float | None], higher_is_better: bool) -> list[int | None]:
    """Standard competition ranks ("1224"): ties share the best rank, the next rank skips.

    None or NaN (an undefined metric, a failed run) gets None and takes no rank from others.
    """
    if not values:
        return []
    scores = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return rank("score", scores, higher_is_better=higher_is_better)
