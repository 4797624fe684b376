"""Sensitivity at a fixed specificity, for many weightings of the same cases at once."""

from __future__ import annotations

import numpy as np

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
    n_samples = weights.shape[0]
    if len(scores) == 0:
        return np.full(n_samples, np.nan)
    order = np.argsort(-scores, kind="stable")  # descending: lowering t adds cases in order
    sorted_scores = scores[order]
    is_positive = np.asarray(positive, dtype=bool)[order]
    w = weights[:, order]  # (B, n): gathering whole rows is cache-friendly
    true_pos = np.cumsum(np.where(is_positive, w, 0.0), axis=1)
    false_pos = np.cumsum(np.where(is_positive, 0.0, w), axis=1)
    # Only the last case of a group of equal scores is a reachable threshold.
    ends = np.flatnonzero(np.r_[sorted_scores[1:] != sorted_scores[:-1], True])
    true_pos, false_pos = true_pos[:, ends], false_pos[:, ends]
    positives, negatives = true_pos[:, -1], false_pos[:, -1]
    allowed = false_pos <= (1.0 - min_specificity) * negatives[:, None] + _SLACK
    # false_pos only grows as t falls, so the allowed thresholds are a prefix of the groups
    # and the best sensitivity is at the last one (0 when none: the threshold above all).
    n_allowed = allowed.sum(axis=1)
    best = np.where(
        n_allowed > 0, true_pos[np.arange(n_samples), np.maximum(n_allowed - 1, 0)], 0.0
    )
    defined = (positives > 0) & (negatives > 0)
    return np.where(defined, best / np.where(defined, positives, 1.0), np.nan)
