"""Every metric equals scikit-learn's on the same data; edge cases are defined or explained."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn import metrics as sk

from evaluator import METRICS, Cases, compute_metrics
from evaluator.rank_auc import weighted_auc

TOLERANCE = 1e-12


def sklearn_values(cases: Cases) -> dict[str, float]:
    y, p = cases.malignant, cases.malignant_probability
    y_hat = (p >= 0.5).astype(int)
    d, probs = cases.diagnosis, cases.diagnosis_probabilities
    d_hat = probs.argmax(axis=1)
    macro_f1 = sk.f1_score(d, d_hat, average="macro")
    kappa = sk.cohen_kappa_score(d, d_hat)
    return {
        "auc": sk.roc_auc_score(y, p),
        "balanced_accuracy": sk.balanced_accuracy_score(y, y_hat),
        "sensitivity": sk.recall_score(y, y_hat),
        "specificity": sk.recall_score(y, y_hat, pos_label=0),
        "f1": sk.f1_score(y, y_hat),
        "brier": sk.brier_score_loss(y, p),
        "macro_f1": macro_f1,
        "kappa": kappa,
        "mc_balanced_accuracy": sk.balanced_accuracy_score(d, d_hat),
        "macro_auc": sk.roc_auc_score(d, probs, multi_class="ovr", average="macro"),
        "lld_mmri_score": (macro_f1 + kappa) / 2,
    }


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
        assert metric.higher_is_better is (name != "brier")


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
         "balanced_accuracy": 1.0, "macro_auc": 1.0, "kappa": 1.0},
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
         "mc_balanced_accuracy": 1.0},
    ),
    (
        "constant predictions",
        edge([1, 0, 1, 0], [0.3] * 4, [0, 1, 0, 2], [U] * 4),
        {"auc": 0.5, "sensitivity": 0.0, "specificity": 1.0, "f1": 0.0,
         "balanced_accuracy": 0.5, "kappa": 0.0, "macro_auc": 0.5,
         "mc_balanced_accuracy": 1 / 3},
    ),
    (
        "perfect",
        edge([1, 0, 0], [1.0, 0.0, 0.2], [0, 1, 2], [A, B, C]),
        {name: 1.0 for name in ("auc", "balanced_accuracy", "sensitivity", "specificity",
                                "f1", "macro_f1", "kappa", "mc_balanced_accuracy",
                                "macro_auc", "lld_mmri_score")} | {"brier": 0.04 / 3},
    ),
    (
        "a single case",
        edge([1], [0.6], [0], [A]),
        {"auc": None, "kappa": None, "macro_auc": None, "sensitivity": 1.0, "brier": 0.16},
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
