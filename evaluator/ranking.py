"""Leaderboard ranks from scores."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence


def rank_scores(values: Sequence[float | None], higher_is_better: bool) -> list[int | None]:
    """Standard competition ranks ("1224"): ties share the best rank, the next rank skips.

    None or NaN (an undefined metric, a failed run) gets None and takes no rank from others.
    """
    scored = [v for v in values if v is not None and not math.isnan(v)]
    # Sort so that "better" is "larger"; a value's rank is 1 + how many are strictly better.
    keys = sorted(v if higher_is_better else -v for v in scored)
    ranks: list[int | None] = []
    for value in values:
        if value is None or math.isnan(value):
            ranks.append(None)
            continue
        key = value if higher_is_better else -value
        ranks.append(1 + len(keys) - bisect.bisect_right(keys, key))
    return ranks
