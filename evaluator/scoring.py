"""Score validated predictions: every metric with its bootstrap CI, overall and per centre."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np

from evaluator.bootstrap import (
    DEFAULT_RESAMPLES,
    Interval,
    bootstrap_intervals,
    percentile_interval,
)
from evaluator.cases import Cases, cases_from
from evaluator.ground_truth import GroundTruth, read_ground_truth
from evaluator.metrics import METRICS, compute_metrics
from evaluator.subgroups import diagnosis_scores, lesion_diameters, size_bands
from evaluator.task import Task
from evaluator.validation import PredictionError, Predictions, parse_predictions


def evaluate(
    predictions: Predictions,
    ground_truth: GroundTruth,
    *,
    n_bootstrap: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
    training_centres: Collection[str] | None = None,
) -> dict[str, Any]:
    """A JSON-serialisable result: metrics with CIs for all cases and for each centre, lesion
    size band and diagnosis. ``training_centres`` flags each centre seen (True) or unseen."""
    cases = cases_from(predictions, ground_truth)
    # One generator, used overall first and then per centre in sorted order: reproducible.
    rng = np.random.default_rng(seed)
    centres = np.array(ground_truth.centre, dtype=object)
    per_centre = {}
    overall = _score(cases, n_bootstrap, rng, confidence)
    for centre in sorted(set(ground_truth.centre)):
        subset = cases.take(np.flatnonzero(centres == centre))
        per_centre[centre] = {
            "n_cases": len(subset),
            "metrics": _score(subset, n_bootstrap, rng, confidence),
            "seen": None if training_centres is None else centre in training_centres,
        }
    # Subgroups after the centres, so the centre results keep their resamples.
    diameters = lesion_diameters(ground_truth)
    per_size_band = None
    if diameters is not None:
        per_size_band = {
            band: {
                "n_cases": len(rows),
                "metrics": _score(cases.take(rows), n_bootstrap, rng, confidence),
            }
            for band, rows in size_bands(diameters).items()
        }
    return {
        "n_cases": len(cases),
        "n_bootstrap": n_bootstrap,
        "seed": seed,
        "confidence": confidence,
        "classes": list(cases.classes),
        "metrics": overall,
        "per_centre": per_centre,
        "confusion_matrix": {
            "classes": list(cases.classes),  # rows: truth, columns: predicted
            "counts": _confusion_counts(cases),
        },
        "per_size_band": per_size_band,
        "n_unknown_size": None if diameters is None else int(np.isnan(diameters).sum()),
        "per_diagnosis": {
            label: _diagnosis_result(cases, k, n_bootstrap, rng, confidence)
            for k, label in enumerate(cases.classes)
        },
    }


def evaluate_files(
    predictions_path: str | Path,
    ground_truth_path: str | Path,
    task: Task | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Read, validate and score; raises GroundTruthError or PredictionError with the reasons.

    ``task`` declares the labels and the binary grouping (see evaluator.task); without one the
    labels are those in the ground truth and the binary truth its ``malignant`` column."""
    ground_truth = read_ground_truth(ground_truth_path, task=task)
    try:
        raw = Path(predictions_path).read_bytes()
    except OSError as error:
        raise PredictionError([f"cannot read predictions file: {error}"]) from None
    result = evaluate(parse_predictions(raw, ground_truth), ground_truth, **options)
    result["task"] = task.to_mapping() if task is not None else None
    return result


def _score(
    cases: Cases, n_bootstrap: int, rng: np.random.Generator, confidence: float
) -> dict[str, dict[str, Any]]:
    points = compute_metrics(cases)
    intervals = bootstrap_intervals(cases, n_resamples=n_bootstrap, rng=rng, confidence=confidence)
    result = {}
    for name in METRICS:
        point, interval = points[name], intervals[name]
        if point.value is None:  # no CI around an undefined value
            interval = Interval(None, None, 0)
        result[name] = {
            "value": point.value,
            "ci_low": interval.low,
            "ci_high": interval.high,
            "n_resamples": interval.n_used,
            "undefined": point.undefined,
        }
    return result


def _confusion_counts(cases: Cases) -> list[list[int]]:
    k = len(cases.classes)
    cells = np.bincount(cases.diagnosis * k + cases.predicted_diagnosis, minlength=k * k)
    return cells.reshape(k, k).tolist()


_DIAGNOSIS_UNDEFINED = "undefined: no cases of this diagnosis"


def _diagnosis_result(
    cases: Cases, label: int, n_bootstrap: int, rng: np.random.Generator, confidence: float
) -> dict[str, Any]:
    """Recall of one diagnosis and the mean probability given to it, each with a CI."""
    metrics = {}
    for name, values in diagnosis_scores(cases, label).items():
        if values.size == 0:
            metrics[name] = {"value": None, "ci_low": None, "ci_high": None,
                             "n_resamples": 0, "undefined": _DIAGNOSIS_UNDEFINED}  # fmt: skip
            continue
        # Both are means over the diagnosis's cases: resample those cases, average each row.
        draws = rng.integers(0, values.size, size=(n_bootstrap, values.size))
        interval = percentile_interval(values[draws].mean(axis=1), confidence)
        metrics[name] = {
            "value": float(values.mean()),
            "ci_low": interval.low,
            "ci_high": interval.high,
            "n_resamples": interval.n_used,
            "undefined": None,
        }
    return {"n_cases": int(np.sum(cases.diagnosis == label)), "metrics": metrics}
