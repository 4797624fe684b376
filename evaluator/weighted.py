"""Cases seen through a matrix of case weights: one row per (re)sample.

A bootstrap resample is fully described by how many times it draws each case, so every metric
can be written once, over a (B, n) weight matrix, and serve both the point estimate (one row
of ones) and all B resamples at once (rows of draw counts) without a Python loop per resample.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from evaluator.cases import Cases


@dataclass(frozen=True, eq=False)
class Weighted:
    cases: Cases
    weights: np.ndarray  # (B, n) non-negative counts; row b is sample b

    @classmethod
    def whole(cls, cases: Cases) -> Weighted:
        """The data as it is: a single sample holding every case once."""
        return cls(cases, np.ones((1, len(cases)), dtype=np.float64))

    @classmethod
    def from_indices(cls, cases: Cases, indices: np.ndarray) -> Weighted:
        """Samples given as a (B, m) matrix of case indices (repeats allowed)."""
        n_samples, n = indices.shape[0], len(cases)
        offsets = (np.arange(n_samples) * n)[:, None]
        counts = np.bincount((indices + offsets).ravel(), minlength=n_samples * n)
        return cls(cases, counts.reshape(n_samples, n).astype(np.float64))

    @property
    def n_samples(self) -> int:
        return self.weights.shape[0]

    @cached_property
    def total(self) -> np.ndarray:
        """(B,) number of cases in each sample."""
        return self.weights.sum(axis=1)

    @cached_property
    def binary_confusion(self) -> np.ndarray:
        """(B, 2, 2) counts, [truth, predicted], 1 = malignant."""
        return self._confusion(self.cases.malignant, self.cases.predicted_malignant, 2)

    @cached_property
    def diagnosis_confusion(self) -> np.ndarray:
        """(B, k, k) counts, [truth, predicted], in ``cases.classes`` order."""
        k = len(self.cases.classes)
        return self._confusion(self.cases.diagnosis, self.cases.predicted_diagnosis, k)

    def weighted_sum(self, values: np.ndarray) -> np.ndarray:
        """(B,) sum of a per-case quantity over each sample."""
        return self.weights @ values

    def _confusion(self, truth: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
        cell = (truth * k + predicted).astype(np.intp)
        one_hot = np.zeros((len(cell), k * k))
        one_hot[np.arange(len(cell)), cell] = 1.0
        # Integer counts in float64 are exact well past any realistic test-set size.
        return (self.weights @ one_hot).reshape(-1, k, k)
