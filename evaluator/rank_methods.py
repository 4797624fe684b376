"""Ranking methods an organizer can choose: a registry with one class per method.

Every method ends in competition ranks ("1224": ties share the best rank). An undefined
(NaN) value ranks after every defined one, tied with the other undefined values; an entry
whose scores are all undefined gets no rank and takes none from others. Baselines are ranked
as they would be among the participants, without pushing any participant down.

A method says which metrics it ranks on, which table of scores it reads (metric values,
per-case scores or bootstrap resamples), how it turns that table into a key (lower is
better), which keys its rank stability is measured on, and how it describes itself. Adding a
method is one new class decorated with ``@register``: the platform's leaderboard, settings
checks, scoring page and command line read this registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from evaluator.metrics import METRICS
from evaluator.per_case import PER_CASE_SCORES

DEFAULT_ALPHA = 0.05
Flags = bool | Sequence[bool]
UNDEFINED_RANKS_LAST = (
    "An undefined value (for example sensitivity with no malignant case) ranks after every "
    "defined value of that metric, tied with the other undefined values; an entry with no "
    "defined value at all gets no rank and takes none from others."
)


@dataclass(frozen=True)
class RankingSettings:
    """What a phase says about its ranking."""

    primary_metric: str
    metrics: tuple[str, ...] = ()
    alpha: float = DEFAULT_ALPHA


class EntryScores(Protocol):
    """What a method may read of the entries it ranks: one row per entry, in one order."""

    def values(self, metric: str) -> np.ndarray:
        """(entries,) the metric on all cases of the part; NaN where undefined."""
        ...

    def resampled(self, metric: str) -> np.ndarray:
        """(entries, B) the metric on the shared bootstrap resamples; B = 0 if not stored."""
        ...

    def case_scores(self, metric: str) -> np.ndarray:
        """(entries, cases) per-case scores, lower is better; 0 columns if not stored."""
        ...

    def resample_counts(self) -> np.ndarray:
        """(B, cases) how often each case is drawn in each shared resample."""
        ...


class RankingMethod:
    """One way to rank; subclasses override what differs."""

    name: ClassVar[str]
    summary: ClassVar[str]  # a few words for menus and --help
    explanation: ClassVar[str]  # what it does, for the scoring page
    # Reads stored per-case or resampled vectors, which only the built-in evaluator writes.
    needs_vectors: ClassVar[bool] = False

    def metrics(self, settings: RankingSettings) -> list[str]:
        """The metrics this method ranks on, in order."""
        return [settings.primary_metric]

    def check(self, settings: RankingSettings) -> None:
        """Raise ValueError, in words an organizer can act on, if the settings cannot work."""

    def table(self, data: EntryScores, settings: RankingSettings) -> tuple[np.ndarray, Flags]:
        """The (entries, columns) scores ``aggregate`` reads, and their directions."""
        names = self.metrics(settings)
        return np.stack([data.values(n) for n in names], axis=1), _directions(names)

    def aggregate(self, table: np.ndarray, higher_is_better: Flags, alpha: float) -> np.ndarray:
        """(entries, *batch) key, lower is better; a trailing batch axis is kept."""
        raise NotImplementedError

    def stability_keys(
        self, data: EntryScores, settings: RankingSettings
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(entries,) key on all cases and (entries, B) keys on the shared resamples, lower
        is better, whose ranking is this method's; None when the resamples are not stored."""
        names = self.metrics(settings)
        boot = [data.resampled(n) for n in names]
        if len({b.shape for b in boot}) != 1 or boot[0].shape[1] == 0:
            return None  # scored before these metrics were chosen, or by a container
        full, flags = self.table(data, settings)
        return (
            self.aggregate(full, flags, settings.alpha),
            self.aggregate(np.stack(boot, axis=1), flags, settings.alpha),
        )

    def describe(self, settings: RankingSettings) -> str:
        """How a phase with these settings ranks, in one sentence for participants."""
        raise NotImplementedError


RANKING_METHODS: dict[str, RankingMethod] = {}


def register(cls: type[RankingMethod]) -> type[RankingMethod]:
    RANKING_METHODS[cls.name] = cls()
    return cls


def ranking_method(name: str) -> RankingMethod:
    try:
        return RANKING_METHODS[name]
    except KeyError:
        raise ValueError(
            f"unknown ranking method {name!r}; choose from {', '.join(RANKING_METHODS)}"
        ) from None


