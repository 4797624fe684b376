"""ROC AUC as a weighted Mann-Whitney statistic, for many weightings of the same cases."""

from __future__ import annotations

import numpy as np


def weighted_auc(scores: np.ndarray, positive: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(B,) AUC of ``scores`` for the ``positive`` cases under each row of ``weights`` (B, n).

    AUC = P(score of a positive > score of a negative) + 1/2 P(equal), over weighted pairs;
    this is what sklearn's trapezoidal ROC area gives, ties included. NaN where a row has no
    positive or no negative weight. Sorting happens once, whatever B is.
    """
    n_samples = weights.shape[0]
    if len(scores) == 0:
        return np.full(n_samples, np.nan)
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    # (B, n) with columns in score order: gathering whole rows is cache-friendly.
    is_positive = np.asarray(positive, dtype=bool)[order]
    w = weights[:, order]
    negatives = np.where(is_positive, 0.0, w)
    positives = w - negatives
    # Cases with equal scores form one group: its negatives count half against its positives.
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    if len(starts) < len(sorted_scores):
        positives = np.add.reduceat(positives, starts, axis=1)
        negatives = np.add.reduceat(negatives, starts, axis=1)
    below = np.cumsum(negatives, axis=1)
    below -= 0.5 * negatives
    wins = np.einsum("ij,ij->i", positives, below)
    pairs = positives.sum(axis=1) * negatives.sum(axis=1)
    return _ratio(wins, pairs)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    defined = denominator > 0
    return np.where(defined, numerator / np.where(defined, denominator, 1.0), np.nan)
