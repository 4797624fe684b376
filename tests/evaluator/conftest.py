"""Synthetic truth and predictions for the evaluator tests (no real patient data)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import numpy as np
import pytest

from evaluator import Cases, GroundTruth, read_ground_truth

# The LAI demo's labels (its task lives in examples/lai-liver/challenge.yaml, not in the
# evaluator): test data only.
LAI_DIAGNOSES = ("HCC", "iCCA", "metastasis", "adenoma", "FNH", "haemangioma")
MALIGNANT_DIAGNOSES = frozenset(LAI_DIAGNOSES[:3])


def synthetic_cases(seed: int, n: int = 120, k: int = 6, ties: bool = False) -> Cases:
    """Random but informative predictions; every class present; ``ties`` rounds scores."""
    rng = np.random.default_rng(seed)
    diagnosis = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
    rng.shuffle(diagnosis)
    malignant = (diagnosis < k // 2).astype(np.int64)
    probs = rng.dirichlet(np.ones(k), n)
    probs[np.arange(n), diagnosis] += rng.uniform(0, 0.8, n)  # some signal, many errors
    probs /= probs.sum(axis=1, keepdims=True)
    p_malignant = np.clip(0.5 * malignant + rng.uniform(-0.2, 0.6, n), 0, 1)
    if ties:
        probs, p_malignant = np.round(probs, 1), np.round(p_malignant, 1)
    return Cases(
        malignant=malignant,
        malignant_probability=p_malignant,
        diagnosis=diagnosis,
        diagnosis_probabilities=probs,
        classes=LAI_DIAGNOSES[:k],
    )


def ground_truth_csv(n: int, seed: int = 0, centres: int = 3) -> str:
    rng = np.random.default_rng(seed)
    lines = ["case_id,diagnosis,malignant,centre,lesion_diameter_mm"]
    for i in range(n):
        diagnosis = LAI_DIAGNOSES[i % 6 if i < 6 else int(rng.integers(0, 6))]
        malignant = int(diagnosis in MALIGNANT_DIAGNOSES)
        lines.append(f"LAI-{i + 1:04d},{diagnosis},{malignant},C{i % centres},{10 + i % 40}")
    return "\n".join(lines) + "\n"


def predictions_document(ground_truth: GroundTruth, seed: int = 0) -> dict:
    """A valid predictions.json for ``ground_truth``, informative but imperfect."""
    rng = np.random.default_rng(seed)
    entries = []
    for case_id, diagnosis in zip(ground_truth.case_ids, ground_truth.diagnosis, strict=True):
        probs = rng.dirichlet(np.ones(len(ground_truth.classes)))
        probs[ground_truth.classes.index(diagnosis)] += rng.uniform(0, 1.5)
        probs /= probs.sum()
        p_malignant = sum(
            float(p)
            for p, c in zip(probs, ground_truth.classes, strict=True)
            if c in MALIGNANT_DIAGNOSES
        )
        entries.append(
            {
                "case_id": case_id,
                "malignant_probability": min(1.0, p_malignant),
                "diagnosis_probabilities": dict(
                    zip(ground_truth.classes, map(float, probs), strict=True)
                ),
            }
        )
    return {"predictions": entries}


@pytest.fixture
def make_ground_truth() -> Callable[..., GroundTruth]:
    def make(n: int = 60, seed: int = 0, centres: int = 3) -> GroundTruth:
        return read_ground_truth(io.StringIO(ground_truth_csv(n, seed, centres)),
                                 classes=LAI_DIAGNOSES)

    return make


@pytest.fixture
def make_cases() -> Callable[..., Cases]:
    return synthetic_cases


@pytest.fixture
def make_predictions() -> Callable[..., dict]:
    return predictions_document


@pytest.fixture
def write_inputs(tmp_path) -> Callable[..., tuple]:
    """Write truth.csv and predictions.json (optionally changed) under tmp_path."""

    def write(n: int = 30, change: Callable[[dict], None] | None = None) -> tuple:
        text = ground_truth_csv(n)
        truth_path = tmp_path / "truth.csv"
        truth_path.write_text(text)
        document = predictions_document(read_ground_truth(io.StringIO(text), classes=LAI_DIAGNOSES))
        if change is not None:
            change(document)
        predictions_path = tmp_path / "predictions.json"
        predictions_path.write_text(json.dumps(document))
        return predictions_path, truth_path

    return write