@register
class ByScore(RankingMethod):
    name = "score"
    summary = "the primary metric's value"
    explanation = "The phase's primary metric, best first."

    def aggregate(self, table: np.ndarray, higher_is_better: Flags, alpha: float) -> np.ndarray:
        if table.shape[1] != 1:
            raise ValueError(f'method "score" takes one metric, got {table.shape[1]} columns')
        return competition_ranks(table, higher_is_better)[:, 0].astype(np.float64)

    def describe(self, settings: RankingSettings) -> str:
        metric = METRICS[settings.primary_metric]
        direction = "higher" if metric.higher_is_better else "lower"
        return f"Ranked by {metric.label} ({direction} is better)."


@register
class MeanRank(RankingMethod):
    """grand-challenge's "avg": rank on each metric, then rank the mean of those ranks."""

    name = "mean_rank"
    summary = "the mean of the ranks on several metrics"
    explanation = ("Rank every entry on each chosen metric, then rank the mean of those ranks "
                   "(grand-challenge's avg).")
    word = "mean"

    def metrics(self, settings: RankingSettings) -> list[str]:
        return list(dict.fromkeys(settings.metrics or [settings.primary_metric]))

    def aggregate(self, table: np.ndarray, higher_is_better: Flags, alpha: float) -> np.ndarray:
        return self._combine(competition_ranks(table, higher_is_better))

    def _combine(self, ranks: np.ndarray) -> np.ndarray:
        return ranks.mean(axis=1)

    def describe(self, settings: RankingSettings) -> str:
        names = ", ".join(METRICS[n].label for n in self.metrics(settings))
        return f"Ranked by the {self.word} of the ranks on {names}."


@register
class MedianRank(MeanRank):
    """grand-challenge's "med"."""

    name = "median_rank"
    summary = "the median of the ranks on several metrics"
    explanation = ("Rank every entry on each chosen metric, then rank the median of those "
                   "ranks (grand-challenge's med).")
    word = "median"

    def _combine(self, ranks: np.ndarray) -> np.ndarray:
        return np.median(ranks, axis=1)


@register
class CaseRank(RankingMethod):
    """Rank entries on each case by a per-case score, then rank the mean over cases."""

    name = "case_rank"
    summary = "the mean over cases of per-case ranks"
    explanation = ("Rank the entries on every case by a per-case score (the Brier score "
                   "unless the phase names another), average each entry's ranks over the "
                   "cases, rank that.")
    needs_vectors = True
    default_metric = "brier"

    def metrics(self, settings: RankingSettings) -> list[str]:
        return [(settings.metrics or (self.default_metric,))[0]]

    def check(self, settings: RankingSettings) -> None:
        if self.metrics(settings)[0] not in PER_CASE_SCORES:
            raise ValueError(
                f"case_rank needs a per-case metric, one of {', '.join(PER_CASE_SCORES)}"
            )

    def table(self, data: EntryScores, settings: RankingSettings) -> tuple[np.ndarray, Flags]:
        return data.case_scores(self.metrics(settings)[0]), False  # per-case: lower wins

    def aggregate(self, table: np.ndarray, higher_is_better: Flags, alpha: float) -> np.ndarray:
        return competition_ranks(table, higher_is_better).mean(axis=1)

    def stability_keys(
        self, data: EntryScores, settings: RankingSettings
    ) -> tuple[np.ndarray, np.ndarray] | None:
        per_case, _ = self.table(data, settings)
        if per_case.size == 0:
            return None
        ranks = competition_ranks(per_case, False)  # (entries, cases), per case
        counts = data.resample_counts()
        # Each resample's mean per-case rank: the case counts weight the ranks.
        return ranks.mean(axis=1), ranks @ counts.T / per_case.shape[1]

    def describe(self, settings: RankingSettings) -> str:
        label = METRICS[self.metrics(settings)[0]].label
        return f"Ranked by the mean over cases of per-case ranks on {label} (lower is better)."


