"""Stored results as the table a ranking method reads (evaluator.rank_methods.EntryScores)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from typing import Protocol

import numpy as np
from sqlalchemy import select

from lai_platform.extensions import db
from lai_platform.models import ResultDetail
from lai_platform.scoring.vectors import StoredVectors


class Ranked(Protocol):
    """A result as ranking reads it (a `Result` row or a lighter record)."""

    submission_id: int
    part_values: dict


class StoredEntries:
    """One row per result, on one part of the cases. Values come from the light result rows;
    the vectors of all entries are read in one query, only if a method asks for them; `counts`
    gives the phase's shared resample draw counts of the part, also only if asked."""

    def __init__(self, results: Sequence[Ranked], part: str,
                 counts: Callable[[], np.ndarray]) -> None:
        self.results = list(results)
        self.part = part
        self._counts = counts

    def subset(self, rows: Iterable[int]) -> StoredEntries:
        """The same part for some of the entries, sharing what was already read."""
        rows = list(rows)
        other = StoredEntries([self.results[i] for i in rows], self.part, self.resample_counts)
        other.__dict__["_vectors"] = [self._vectors[i] for i in rows]
        return other

    def values(self, metric: str) -> np.ndarray:
        values = [((r.part_values or {}).get(self.part) or {}).get(metric) for r in self.results]
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    def resampled(self, metric: str) -> np.ndarray:
        return self._matrix("resampled", metric)

    def case_scores(self, metric: str) -> np.ndarray:
        return self._matrix("case", metric)

    def resample_counts(self) -> np.ndarray:
        return self._shared_counts

    @cached_property
    def _shared_counts(self) -> np.ndarray:
        return self._counts()

    @cached_property
    def _vectors(self) -> list[StoredVectors]:
        ids = [r.submission_id for r in self.results]
        blobs: dict[int, bytes | None] = {}
        for start in range(0, len(ids), 500):  # bounded IN lists
            chunk = ids[start:start + 500]
            blobs.update(db.session.execute(
                select(ResultDetail.submission_id, ResultDetail.vectors)
                .where(ResultDetail.submission_id.in_(chunk))
            ).tuples().all())
        return [StoredVectors(blobs.get(i)) for i in ids]

    def _matrix(self, kind: str, metric: str) -> np.ndarray:
        """The entries' vectors as one matrix; NaN rows for an entry without them, and no
        columns when none has them (scored by an evaluation container)."""
        rows = [vectors.get(kind, self.part, metric) for vectors in self._vectors]
        width = max((len(r) for r in rows if r is not None), default=0)
        matrix = np.full((len(rows), width), np.nan)
        for i, row in enumerate(rows):
            if row is not None and len(row) == width:
                matrix[i] = row
        return matrix
