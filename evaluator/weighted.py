"""Cases seen through a matrix of case weights: one row per (re)sample.

A bootstrap resample is fully described by how many times it draws each case, so every metric
can be written once, over a (B, n) weight matrix, and serve both the point estimate (one row
of ones) and all B resamples at once (rows of draw counts) without a Python loop per resample.
The count matrices depend only on the draws, so ``Samples`` builds them once and any number of
entries (predictions for the same cases) can be scored on them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import numpy as np

from evaluator._blocked import Columns
from evaluator.cases import Cases

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Samples:
    """B samples of the same n cases: (B, n) weights and the same weights case-major."""

    weights: np.ndarray  # (B, n) float64
    columns: Columns

    @classmethod
    def from_weights(cls, weights: np.ndarray) -> Samples:
        weights = np.asarray(weights, dtype=np.float64)
        return cls(weights, Columns.from_weights(weights))

    @classmethod
    def from_indices(cls, indices: np.ndarray, n: int) -> Samples:
        """Samples given as a (B, m) matrix of indices of n cases (repeats allowed)."""
        n_samples = indices.shape[0]
        offsets = (np.arange(n_samples) * n)[:, None]
        counts = np.bincount((indices + offsets).ravel(), minlength=n_samples * n)
        weights = counts.reshape(n_samples, n).astype(np.float64)
        return cls(weights, Columns.from_weights(weights, integral=True))

    def of(self, cases: Cases) -> Weighted:
        if len(cases) != self.weights.shape[1]:
            raise ValueError(f"samples are of {self.weights.shape[1]} cases, got {len(cases)}")
        return Weighted(cases, self.weights, self)


@dataclass(frozen=True, eq=False)
class Weighted:
    cases: Cases
    weights: np.ndarray  # (B, n) non-negative counts; row b is sample b
    samples: Samples | None = field(default=None, repr=False)  # the same weights, prepared

    @classmethod
    def whole(cls, cases: Cases) -> Weighted:
        """The data as it is: a single sample holding every case once."""
        return Samples.from_weights(np.ones((1, len(cases)))).of(cases)

    @classmethod
    def from_indices(cls, cases: Cases, indices: np.ndarray) -> Weighted:
        """Samples given as a (B, m) matrix of case indices (repeats allowed)."""
        return Samples.from_indices(indices, len(cases)).of(cases)

    @property
    def n_samples(self) -> int:
        return self.weights.shape[0]

    @cached_property
    def columns(self) -> Columns:
        """The weights case-major, for the rank statistics (see ``_blocked.py``)."""
        if self.samples is not None:
            return self.samples.columns
        return Columns.from_weights(self.weights)

    @cached_property
    def total(self) -> np.ndarray:
        """(B,) number of cases in each sample."""
        return self.binary_confusion.sum(axis=(1, 2))

    @cached_property
    def binary_confusion(self) -> np.ndarray:
        """(B, 2, 2) counts, [truth, predicted], 1 = malignant."""
        return self._confusions[0]

    @cached_property
    def diagnosis_confusion(self) -> np.ndarray:
        """(B, k, k) counts, [truth, predicted], in ``cases.classes`` order."""
        return self._confusions[1]

    @cached_property
    def _confusions(self) -> tuple[np.ndarray, np.ndarray]:
        """Both confusion matrices from one pass over the case-major weights."""
        cases = self.cases
        k = len(cases.classes)
        # One cell per (binary cell, diagnosis cell): a single grouping of the cases, then
        # each matrix is a (exact, whole-count) marginal of the joint counts.
        binary = cases.malignant * 2 + cases.predicted_malignant
        diagnosis = cases.diagnosis * k + cases.predicted_diagnosis
        if k == 0:
            binary_counts = self.columns.cell_sums(binary, 4)
            return binary_counts.reshape(-1, 2, 2), np.zeros((self.n_samples, 0, 0))
        joint = self.columns.cell_sums(binary * (k * k) + diagnosis, 4 * k * k)
        joint = joint.reshape(-1, 4, k * k)
        return joint.sum(axis=2).reshape(-1, 2, 2), joint.sum(axis=1).reshape(-1, k, k)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()``, run once per batch for each ``key``: for results metrics share."""
        memo = self._memo
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    @cached_property
    def _memo(self) -> dict[str, Any]:
        return {}
