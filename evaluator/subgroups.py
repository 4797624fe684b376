"""Which cases fall in which subgroup: lesion size bands, diagnoses, seen/unseen centres."""

from __future__ import annotations

import math

import numpy as np

from evaluator.cases import Cases
from evaluator.ground_truth import GroundTruth

DIAMETER_COLUMN = "lesion_diameter_mm"
# (label, lowest diameter included, highest excluded); 50 mm itself is in "20-50 mm".
SIZE_BANDS: tuple[tuple[str, float, float], ...] = (
    ("<20 mm", -math.inf, 20.0),
    ("20-50 mm", 20.0, math.nextafter(50.0, math.inf)),
    (">50 mm", math.nextafter(50.0, math.inf), math.inf),
)


def lesion_diameters(ground_truth: GroundTruth) -> np.ndarray | None:
    """(n,) diameters in mm, NaN where blank or not a number; None without the column."""
    column = ground_truth.extra.get(DIAMETER_COLUMN)
    if column is None:
        return None
    return np.array([_to_float(text) for text in column], dtype=np.float64)


def size_bands(diameters: np.ndarray) -> dict[str, np.ndarray]:
    """Case indices of each size band (empty bands included); unknown sizes are in none."""
    return {
        label: np.flatnonzero((diameters >= low) & (diameters < high))
        for label, low, high in SIZE_BANDS
    }


def diagnosis_scores(cases: Cases, label: int) -> dict[str, np.ndarray]:
    """Per-case quantities whose mean over the cases of one diagnosis is a metric of it."""
    members = cases.diagnosis == label
    return {
        # mean over the class's cases = recall (sensitivity) for that diagnosis
        "recall": (cases.predicted_diagnosis[members] == label).astype(np.float64),
        "mean_true_probability": cases.diagnosis_probabilities[members, label],
    }


def _to_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) and value >= 0 else math.nan
