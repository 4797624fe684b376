"""Subgroups in evaluate(): seen/unseen centres, lesion size bands, diagnoses, confusion."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from sklearn import metrics as sk

from evaluator import compute_metrics, evaluate, parse_predictions, read_ground_truth
from evaluator.cases import cases_from
from evaluator.subgroups import SIZE_BANDS, size_bands

# (id, diameter in mm, band or None for unknown)
BANDS = [
    ("small", 5.0, "<20 mm"),
    ("just under 20", 19.99, "<20 mm"),
    ("20 opens the middle band", 20.0, "20-50 mm"),
    ("50 closes the middle band", 50.0, "20-50 mm"),
    ("just over 50", 50.01, ">50 mm"),
    ("unknown", math.nan, None),
]  # fmt: skip


@pytest.mark.parametrize(("diameter", "band"), [b[1:] for b in BANDS], ids=[b[0] for b in BANDS])
def test_size_band_boundaries(diameter, band):
    found = [label for label, rows in size_bands(np.array([diameter])).items() if len(rows)]
    assert found == ([] if band is None else [band])
    assert [label for label, _, _ in SIZE_BANDS] == ["<20 mm", "20-50 mm", ">50 mm"]


@pytest.fixture
def scored(make_ground_truth, make_predictions):
    truth = make_ground_truth(n=90, centres=3)  # diameters 10..49 mm
    return truth, parse_predictions(make_predictions(truth), truth)


def test_seen_centres_are_flagged(scored):
    truth, predictions = scored
    flagged = evaluate(predictions, truth, n_bootstrap=0, training_centres={"C0", "C2"})
    assert [c["seen"] for c in flagged["per_centre"].values()] == [True, False, True]
    plain = evaluate(predictions, truth, n_bootstrap=0)
    assert [c["seen"] for c in plain["per_centre"].values()] == [None, None, None]


def test_size_bands_hold_their_cases(scored):
    truth, predictions = scored
    result = evaluate(predictions, truth, n_bootstrap=20)
    bands = result["per_size_band"]
    diameters = np.array([float(d) for d in truth.extra["lesion_diameter_mm"]])
    assert bands["<20 mm"]["n_cases"] == int(np.sum(diameters < 20))
    assert bands["20-50 mm"]["n_cases"] == int(np.sum(diameters >= 20))
    assert bands[">50 mm"]["n_cases"] == 0 and result["n_unknown_size"] == 0
    rows = np.flatnonzero(diameters < 20)
    expected = compute_metrics(cases_from(predictions, truth).take(rows))
    assert bands["<20 mm"]["metrics"]["auc"]["value"] == expected["auc"].value
    assert bands[">50 mm"]["metrics"]["auc"]["value"] is None
    json.dumps(result, allow_nan=False)


def test_no_diameter_column_no_bands():
    text = "case_id,diagnosis,malignant,centre\nA,HCC,1,X\nB,FNH,0,X\n"
    truth = read_ground_truth(io.StringIO(text), classes=("HCC", "FNH"))
    doc = {"predictions": [
        {"case_id": "A", "malignant_probability": 0.9,
         "diagnosis_probabilities": {"HCC": 0.9, "FNH": 0.1}},
        {"case_id": "B", "malignant_probability": 0.6,
         "diagnosis_probabilities": {"HCC": 0.7, "FNH": 0.3}},
    ]}  # fmt: skip
    result = evaluate(parse_predictions(doc, truth), truth, n_bootstrap=10)
    assert result["per_size_band"] is None and result["n_unknown_size"] is None
    assert result["confusion_matrix"] == {"classes": ["HCC", "FNH"], "counts": [[1, 0], [1, 0]]}
    fnh = result["per_diagnosis"]["FNH"]["metrics"]
    assert fnh["recall"]["value"] == 0.0
    assert fnh["mean_true_probability"]["value"] == pytest.approx(0.3)


def test_confusion_and_per_diagnosis_match_sklearn(scored):
    truth, predictions = scored
    result = evaluate(predictions, truth, n_bootstrap=50)
    cases = cases_from(predictions, truth)
    d, d_hat = cases.diagnosis, cases.predicted_diagnosis
    labels = list(range(len(cases.classes)))
    assert (
        result["confusion_matrix"]["counts"]
        == sk.confusion_matrix(d, d_hat, labels=labels).tolist()
    )
    recalls = sk.recall_score(d, d_hat, labels=labels, average=None)
    for k, label in enumerate(cases.classes):
        entry = result["per_diagnosis"][label]
        assert entry["n_cases"] == int(np.sum(d == k))
        recall = entry["metrics"]["recall"]
        assert recall["value"] == pytest.approx(recalls[k], abs=1e-12)
        assert recall["ci_low"] <= recall["value"] <= recall["ci_high"]
        mean_p = cases.diagnosis_probabilities[d == k, k].mean()
        assert entry["metrics"]["mean_true_probability"]["value"] == pytest.approx(mean_p)