@register
class TestThenRank(RankingMethod):
    """Count the entries each one beats in a one-sided paired bootstrap test; rank on that.

    Its rank stability is that of the primary metric's ranking.
    """

    name = "test_then_rank"
    summary = "how many entries each one beats significantly"
    explanation = ("For each pair of entries, a paired bootstrap test on the same resamples; "
                   "an entry's score is the number of entries it beats at the phase's "
                   "significance level.")
    needs_vectors = True

    def table(self, data: EntryScores, settings: RankingSettings) -> tuple[np.ndarray, Flags]:
        metric = settings.primary_metric
        return data.resampled(metric), METRICS[metric].higher_is_better

    def aggregate(self, table: np.ndarray, higher_is_better: Flags, alpha: float) -> np.ndarray:
        """i beats j when the share of resamples in which i is not strictly better than j
        (the bootstrap p-value) is below ``alpha``; an undefined value is never better."""
        if not isinstance(higher_is_better, bool | np.bool_):
            raise ValueError('method "test_then_rank" takes one higher_is_better flag')
        keys = table if higher_is_better else -table
        # (entries, entries, resamples) comparisons; NaN compares False, so it never wins.
        better = keys[:, None, :] > keys[None, :, :]
        p_values = 1.0 - better.mean(axis=2)
        return -(p_values < alpha).sum(axis=1).astype(np.float64)

    def stability_keys(
        self, data: EntryScores, settings: RankingSettings
    ) -> tuple[np.ndarray, np.ndarray] | None:
        return RANKING_METHODS[ByScore.name].stability_keys(data, settings)

    def describe(self, settings: RankingSettings) -> str:
        label = METRICS[settings.primary_metric].label
        return (f"Ranked by how many entries each one beats significantly on {label} "
                f"(paired bootstrap, α = {settings.alpha}).")


def check_settings(method: RankingMethod, settings: RankingSettings) -> None:
    """Raise ValueError unless ``method`` can rank with ``settings``."""
    for name in (settings.primary_metric, *settings.metrics):
        if name not in METRICS:
            raise ValueError(f"unknown metric {name!r}")
    if not 0 < settings.alpha < 1:
        raise ValueError("the ranking alpha must be between 0 and 1")
    method.check(settings)


def competition_ranks(values: np.ndarray, higher_is_better: Flags) -> np.ndarray:
    """Ranks of the rows of ``values`` (entries x columns x ...), per column, "1224" style.

    An undefined (NaN) value ranks after every defined one, tied with the other undefined.
    ``higher_is_better`` is one flag for all columns or one per column (axis 1).
    """
    values = np.asarray(values, dtype=np.float64)
    flags = np.asarray(higher_is_better, dtype=bool)
    if flags.ndim == 1 and values.ndim > 2:
        flags = flags.reshape(-1, *([1] * (values.ndim - 2)))  # one per column, any batch
    flags = np.broadcast_to(flags, values.shape[1:])
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
    higher_is_better: Flags = True,
    baseline: Sequence[bool] | None = None,
    alpha: float = DEFAULT_ALPHA,
) -> list[int | None]:
    """Rank entries (rows of ``scores``, the method's table) by ``method``; lower is better.

    ``scores`` by method: "score" (entries,) or (entries, 1) one metric; "mean_rank" /
    "median_rank" (entries x metrics); "case_rank" (entries x cases) per-case scores;
    "test_then_rank" (entries x resamples), every entry scored on the same resamples.
    ``baseline`` flags entries that get a would-be rank only.
    """
    chosen = ranking_method(method)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    n = len(scores)
    is_baseline = np.zeros(n, bool) if baseline is None else np.asarray(baseline, dtype=bool)
    if is_baseline.shape != (n,):
        raise ValueError(f"baseline needs one flag per entry ({n}), got {is_baseline.shape}")
    ranked = ~np.isnan(scores).all(axis=1)  # a failed or empty entry takes no rank

    def ranks_among(members: np.ndarray) -> np.ndarray:
        key = chosen.aggregate(scores[members], higher_is_better, alpha)
        return competition_ranks(key[:, None], False)[:, 0]

    result: list[int | None] = [None] * n
    participants = np.flatnonzero(ranked & ~is_baseline)
    for i, r in zip(participants, ranks_among(participants), strict=True):
        result[i] = int(r)
    for b in np.flatnonzero(ranked & is_baseline):
        # Rank the baseline among the participants alone: its would-be rank.
        result[b] = int(ranks_among(np.r_[participants, b])[-1])
    return result


def rank_entries(
    method: RankingMethod,
    data: EntryScores,
    settings: RankingSettings,
    baseline: Sequence[bool] | None = None,
) -> list[int | None]:
    """Rank the entries ``data`` describes by ``method`` with ``settings``."""
    table, flags = method.table(data, settings)
    return rank(method.name, table, higher_is_better=flags, baseline=baseline,
                alpha=settings.alpha)


def _directions(names: Sequence[str]) -> list[bool]:
    return [METRICS[n].higher_is_better for n in names]
