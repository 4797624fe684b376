"""evaluate(): the result document, per centre, JSON-safe and reproducible."""

from __future__ import annotations

import json

import pytest

from evaluator import (
    METRICS,
    GroundTruthError,
    PredictionError,
    compute_metrics,
    evaluate,
    evaluate_files,
    parse_predictions,
)
from evaluator.cases import cases_from


@pytest.fixture
def scored(make_ground_truth, make_predictions):
    truth = make_ground_truth(n=90, centres=3)
    predictions = parse_predictions(make_predictions(truth), truth)
    return truth, predictions


def test_result_document_shape(scored):
    truth, predictions = scored
    result = evaluate(predictions, truth, n_bootstrap=100, seed=3)
    assert result["n_cases"] == 90
    assert (result["n_bootstrap"], result["seed"], result["confidence"]) == (100, 3, 0.95)
    assert result["classes"] == list(truth.classes)
    assert list(result["metrics"]) == list(METRICS)
    for entry in result["metrics"].values():
        assert set(entry) == {"value", "ci_low", "ci_high", "n_resamples", "undefined"}
        assert entry["ci_low"] <= entry["value"] <= entry["ci_high"]
        assert entry["undefined"] is None and entry["n_resamples"] == 100
    assert list(result["per_centre"]) == ["C0", "C1", "C2"]
    assert sum(c["n_cases"] for c in result["per_centre"].values()) == 90
    json.dumps(result, allow_nan=False)  # strict JSON: no NaN anywhere


def test_point_values_match_the_metrics_and_centres_match_subsets(scored):
    truth, predictions = scored
    result = evaluate(predictions, truth, n_bootstrap=0)
    cases = cases_from(predictions, truth)
    for name, value in compute_metrics(cases).items():
        assert result["metrics"][name]["value"] == value.value
        assert result["metrics"][name]["ci_low"] is None  # no resamples, no interval
    centre_rows = [i for i, c in enumerate(truth.centre) if c == "C1"]
    for name, value in compute_metrics(cases.take(centre_rows)).items():
        assert result["per_centre"]["C1"]["metrics"][name]["value"] == value.value


def test_same_seed_same_result(scored):
    truth, predictions = scored
    first = evaluate(predictions, truth, n_bootstrap=50, seed=11)
    assert first == evaluate(predictions, truth, n_bootstrap=50, seed=11)
    assert first != evaluate(predictions, truth, n_bootstrap=50, seed=12)


def test_undefined_metrics_are_null_with_a_reason(make_ground_truth, make_predictions):
    truth = make_ground_truth(n=6, centres=6)  # one case per centre
    predictions = parse_predictions(make_predictions(truth), truth)
    result = evaluate(predictions, truth, n_bootstrap=20)
    single = result["per_centre"]["C0"]["metrics"]["auc"]
    assert single == {
        "value": None,
        "ci_low": None,
        "ci_high": None,
        "n_resamples": 0,
        "undefined": "undefined: needs both malignant and benign cases",
    }
    json.dumps(result, allow_nan=False)


def test_predictions_from_another_ground_truth_are_refused(make_ground_truth, make_predictions):
    truth = make_ground_truth(n=12)
    other = make_ground_truth(n=13)
    predictions = parse_predictions(make_predictions(truth), truth)
    with pytest.raises(ValueError, match="not validated against this ground truth"):
        evaluate(predictions, other)


def test_evaluate_files(write_inputs):
    predictions_path, truth_path = write_inputs(n=30)
    result = evaluate_files(predictions_path, truth_path, n_bootstrap=30, seed=1)
    assert result["n_cases"] == 30 and result["seed"] == 1
    assert evaluate_files(str(predictions_path), str(truth_path), n_bootstrap=30, seed=1) == result


def test_evaluate_files_reports_bad_inputs(write_inputs, tmp_path):
    def break_first(document):
        document["predictions"][0]["malignant_probability"] = 1.7

    predictions_path, truth_path = write_inputs(n=10, change=break_first)
    with pytest.raises(PredictionError, match="case LAI-0001: malignant_probability 1.7"):
        evaluate_files(predictions_path, truth_path)
    with pytest.raises(PredictionError, match="cannot read predictions file"):
        evaluate_files(tmp_path / "absent.json", truth_path)
    with pytest.raises(GroundTruthError, match="cannot read ground truth"):
        evaluate_files(predictions_path, tmp_path / "absent.csv")
