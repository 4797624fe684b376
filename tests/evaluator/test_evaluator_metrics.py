"""Every metric equals scikit-learn's on the same data; edge cases are defined or explained."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn import metrics as sk

from evaluator import METRICS, Cases, compute_metrics
from evaluator.rank_auc import weighted_auc
from evaluator.roc_points import weighted_sens_at_spec
from tests.sklearn_reference import sens_at_spec_via_roc_curve, sklearn_reference

TOLERANCE = 1e-12


def sklearn_values(cases: Cases) -> dict[str, float]:
    return sklearn_reference(cases.malignant, cases.malignant_probability, cases.diagnosis,
                             cases.diagnosis_probabilities)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ties", [False, True], ids=["continuous", "rounded-ties"])
def test_every_metric_matches_sklearn(make_cases, seed, ties):
    cases = make_cases(seed, n=40 + 37 * seed, ties=ties)
    if ties:  # rounding can break the sum-to-one sklearn insists on for multi-class AUC
        cases.diagnosis_probabilities[:] /= cases.diagnosis_probabilities.sum(1, keepdims=True)
    expected = sklearn_values(cases)
    ours = compute_metrics(cases)
    assert set(expected) == set(METRICS)
    for name, value in expected.items():
        assert ours[name].undefined is None, name
        assert ours[name].value == pytest.approx(value, abs=TOLERANCE, rel=0), name


@pytest.mark.parametrize("seed", range(4))
def test_weighted_auc_matches_sklearn_sample_weight(seed):
    rng = np.random.default_rng(seed)
    n = 50
    scores = np.round(rng.random(n), 1)  # plenty of ties
    positive = rng.random(n) < 0.4
    weights = rng.integers(0, 4, size=(5, n)).astype(float)
    ours = weighted_auc(scores, positive, weights)
    for row, value in zip(weights, ours, strict=True):
        expected = sk.roc_auc_score(positive, scores, sample_weight=row)
        assert value == pytest.approx(expected, abs=TOLERANCE, rel=0)


def test_registry_describes_each_metric():
    assert list(METRICS)[:6] == [
        "auc", "balanced_accuracy", "sensitivity", "specificity", "f1", "brier",
    ]  # fmt: skip
    for name, metric in METRICS.items():
        assert metric.name == name
        assert metric.task in ("binary", "multiclass", "composite")
        assert metric.label and metric.definition and metric.undefined_when
        assert "\n" not in metric.definition
        assert metric.higher_is_better is (name not in LOWER_IS_BETTER)


LOWER_IS_BETTER = {"brier", "ece", "mc_brier"}


def edge(malignant, p, diagnosis, probs) -> Cases:
    return Cases(
        malignant=np.array(malignant, dtype=np.int64),
        malignant_probability=np.array(p, dtype=float),
        diagnosis=np.array(diagnosis, dtype=np.int64),
        diagnosis_probabilities=np.array(probs, dtype=float).reshape(len(diagnosis), 3),
        classes=("HCC", "FNH", "haemangioma"),
    )


A, B, C = [0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]
U = [1 / 3, 1 / 3, 1 / 3]

# (id, cases, expected values; None = undefined). Unlisted metrics must just not crash.
EDGE_CASES = [
    (
        "all benign, none predicted malignant",
        edge([0, 0, 0], [0.1, 0.2, 0.3], [1, 2, 1], [B, C, B]),
        {"auc": None, "sensitivity": None, "specificity": 1.0, "f1": None,
         "balanced_accuracy": 1.0, "macro_auc": 1.0, "kappa": 1.0,
         "mcc": None, "sens_at_90_spec": None, "ece": 0.2, "mc_brier": 0.06},
    ),
    (
        "all benign, one predicted malignant",
        edge([0, 0, 0], [0.1, 0.9, 0.3], [1, 2, 1], [B, C, B]),
        {"auc": None, "sensitivity": None, "specificity": 2 / 3, "f1": 0.0,
         "balanced_accuracy": 2 / 3},
    ),
    (
        "all malignant",
        edge([1, 1], [0.7, 0.2], [0, 0], [A, A]),
        {"auc": None, "specificity": None, "sensitivity": 0.5, "f1": 2 / 3,
         "macro_auc": None, "kappa": None, "lld_mmri_score": None, "macro_f1": 1.0,
         "mc_balanced_accuracy": 1.0, "mcc": None, "sens_at_90_spec": None},
    ),
    (
        "constant predictions",
        edge([1, 0, 1, 0], [0.3] * 4, [0, 1, 0, 2], [U] * 4),
        {"auc": 0.5, "sensitivity": 0.0, "specificity": 1.0, "f1": 0.0,
         "balanced_accuracy": 0.5, "kappa": 0.0, "macro_auc": 0.5,
         "mc_balanced_accuracy": 1 / 3, "mcc": 0.0, "sens_at_90_spec": 0.0, "ece": 0.2,
         "mc_brier": 2 / 3},
    ),
    (
        "perfect",
        edge([1, 0, 0], [1.0, 0.0, 0.2], [0, 1, 2], [A, B, C]),
        {name: 1.0 for name in ("auc", "balanced_accuracy", "sensitivity", "specificity",
                                "f1", "macro_f1", "kappa", "mc_balanced_accuracy",
                                "macro_auc", "lld_mmri_score", "mcc", "sens_at_90_spec")}
        | {"brier": 0.04 / 3, "ece": 0.2 / 3, "mc_brier": 0.06},
    ),
    (
        "a single case",
        edge([1], [0.6], [0], [A]),
        {"auc": None, "kappa": None, "macro_auc": None, "sensitivity": 1.0, "brier": 0.16,
         "mcc": None, "sens_at_90_spec": None, "ece": 0.4, "mc_brier": 0.06},
    ),
    (
        "one diagnosis in truth, varied predictions",
        edge([1, 1, 1], [0.9, 0.8, 0.7], [0, 0, 0], [A, B, C]),
        {"macro_auc": None, "kappa": 0.0, "mc_balanced_accuracy": 1 / 3},
    ),
    (
        "no cases",
        edge([], [], [], []),
        {name: None for name in METRICS},
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("cases", "expected"), [c[1:] for c in EDGE_CASES], ids=[c[0] for c in EDGE_CASES]
)
def test_edge_cases_are_defined_or_explained(cases, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy divide-by-zero warnings either
        ours = compute_metrics(cases)
    for name, result in ours.items():
        if result.value is None:
            assert result.undefined == f"undefined: {METRICS[name].undefined_when}"
        else:
            assert result.undefined is None and math.isfinite(result.value)
    for name, value in expected.items():
        if value is None:
            assert ours[name].value is None, name
        else:
            assert ours[name].value == pytest.approx(value, abs=TOLERANCE), name


def test_binary_balanced_accuracy_with_one_class_follows_sklearn():
    cases = EDGE_CASES[1][1]
    y_hat = (cases.malignant_probability >= 0.5).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about the absent class
        expected = sk.balanced_accuracy_score(cases.malignant, y_hat)
    assert compute_metrics(cases)["balanced_accuracy"].value == pytest.approx(expected)


def test_threshold_is_inclusive_and_argmax_ties_go_to_first_class():
    cases = edge([1, 0], [0.5, 0.49], [1, 0], [[0.4, 0.4, 0.2], [0.3, 0.3, 0.4]])
    assert cases.predicted_malignant.tolist() == [1, 0]
    assert cases.predicted_diagnosis.tolist() == [0, 2]


def test_macro_auc_averages_over_diagnoses_present(make_cases):
    cases = make_cases(3, n=80)
    keep = np.flatnonzero(cases.diagnosis != 5)  # drop every haemangioma
    subset = cases.take(keep)
    per_class = [
        sk.roc_auc_score(subset.diagnosis == k, subset.diagnosis_probabilities[:, k])
        for k in range(5)
    ]
    value = compute_metrics(subset, ["macro_auc"])["macro_auc"].value
    assert value == pytest.approx(np.mean(per_class), abs=TOLERANCE)


BENIGN_SCORES = [i / 10 for i in range(10)]  # specificity >= 0.90 allows one false positive

# (id, truth, scores, expected sensitivity at 90% specificity), worked by hand.
SENS_AT_SPEC = [
    ("one false positive allowed, boundary spec = 0.9 kept",
     [0] * 10 + [1] * 4, BENIGN_SCORES + [0.95, 0.85, 0.55, 0.05], 2 / 4),
    ("a tie with a benign case costs the threshold",
     [0] * 10 + [1] * 4, BENIGN_SCORES[:8] + [0.85, 0.9] + [0.95, 0.85, 0.55, 0.05], 1 / 4),
    ("no threshold above the benign: only t above all, sensitivity 0",
     [0, 0, 1], [0.9, 0.8, 0.1], 0.0),
    ("perfect separation", [0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4], 1.0),
]  # fmt: skip

# (id, truth, malignant_probability, expected ECE), worked by hand.
ECE_TABLE = [
    ("bins 0, 1, 9; p = 1 in the last bin",
     [0, 1, 0, 1, 1], [0.05, 0.15, 0.15, 0.95, 1.0], (0.05 + 0.7 + 0.05) / 5),
    ("p = 0.1 opens bin 1", [0, 1], [0.1, 0.19], abs(0.29 - 1) / 2),
    ("perfectly calibrated bins", [0, 1, 0, 1], [0.55, 0.55, 0.45, 0.45], 0.1 / 4 * 2),
    ("all right, all certain", [0, 1], [0.0, 1.0], 0.0),
]  # fmt: skip


def binary(truth, scores) -> Cases:
    n = len(truth)
    return edge(truth, scores, [0] * n, [A] * n)


@pytest.mark.parametrize(
    ("truth", "scores", "expected"), [r[1:] for r in SENS_AT_SPEC], ids=[r[0] for r in SENS_AT_SPEC]
)
def test_sens_at_90_spec_by_hand_and_by_roc_curve(truth, scores, expected):
    value = compute_metrics(binary(truth, scores), ["sens_at_90_spec"])["sens_at_90_spec"].value
    assert value == pytest.approx(expected, abs=TOLERANCE)
    expected_sk = sens_at_spec_via_roc_curve(np.array(truth), np.array(scores), 0.90)
    assert value == pytest.approx(expected_sk, abs=TOLERANCE)


@pytest.mark.parametrize(
    ("truth", "scores", "expected"), [r[1:] for r in ECE_TABLE], ids=[r[0] for r in ECE_TABLE]
)
def test_ece_by_hand(truth, scores, expected):
    value = compute_metrics(binary(truth, scores), ["ece"])["ece"].value
    assert value == pytest.approx(expected, abs=TOLERANCE)


def sklearn_values_with_absent_classes(cases: Cases) -> dict[str, float]:
    """scikit-learn's values when some declared diagnosis is absent from the truth: its
    default labels (those in y_true or y_pred) for macro-F1, balanced accuracy and kappa; for
    macro AUC the mean one-vs-rest AUC over diagnoses with positive and negative cases."""
    d, probs = cases.diagnosis, cases.diagnosis_probabilities
    d_hat = probs.argmax(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "y_pred contains classes not in y_true"
        macro_f1 = sk.f1_score(d, d_hat, average="macro")
        balanced = sk.balanced_accuracy_score(d, d_hat)
    kappa = sk.cohen_kappa_score(d, d_hat)
    scored = [k for k in range(probs.shape[1]) if 0 < np.sum(d == k) < len(d)]
    return {
        "macro_f1": macro_f1,
        "kappa": kappa,
        "mc_balanced_accuracy": balanced,
        "lld_mmri_score": (macro_f1 + kappa) / 2,
        "macro_auc": np.mean([sk.roc_auc_score(d == k, probs[:, k]) for k in scored]),
        "mc_brier": sk.brier_score_loss(d, probs, labels=list(range(probs.shape[1]))),
    }


# (id, diagnoses left out of the truth, seed, rounded scores). The predictions keep all six
# columns and still predict the absent diagnoses now and then.
ABSENT_CLASSES = [
    ("no HCC", [0], 0, False),
    ("no iCCA", [1], 1, False),
    ("no metastasis", [2], 2, False),
    ("no adenoma", [3], 3, False),
    ("no FNH", [4], 4, False),
    ("no haemangioma", [5], 5, False),
    ("no FNH, no haemangioma", [4, 5], 6, False),
    ("no metastasis, rounded ties", [2], 7, True),
]


@pytest.mark.parametrize(
    ("absent", "seed", "ties"), [c[1:] for c in ABSENT_CLASSES], ids=[c[0] for c in ABSENT_CLASSES]
)
def test_multiclass_metrics_match_sklearn_with_a_diagnosis_absent(make_cases, absent, seed, ties):
    full = make_cases(seed, n=90, ties=ties)
    if ties:
        full.diagnosis_probabilities[:] /= full.diagnosis_probabilities.sum(1, keepdims=True)
    cases = full.take(np.flatnonzero(~np.isin(full.diagnosis, absent)))
    assert cases.diagnosis_probabilities.shape[1] == 6
    assert np.isin(cases.predicted_diagnosis, absent).any()
    ours = compute_metrics(cases)
    for name, value in sklearn_values_with_absent_classes(cases).items():
        assert ours[name].value == pytest.approx(value, abs=TOLERANCE, rel=0), name


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("decimals", [None, 2, 1], ids=["continuous", "ties-0.01", "ties-0.1"])
def test_blocked_auc_and_sens_at_spec_match_sklearn_across_block_edges(seed, decimals):
    # Sizes around and past the 16-case blocks, so tie groups straddle block boundaries.
    rng = np.random.default_rng(seed)
    n = int(rng.integers(15, 140))
    scores = rng.random(n) if decimals is None else np.round(rng.random(n), decimals)
    positive = rng.random(n) < rng.uniform(0.2, 0.8)
    positive[:2] = [True, False]
    weights = rng.integers(0, 4, size=(6, n)).astype(float)
    weights[:, :2] = 1.0
    aucs = weighted_auc(scores, positive, weights)
    sens = weighted_sens_at_spec(scores, positive, weights, 0.9)
    for row, auc, sensitivity in zip(weights, aucs, sens, strict=True):
        drawn = np.repeat(np.arange(n), row.astype(int))
        assert auc == pytest.approx(
            sk.roc_auc_score(positive[drawn], scores[drawn]), abs=TOLERANCE, rel=0
        )
        expected = sens_at_spec_via_roc_curve(positive[drawn], scores[drawn], 0.90)
        assert sensitivity == pytest.approx(expected, abs=TOLERANCE, rel=0)
