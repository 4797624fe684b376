"""ROC curves and reliability (calibration) bins, as JSON-safe data for the result pages.

Pure numpy. Every number that leaves this module is a Python float/int or None: the curves are
stored with a result, and strict JSON (PostgreSQL's json type) has no NaN or Infinity.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evaluator.cases import cases_from
from evaluator.ground_truth import GroundTruth
from evaluator.validation import Predictions

MAX_POINTS = 200  # per stored curve: plenty for a 360px chart, small enough to store

# Values this close to a bin edge count as on it, so 0.57 lands in [0.57, 0.58) with 100 bins
# although 0.57 * 100 == 56.99999999999999 in floating point.
_EDGE_DECIMALS = 9


def roc_curve(y_true: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    """The ROC curve of ``score`` for the positive (1) cases of ``y_true``.

    The points are sklearn.metrics.roc_curve(..., drop_intermediate=False): one per distinct
    score, highest first, after a leading (0, 0) point. That first threshold is +inf in sklearn
    and None here (strict JSON). When one class is absent the curve is undefined: "fpr", "tpr"
    and "thresholds" are None and "reason" says why; otherwise "reason" is None.
    """
    positive, score = _binary_inputs(y_true, score)
    reason = _undefined_reason(positive)
    if reason is not None:
        return {"fpr": None, "tpr": None, "thresholds": None, "reason": reason}
    fps, tps, thresholds = _roc_counts(positive, score)
    return {
        "fpr": (fps / fps[-1]).tolist(),
        "tpr": (tps / tps[-1]).tolist(),
        "thresholds": [None, *thresholds[1:].tolist()],
        "reason": None,
    }


def roc_curves(
    predictions: Predictions, ground_truth: GroundTruth, max_points: int = MAX_POINTS
) -> dict[str, dict[str, Any]]:
    """The binary curve (positive group vs the rest) under the task's positive name
    ("malignant" in the LAI task), then one one-vs-rest curve per diagnosis under its label,
    in ``ground_truth.classes`` order. Each carries its AUC (from the full curve) and at
    most about ``max_points`` points (see ``thin_curve``)."""
    cases = cases_from(predictions, ground_truth)
    name = ground_truth.positive_name
    curves = {
        name: _curve_entry(name, "binary", cases.malignant, cases.malignant_probability,
                           max_points)
    }
    for k, label in enumerate(cases.classes):
        # A diagnosis spelled like the positive name must not overwrite the binary curve.
        key = label if label not in curves else f"{label} (diagnosis)"
        curves[key] = _curve_entry(
            label,
            "one_vs_rest",
            (cases.diagnosis == k).astype(np.int64),
            cases.diagnosis_probabilities[:, k],
            max_points,
        )
    return curves


def roc_auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Trapezoidal area under a full ROC curve (what sklearn's roc_auc_score gives)."""
    return float(np.trapezoid(np.asarray(tpr, dtype=np.float64), np.asarray(fpr, dtype=np.float64)))


