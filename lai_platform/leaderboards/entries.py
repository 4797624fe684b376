"""Stored results as the table a ranking method reads (evaluator.rank_methods.EntryScores)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property

import numpy as np

from lai_platform.leaderboards.parts import metric_value, part_metrics
from lai_platform.models import Result


class StoredEntries:
    """One row per result, on one part of the cases. `counts` gives the phase's shared
    resample draw counts of that part, read only if a method asks for them."""

    def __init__(self, results: Sequence[Result], part: str,
                 counts: Callable[[], np.ndarray]) -> None:
        self.results = list(results)
        self.part = part
        self._counts = counts

    def values(self, metric: str) -> np.ndarray:
        return np.array(
            [metric_value(part_metrics(r, self.part), metric) for r in self.results],
            dtype=np.float64,
        )

    def resampled(self, metric: str) -> np.ndarray:
        return self._stored("resampled", metric)

    def case_scores(self, metric: str) -> np.ndarray:
        return self._stored("case_scores", metric)

    def resample_counts(self) -> np.ndarray:
        return self._shared_counts

    @cached_property
    def _shared_counts(self) -> np.ndarray:
        return self._counts()

    def _stored(self, column: str, metric: str) -> np.ndarray:
        """The results' stored vectors as one matrix, NaN for null; no columns when a result
        has none (scored before, or by an evaluation container)."""
        rows = []
        for result in self.results:
            values = ((getattr(result, column) or {}).get(self.part) or {}).get(metric)
            rows.append([np.nan if v is None else v for v in values] if values else None)
        width = max((len(r) for r in rows if r is not None), default=0)
        return np.array([r if r is not None else [np.nan] * width for r in rows],
                        dtype=np.float64).reshape(len(rows), width)
