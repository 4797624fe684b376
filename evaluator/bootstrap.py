"""Case-level bootstrap confidence intervals, stratified by malignant/benign and seeded.

All resamples are scored at once: the draws become a (B, n) count matrix and each metric is
computed for every row with array operations (see ``weighted.py``), never one call per resample.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from evaluator.cases import Cases
from evaluator.metrics import METRICS
from evaluator.weighted import Samples

DEFAULT_RESAMPLES = 1000
# Score resamples in blocks so memory stays at a few (block, n) float arrays.
_BLOCK_CELLS = 4_000_000


@dataclass(frozen=True)
class Interval:
    low: float | None
    high: float | None
    n_used: int  # resamples where the metric was defined


def resample_indices(strata: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(B, n) case indices: each row redraws every stratum with replacement, keeping its size.

    Stratifying keeps the malignant/benign mix fixed, so binary metrics stay defined in every
    resample whenever they are defined on the data.
    """
    blocks = []
    for label in np.unique(strata):  # sorted, so the draw order is reproducible
        members = np.flatnonzero(strata == label)
        blocks.append(members[rng.integers(0, len(members), size=(n_resamples, len(members)))])
    if not blocks:
        return np.zeros((n_resamples, 0), dtype=np.int64)
    return np.concatenate(blocks, axis=1)


class Resamples:
    """Resample rows of case indices, turned into count matrices once (block by block) so that
    any number of entries scored on the same resamples share that work."""

    def __init__(self, indices: np.ndarray, n_cases: int) -> None:
        self.indices = np.asarray(indices)
        self.n_cases = n_cases
        self._blocks: list[Samples] | None = None

    @property
    def blocks(self) -> list[Samples]:
        if self._blocks is None:
            step = max(1, _BLOCK_CELLS // max(1, self.n_cases))
            self._blocks = [
                Samples.from_indices(self.indices[start : start + step], self.n_cases)
                for start in range(0, self.indices.shape[0], step)
            ]
        return self._blocks


def resample_values(
    cases: Cases, indices: np.ndarray | Resamples, names: Iterable[str] | None = None
) -> dict[str, np.ndarray]:
    """(B,) value of each metric on each resample row of ``indices``; NaN where undefined.

    Pass a ``Resamples`` to score several entries on the same resamples without redoing the
    count matrices."""
    names = list(METRICS if names is None else names)
    resamples = indices if isinstance(indices, Resamples) else Resamples(indices, len(cases))
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for samples in resamples.blocks:
        batch = samples.of(cases)
        for name in names:
            parts[name].append(METRICS[name].compute(batch))
    return {
        name: np.concatenate(chunks) if chunks else np.empty(0) for name, chunks in parts.items()
    }


def percentile_interval(values: np.ndarray, confidence: float) -> Interval:
    """Percentile interval of the defined (non-NaN) values."""
    defined = values[~np.isnan(values)]
    if defined.size == 0:
        return Interval(None, None, 0)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(defined, [tail, 1.0 - tail])
    return Interval(float(low), float(high), int(defined.size))


def percentile_intervals(values: dict[str, np.ndarray], confidence: float) -> dict[str, Interval]:
    """``percentile_interval`` of each entry: one quantile call for the (B,) arrays of equal
    length without NaN, the same numbers as one call each."""
    full = [name for name, v in values.items() if v.size and not np.isnan(v).any()]
    lengths = {values[name].shape for name in full}
    out: dict[str, Interval] = {}
    if len(lengths) == 1 and len(full) > 1:
        tail = (1.0 - confidence) / 2.0
        bounds = np.quantile(np.stack([values[name] for name in full]), [tail, 1.0 - tail], axis=1)
        size = values[full[0]].size
        out = {
            name: Interval(float(low), float(high), size)
            for name, low, high in zip(full, bounds[0], bounds[1], strict=True)
        }
    return {name: out.get(name) or percentile_interval(v, confidence) for name, v in values.items()}


def bootstrap_intervals(
    cases: Cases,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    rng: np.random.Generator | int = 0,
    confidence: float = 0.95,
    names: Iterable[str] | None = None,
) -> dict[str, Interval]:
    """Percentile bootstrap interval of each metric (all by default)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if n_resamples < 0:
        raise ValueError(f"n_resamples must be >= 0, got {n_resamples}")
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    indices = resample_indices(cases.malignant, n_resamples, generator)
    values = resample_values(cases, indices, names)
    return percentile_intervals(values, confidence)
