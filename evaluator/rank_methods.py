"""Ranking methods an organizer can choose, behind one entry point: ``rank``.

Every method ends in competition ranks ("1224": ties share the best rank). An entry whose
scores are all undefined (NaN) gets None and takes no rank from others. Baselines are ranked
as they would be among the participants, without pushing any participant down.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

METHODS = ("score", "mean_rank", "median_rank", "case_rank", "test_then_rank")
DEFAULT_ALPHA = 0.05


def competition_ranks(values: np.ndarray, higher_is_better: bool | Sequence[bool]) -> np.ndarray:
    """Ranks of the rows of ``values`` (entries x columns), column by column, "1224" style.

    An undefined (NaN) value ranks after every defined one, tied with the other undefined.
    ``higher_is_better`` is one flag for all columns or one per column.
    """
    values = np.asarray(values, dtype=np.float64)
    flags = np.broadcast_to(np.asarray(higher_is_better, dtype=bool), values.shape[1:])
    # Flip so that larger is better everywhere, with NaN as the worst possible value.
    keys = np.where(flags, values, -values)
    keys = np.where(np.isnan(keys), -np.inf, keys)
    # Rank = 1 + number strictly better; one sort per column, not a pairwise comparison.
    ordered = np.sort(keys, axis=0)
    better = np.empty(keys.shape, dtype=np.int64)
    for column in np.ndindex(keys.shape[1:]):
        where = (slice(None), *column)
        better[where] = len(keys) - np.searchsorted(ordered[where], keys[where], side="right")
    return better + 1


def rank(
    method: str,
    scores: np.ndarray,
    *,
    higher_is_better: bool | Sequence[bool] = True,
    baseline: Sequence[bool] | None = None,
    alpha: float = DEFAULT_ALPHA,
) -> list[int | None]:
    """Rank entries (rows of ``scores``) by ``method``; lower rank is better.

    ``scores`` by method: "score" (entries,) or (entries, 1) one metric; "mean_rank" /
    "median_rank" (entries x metrics), grand-challenge's avg/med; "case_rank" (entries x
    cases) per-case scores; "test_then_rank" (entries x resamples), every entry scored on the
    same bootstrap resamples. ``baseline`` flags entries that get a would-be rank only.
    """
    if method not in _AGGREGATES:
        raise ValueError(f"unknown ranking method {method!r}; choose from {', '.join(METHODS)}")
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    n = len(scores)
    is_baseline = np.zeros(n, bool) if baseline is None else np.asarray(baseline, dtype=bool)
    if is_baseline.shape != (n,):
        raise ValueError(f"baseline needs one flag per entry ({n}), got {is_baseline.shape}")
    ranked = ~np.isnan(scores).all(axis=1)  # a failed or empty entry takes no rank
    aggregate = _AGGREGATES[method]

    def ranks_among(members: np.ndarray) -> np.ndarray:
        key = aggregate(scores[members], higher_is_better, alpha)  # lower key is better
        return competition_ranks(key[:, None], False)[:, 0]

    result: list[int | None] = [None] * n
    participants = np.flatnonzero(ranked & ~is_baseline)
    for i, r in zip(participants, ranks_among(participants), strict=True):
        result[i] = int(r)
    for b in np.flatnonzero(ranked & is_baseline):
        # Rank the baseline among the participants alone: its would-be rank.
        result[b] = int(ranks_among(np.r_[participants, b])[-1])
    return result


def _by_score(scores: np.ndarray, higher_is_better: bool | Sequence[bool], _: float) -> np.ndarray:
    if scores.shape[1] != 1:
        raise ValueError(f'method "score" takes one metric, got {scores.shape[1]} columns')
    return competition_ranks(scores, higher_is_better)[:, 0].astype(np.float64)


def _mean_rank(scores: np.ndarray, higher_is_better: bool | Sequence[bool], _: float) -> np.ndarray:
    return competition_ranks(scores, higher_is_better).mean(axis=1)


def _median_rank(
    scores: np.ndarray, higher_is_better: bool | Sequence[bool], _: float
) -> np.ndarray:
    return np.median(competition_ranks(scores, higher_is_better), axis=1)


def _significant_wins(
    scores: np.ndarray, higher_is_better: bool | Sequence[bool], alpha: float
) -> np.ndarray:
    """Minus the number of entries each one beats in a one-sided paired bootstrap test.

    i beats j when the share of resamples in which i is not strictly better than j (the
    bootstrap p-value) is below ``alpha``; an undefined value is never better.
    """
    if not isinstance(higher_is_better, bool | np.bool_):
        raise ValueError('method "test_then_rank" takes one higher_is_better flag')
    keys = scores if higher_is_better else -scores
    # (entries, entries, resamples) comparisons; NaN compares False, so it never wins.
    better = keys[:, None, :] > keys[None, :, :]
    p_values = 1.0 - better.mean(axis=2)
    wins = (p_values < alpha).sum(axis=1)
    return -wins.astype(np.float64)


_AGGREGATES: dict[str, Callable[[np.ndarray, bool | Sequence[bool], float], np.ndarray]] = {
    "score": _by_score,
    "mean_rank": _mean_rank,
    "median_rank": _median_rank,
    "case_rank": _mean_rank,  # rank entries per case, mean over cases, then rank that
    "test_then_rank": _significant_wins,
}
