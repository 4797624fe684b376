"""Sensitivity at a fixed specificity, for many weightings of the same cases at once."""

from __future__ import annotations

import numpy as np

from evaluator import _blocked

# Weights are whole draw counts, so a tiny slack only absorbs float error in (1 - 0.9) * N.
_SLACK = 1e-9


def weighted_sens_at_spec(
    scores: np.ndarray, positive: np.ndarray, weights: np.ndarray, min_specificity: float
) -> np.ndarray:
    """(B,) highest sensitivity over thresholds t (predict positive when score >= t) whose
    specificity is >= ``min_specificity``, under each row of ``weights`` (B, n).

    Thresholds are the distinct scores plus one above them all (sensitivity 0, specificity 1),
    the points of sklearn's roc_curve. NaN where a row has no positive or no negative weight.
    Sorting happens once, whatever B is.
    """
    columns = _blocked.Columns.from_weights(weights)
    scores = np.asarray(scores, dtype=np.float64)
    return _blocked.auc_and_sens_at_spec(columns, scores, positive, min_specificity, _SLACK)[1]