def thin_curve(fps: np.ndarray, tps: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of the ROC points to keep, first and last always included.

    First the interior points on a straight segment go (lossless: the drawn line is the same);
    only if more than ``max_points`` corners remain are they sampled evenly by index.
    """
    n = len(fps)
    if n <= 2:
        return np.arange(n)
    dx, dy = np.diff(fps), np.diff(tps)
    # Counts are whole numbers, so the cross product of consecutive steps is exactly 0 on a
    # straight run (both steps point up/right, so parallel means same direction).
    bends = dx[:-1] * dy[1:] - dy[:-1] * dx[1:] != 0
    keep = np.flatnonzero(np.r_[True, bends, True])
    if len(keep) > max(max_points, 2):
        picks = np.round(np.linspace(0, len(keep) - 1, max(max_points, 2))).astype(np.int64)
        keep = keep[np.unique(picks)]
    return keep


def reliability_bins(y_true: np.ndarray, prob: np.ndarray, n_bins: int = 10) -> list[dict]:
    """Equal-width bins of ``prob`` over [0, 1] with the observed fraction of positives in each.

    Bins are [lower, upper), the last one [lower, 1]: a probability on an edge goes up, as the
    platform's ">= threshold means positive" rule does. Empty bins have n = 0 and None values.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    positive, prob = _binary_inputs(y_true, prob)
    if np.any((prob < 0.0) | (prob > 1.0)):
        raise ValueError("probabilities must lie in [0, 1]")
    index = np.minimum(np.floor(np.round(prob * n_bins, _EDGE_DECIMALS)), n_bins - 1)
    index = index.astype(np.int64)
    counts = np.bincount(index, minlength=n_bins)
    predicted = np.bincount(index, weights=prob, minlength=n_bins)
    observed = np.bincount(index, weights=positive.astype(np.float64), minlength=n_bins)
    return [
        {
            "lower": i / n_bins,
            "upper": (i + 1) / n_bins,
            "n": int(counts[i]),
            "mean_predicted": float(predicted[i] / counts[i]) if counts[i] else None,
            "observed_fraction": float(observed[i] / counts[i]) if counts[i] else None,
        }
        for i in range(n_bins)
    ]


def _curve_entry(
    label: str, kind: str, positive: np.ndarray, score: np.ndarray, max_points: int
) -> dict[str, Any]:
    positive, score = _binary_inputs(positive, score)
    entry: dict[str, Any] = {
        "label": label,
        "kind": kind,
        "n_positive": int(positive.sum()),
        "n_negative": int((~positive).sum()),
        "auc": None,
        "n_points_full": 0,
        "fpr": None,
        "tpr": None,
        "thresholds": None,
        "reason": _undefined_reason(positive, *_class_names(label, kind)),
    }
    if entry["reason"] is not None:
        return entry
    fps, tps, thresholds = _roc_counts(positive, score)
    fpr, tpr = fps / fps[-1], tps / tps[-1]
    keep = thin_curve(fps, tps, max_points)
    entry.update(
        auc=roc_auc(fpr, tpr),  # from the full curve: thinning must not move the AUC
        n_points_full=len(fps),
        fpr=fpr[keep].tolist(),
        tpr=tpr[keep].tolist(),
        thresholds=[None if i == 0 else float(thresholds[i]) for i in keep],
    )
    return entry


def _class_names(label: str, kind: str) -> tuple[str, str]:
    """How the reason for an undefined curve names its two classes."""
    if kind == "binary":
        if label == "malignant":  # the LAI task's words
            return "malignant cases", "benign cases"
        return f"{label} cases", f"cases other than {label}"
    return f"{label} cases", f"cases other than {label}"


def _roc_counts(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, ...]:
    """(fps, tps, thresholds) at each distinct score, highest first, after a (0, 0, inf) point."""
    order = np.argsort(-score, kind="stable")
    sorted_score, sorted_positive = score[order], positive[order]
    # Only the last case of a group of equal scores is a reachable threshold.
    ends = np.flatnonzero(np.r_[sorted_score[1:] != sorted_score[:-1], True])
    tps = np.cumsum(sorted_positive, dtype=np.float64)[ends]
    fps = (ends + 1) - tps
    return np.r_[0.0, fps], np.r_[0.0, tps], np.r_[np.inf, sorted_score[ends]]


def _binary_inputs(y_true: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Truth as bool and scores as float, both 1-D and of equal length; finite scores only."""
    truth = np.asarray(y_true).reshape(-1)
    values = np.asarray(score, dtype=np.float64).reshape(-1)
    if truth.shape != values.shape:
        raise ValueError(f"{truth.size} labels but {values.size} scores")
    if not np.all(np.isin(truth, (0, 1))):
        raise ValueError("labels must be 0/1 (or booleans)")
    if not np.all(np.isfinite(values)):
        raise ValueError("scores must be finite numbers")
    return truth.astype(bool), values


def _undefined_reason(
    positive: np.ndarray, positives: str = "positive cases", negatives: str = "negative cases"
) -> str | None:
    if positive.size == 0:
        return "undefined: no cases"
    if positive.all():
        return f"undefined: no {negatives}"
    if not positive.any():
        return f"undefined: no {positives}"
    return None
