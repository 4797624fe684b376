"""Rank stability from the bootstrap, as challengeR reports it.

Every entry is scored on the SAME resamples of the test cases, so resample b gives a full
leaderboard; how much those leaderboards move says how much the real one can be trusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evaluator.bootstrap import Resamples, resample_values
from evaluator.cases import Cases
from evaluator.rank_methods import competition_ranks


def resampled_scores(metric: str, entries: Sequence[Cases], indices: np.ndarray) -> np.ndarray:
    """(entries, B) value of ``metric`` for each entry's predictions on each resample row of
    ``indices`` (B, n), shared by all entries; NaN where undefined."""
    if not entries:
        return np.empty((0, indices.shape[0]))
    shared = Resamples(indices, len(entries[0]))  # count matrices built once for all entries
    return np.stack([resample_values(cases, shared, [metric])[metric] for cases in entries])


@dataclass(frozen=True)
class RankStability:
    ranks: list[int]  # on the full data
    rank_low: list[int]  # percentile interval of each entry's bootstrap ranks
    rank_high: list[int]
    hold_probability: list[float]  # share of resamples where the entry keeps its rank
    kendall_tau_median: float | None  # full ranking vs each resampled ranking
    kendall_tau_low: float | None
    kendall_tau_high: float | None
    n_resamples: int = 0

    @property
    def rank_intervals(self) -> list[str]:
        """Each entry's rank interval as text, e.g. "1-3"."""
        return [f"{low}-{high}" for low, high in zip(self.rank_low, self.rank_high, strict=True)]


def rank_stability(
    full: np.ndarray, resampled: np.ndarray, higher_is_better: bool, confidence: float = 0.95
) -> RankStability:
    """Stability of the ranking by ``full`` (entries,) given ``resampled`` (entries, B) scores.

    Undefined values rank last (see ``competition_ranks``). Rank intervals are the
    ``inverted_cdf`` percentiles, so their ends are ranks that actually occurred.
    """
    full = np.asarray(full, dtype=np.float64)
    resampled = np.asarray(resampled, dtype=np.float64)
    if resampled.shape[0] != full.shape[0] or resampled.shape[1] == 0:
        raise ValueError("need (entries, B >= 1) resampled scores for the same entries")
    ranks = competition_ranks(full[:, None], higher_is_better)[:, 0]
    boot = competition_ranks(resampled, higher_is_better)  # (entries, B)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail], axis=1, method="inverted_cdf")
    taus = kendall_tau_b(ranks, boot)
    taus = taus[~np.isnan(taus)]
    summary = (
        np.quantile(taus, [0.5, tail, 1.0 - tail]).tolist() if taus.size else [None] * 3
    )
    return RankStability(
        ranks=ranks.tolist(),
        rank_low=low.astype(int).tolist(),
        rank_high=high.astype(int).tolist(),
        hold_probability=(boot == ranks[:, None]).mean(axis=1).tolist(),
        kendall_tau_median=summary[0],
        kendall_tau_low=summary[1],
        kendall_tau_high=summary[2],
        n_resamples=int(resampled.shape[1]),
    )


def kendall_tau_b(reference: np.ndarray, others: np.ndarray) -> np.ndarray:
    """(B,) Kendall's tau-b between ``reference`` (entries,) and each column of ``others``.

    tau-b = sum of sign products over pairs / sqrt(non-tied pairs in each): scipy's default.
    NaN where either ranking is all ties. One entry's pairs at a time: memory stays at
    (entries, B) however many entries, instead of (entries², B).
    """
    reference = np.asarray(reference, dtype=np.float64)
    others = np.asarray(others, dtype=np.float64)
    n, n_columns = others.shape
    concordance = np.zeros(n_columns)
    untied_others = np.zeros(n_columns)
    untied_reference = 0.0
    for i in range(n - 1):
        x = np.sign(reference[i] - reference[i + 1 :])  # (n - i - 1,)
        y = np.sign(others[i] - others[i + 1 :])  # (n - i - 1, B)
        concordance += x @ y
        untied_others += np.count_nonzero(y, axis=0)
        untied_reference += np.count_nonzero(x)
    denominator = np.sqrt(untied_reference * untied_others)
    defined = denominator > 0
    return np.where(defined, concordance / np.where(defined, denominator, 1.0), np.nan)
