"""ROC curves and reliability bins: equal to scikit-learn, JSON-safe, thinned without loss."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from evaluator import parse_predictions, read_ground_truth
from evaluator.curves import MAX_POINTS, reliability_bins, roc_curve, roc_curves, thin_curve


def _random_scores(seed: int, n: int, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = (0, 1)  # both classes present
    score = np.clip(0.3 * y + rng.uniform(0, 0.7, n), 0, 1)
    return y, np.round(score, 1) if ties else score


# --------------------------------------------------------------------------------------------
# roc_curve
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed, n", [(0, 2), (1, 7), (2, 60), (3, 500)])
def test_roc_curve_equals_sklearn(seed, n, ties):
    y, score = _random_scores(seed, n, ties)
    ours = roc_curve(y, score)
    fpr, tpr, thresholds = sk_roc_curve(y, score, drop_intermediate=False)
    assert ours["reason"] is None
    np.testing.assert_allclose(ours["fpr"], fpr, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["tpr"], tpr, rtol=0, atol=1e-12)
    # sklearn's first threshold is +inf; ours is None so the result stays strict JSON.
    assert np.isinf(thresholds[0]) and ours["thresholds"][0] is None
    np.testing.assert_allclose(ours["thresholds"][1:], thresholds[1:], rtol=0, atol=1e-12)


def test_roc_curve_is_plain_json():
    ours = roc_curve(np.array([True, False, True]), [0.9, 0.2, 0.2])
    assert all(isinstance(v, float) for v in ours["fpr"] + ours["tpr"])
    json.dumps(ours, allow_nan=False)
    assert ours == {
        "fpr": [0.0, 0.0, 1.0],
        "tpr": [0.0, 0.5, 1.0],
        "thresholds": [None, 0.9, 0.2],
        "reason": None,
    }


@pytest.mark.parametrize(
    "y, reason",
    [
        ([1, 1, 1], "undefined: no negative cases"),
        ([0, 0], "undefined: no positive cases"),
        ([], "undefined: no cases"),
    ],
)
def test_roc_curve_without_one_class_is_undefined(y, reason):
    result = roc_curve(np.array(y), np.linspace(0, 1, len(y)))
    assert result == {"fpr": None, "tpr": None, "thresholds": None, "reason": reason}


@pytest.mark.parametrize(
    "y, score",
    [([0, 1], [0.5]), ([0, 2], [0.1, 0.2]), ([0, 1], [0.1, np.nan]), ([0, 1], [0.1, np.inf])],
)
def test_roc_curve_rejects_bad_input(y, score):
    with pytest.raises(ValueError):
        roc_curve(np.array(y), np.array(score))


# --------------------------------------------------------------------------------------------
# thin_curve
# --------------------------------------------------------------------------------------------


def test_thinning_drops_only_points_on_straight_runs():
    # Three positives then three negatives, all scores distinct: a perfect step.
    fps = np.array([0, 0, 0, 0, 1, 2, 3], dtype=float)
    tps = np.array([0, 1, 2, 3, 3, 3, 3], dtype=float)
    assert thin_curve(fps, tps).tolist() == [0, 3, 6]


def test_thinning_keeps_every_corner_and_short_curves():
    fps = np.array([0, 0, 1, 1, 2, 2], dtype=float)
    tps = np.array([0, 1, 1, 2, 2, 3], dtype=float)
    assert thin_curve(fps, tps).tolist() == [0, 1, 2, 3, 4, 5]
    assert thin_curve(np.array([0.0, 1.0]), np.array([0.0, 1.0])).tolist() == [0, 1]


def test_thinning_a_long_curve_keeps_its_ends_and_the_cap():
    y = np.tile([1, 0], 1000)  # alternating labels, distinct scores: every point is a corner
    fps = np.r_[0, np.cumsum(1 - y)].astype(float)
    tps = np.r_[0, np.cumsum(y)].astype(float)
    keep = thin_curve(fps, tps, max_points=50)
    assert len(keep) <= 50 and keep[0] == 0 and keep[-1] == len(fps) - 1
    assert np.all(np.diff(keep) > 0)


# --------------------------------------------------------------------------------------------
# roc_curves
# --------------------------------------------------------------------------------------------


@pytest.fixture
def scored(make_ground_truth, make_predictions):
    truth = make_ground_truth(n=400)
    return parse_predictions(make_predictions(truth), truth), truth


def test_roc_curves_has_the_malignant_curve_then_one_per_diagnosis(scored):
    predictions, truth = scored
    curves = roc_curves(predictions, truth)
    assert list(curves) == ["malignant", *truth.classes]
    assert curves["malignant"]["kind"] == "binary"
    assert {curves[label]["kind"] for label in truth.classes} == {"one_vs_rest"}
    json.dumps(curves, allow_nan=False)  # storable with a result as it is


def test_roc_curves_aucs_equal_sklearn(scored):
    predictions, truth = scored
    curves = roc_curves(predictions, truth)
    expected = roc_auc_score(truth.malignant, predictions.malignant_probability)
    assert curves["malignant"]["auc"] == pytest.approx(expected, abs=1e-12)
    diagnosis = np.array(truth.diagnosis)
    for k, label in enumerate(truth.classes):
        positive = (diagnosis == label).astype(int)
        expected = roc_auc_score(positive, predictions.diagnosis_probabilities[:, k])
        assert curves[label]["auc"] == pytest.approx(expected, abs=1e-12)
        assert curves[label]["n_positive"] == positive.sum()
        assert curves[label]["n_negative"] == len(positive) - positive.sum()


def test_stored_points_are_capped_and_lie_on_the_full_curve(scored):
    predictions, truth = scored
    curves = roc_curves(predictions, truth, max_points=40)
    full = roc_curve(truth.malignant, predictions.malignant_probability)
    stored = curves["malignant"]
    assert stored["n_points_full"] == len(full["fpr"]) > 40
    assert len(stored["fpr"]) == len(stored["tpr"]) == len(stored["thresholds"]) <= 40
    assert (stored["fpr"][0], stored["tpr"][0]) == (0.0, 0.0)
    assert (stored["fpr"][-1], stored["tpr"][-1]) == (1.0, 1.0)
    assert stored["thresholds"][0] is None
    full_points = set(zip(full["fpr"], full["tpr"], full["thresholds"], strict=True))
    kept = zip(stored["fpr"], stored["tpr"], stored["thresholds"], strict=True)
    assert set(kept) <= full_points


def test_default_cap_is_about_two_hundred(make_ground_truth, make_predictions):
    truth = make_ground_truth(n=2000)
    curves = roc_curves(parse_predictions(make_predictions(truth), truth), truth)
    assert all(len(curve["fpr"]) <= MAX_POINTS for curve in curves.values())


def test_a_class_without_negatives_has_no_curve_but_a_reason():
    text = "case_id,diagnosis,malignant,centre\nA,HCC,1,X\nB,iCCA,1,X\nC,HCC,1,X\n"
    truth = read_ground_truth(io.StringIO(text), classes=("HCC", "iCCA"))
    document = {
        "predictions": [
            {
                "case_id": case_id,
                "malignant_probability": p,
                "diagnosis_probabilities": {"HCC": p, "iCCA": 1 - p},
            }
            for case_id, p in (("A", 0.9), ("B", 0.4), ("C", 0.7))
        ]
    }
    curves = roc_curves(parse_predictions(document, truth), truth)
    assert curves["malignant"]["fpr"] is None and curves["malignant"]["auc"] is None
    assert curves["malignant"]["reason"] == "undefined: no benign cases"
    assert curves["HCC"]["auc"] == 1.0 and curves["iCCA"]["auc"] == 1.0
    json.dumps(curves, allow_nan=False)


def test_a_diagnosis_called_malignant_keeps_the_binary_curve():
    text = "case_id,diagnosis,malignant,centre\nA,malignant,1,X\nB,benign,0,X\n"
    truth = read_ground_truth(io.StringIO(text), classes=("malignant", "benign"))
    document = {
        "predictions": [
            {
                "case_id": "A",
                "malignant_probability": 0.8,
                "diagnosis_probabilities": {"malignant": 0.8, "benign": 0.2},
            },
            {
                "case_id": "B",
                "malignant_probability": 0.3,
                "diagnosis_probabilities": {"malignant": 0.3, "benign": 0.7},
            },
        ]
    }
    curves = roc_curves(parse_predictions(document, truth), truth)
    assert curves["malignant"]["kind"] == "binary"
    assert curves["malignant (diagnosis)"]["label"] == "malignant"


# --------------------------------------------------------------------------------------------
# reliability_bins
# --------------------------------------------------------------------------------------------


def test_reliability_bins_by_hand():
    #   prob:   0.0  0.1 | 0.25 0.3 | 0.5 | 0.74 | 0.99 1.0   (n_bins = 4, edges go up)
    prob = np.array([0.0, 0.1, 0.25, 0.3, 0.5, 0.74, 0.99, 1.0])
    y = np.array([0, 0, 1, 0, 1, 1, 1, 0])
    bins = reliability_bins(y, prob, n_bins=4)
    expected = [
        (0.0, 0.25, 2, 0.05, 0.0),
        (0.25, 0.5, 2, 0.275, 0.5),
        (0.5, 0.75, 2, 0.62, 1.0),
        (0.75, 1.0, 2, 0.995, 0.5),
    ]
    for got, (lower, upper, n, predicted, observed) in zip(bins, expected, strict=True):
        assert (got["lower"], got["upper"], got["n"]) == (lower, upper, n)
        assert got["mean_predicted"] == pytest.approx(predicted, abs=1e-12)
        assert got["observed_fraction"] == pytest.approx(observed, abs=1e-12)


def test_empty_bins_have_no_values():
    bins = reliability_bins(np.array([0, 1]), np.array([0.05, 0.95]))
    assert len(bins) == 10
    assert [b["n"] for b in bins] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    for b in bins[1:-1]:
        assert b["mean_predicted"] is None and b["observed_fraction"] is None
    assert bins[3]["lower"] == 0.3 and bins[3]["upper"] == 0.4
    json.dumps(bins, allow_nan=False)


def test_no_cases_gives_only_empty_bins():
    bins = reliability_bins(np.array([], dtype=int), np.array([]), n_bins=3)
    assert [b["n"] for b in bins] == [0, 0, 0]


def test_a_probability_on_an_edge_goes_up_despite_float_error():
    assert 0.57 * 100 < 57  # the float trap this guards against
    bins = reliability_bins(np.array([1]), np.array([0.57]), n_bins=100)
    assert bins[57]["n"] == 1


def test_reliability_bins_agree_with_sklearn_off_the_edges():
    rng = np.random.default_rng(5)
    prob = rng.uniform(0, 1, 300)
    y = (rng.uniform(0, 1, 300) < prob).astype(int)
    bins = reliability_bins(y, prob, n_bins=8)
    observed, predicted = calibration_curve(y, prob, n_bins=8)
    filled = [b for b in bins if b["n"]]
    np.testing.assert_allclose([b["observed_fraction"] for b in filled], observed, atol=1e-12)
    np.testing.assert_allclose([b["mean_predicted"] for b in filled], predicted, atol=1e-12)
    assert sum(b["n"] for b in bins) == 300


@pytest.mark.parametrize("n_bins", [0, -1, 2.5, True])
def test_reliability_bins_rejects_a_bad_bin_count(n_bins):
    with pytest.raises(ValueError):
        reliability_bins(np.array([0, 1]), np.array([0.2, 0.8]), n_bins=n_bins)


def test_reliability_bins_rejects_values_outside_zero_one():
    with pytest.raises(ValueError):
        reliability_bins(np.array([0, 1]), np.array([0.2, 1.2]))
