"""ROC AUC as a weighted Mann-Whitney statistic, for many weightings of the same cases."""

from __future__ import annotations

import numpy as np

from evaluator import _blocked


def weighted_auc(scores: np.ndarray, positive: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(B,) AUC of ``scores`` for the ``positive`` cases under each row of ``weights`` (B, n).

    AUC = P(score of a positive > score of a negative) + 1/2 P(equal), over weighted pairs;
    this is what sklearn's trapezoidal ROC area gives, ties included. NaN where a row has no
    positive or no negative weight. Sorting happens once, whatever B is.
    """
    columns = _blocked.Columns.from_weights(weights)
    return _blocked.auc(columns, np.asarray(scores, dtype=np.float64), positive)
