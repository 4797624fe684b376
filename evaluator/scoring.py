"""Score validated predictions: every metric with its bootstrap CI, overall and per centre."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from evaluator.bootstrap import DEFAULT_RESAMPLES, Interval, bootstrap_intervals
from evaluator.cases import Cases, cases_from
from evaluator.ground_truth import GroundTruth, read_ground_truth
from evaluator.metrics import METRICS, compute_metrics
from evaluator.validation import PredictionError, Predictions, parse_predictions


def evaluate(
    predictions: Predictions,
    ground_truth: GroundTruth,
    *,
    n_bootstrap: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """A JSON-serialisable result: metrics with CIs for all cases and for each centre."""
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
        }
    return {
        "n_cases": len(cases),
        "n_bootstrap": n_bootstrap,
        "seed": seed,
        "confidence": confidence,
        "classes": list(cases.classes),
        "metrics": overall,
        "per_centre": per_centre,
    }


def evaluate_files(
    predictions_path: str | Path, ground_truth_path: str | Path, **options: Any
) -> dict[str, Any]:
    """Read, validate and score; raises GroundTruthError or PredictionError with the reasons."""
    ground_truth = read_ground_truth(ground_truth_path)
    try:
        raw = Path(predictions_path).read_bytes()
    except OSError as error:
        raise PredictionError([f"cannot read predictions file: {error}"]) from None
    return evaluate(parse_predictions(raw, ground_truth), ground_truth, **options)


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
