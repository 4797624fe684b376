"""The metric registry: what each metric means and how to compute it over weighted samples.

Each metric is one function from a ``Weighted`` batch (B samples) to a (B,) array, with NaN
where the metric is undefined for that sample; ``Metric.undefined_when`` says why in words.
NaN never leaves this package: ``compute_metrics`` turns it into ``None`` plus that reason.
To add a metric, write its function below and decorate it with ``@_register(...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from evaluator import _blocked
from evaluator.cases import MALIGNANT_THRESHOLD, Cases
from evaluator.roc_points import _SLACK
from evaluator.weighted import Weighted

Task = Literal["binary", "multiclass", "composite"]
MetricFunction = Callable[[Weighted], np.ndarray]


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    higher_is_better: bool
    task: Task
    definition: str  # one line, shown on the leaderboard
    undefined_when: str  # why the value can be missing, shown instead of a number
    compute: MetricFunction = field(repr=False, compare=False)


@dataclass(frozen=True)
class MetricValue:
    value: float | None
    undefined: str | None  # set exactly when value is None


METRICS: dict[str, Metric] = {}


def _register(
    name: str,
    *,
    label: str,
    task: Task,
    definition: str,
    undefined_when: str,
    higher_is_better: bool = True,
) -> Callable[[MetricFunction], MetricFunction]:
    def add(function: MetricFunction) -> MetricFunction:
        METRICS[name] = Metric(
            name=name,
            label=label,
            higher_is_better=higher_is_better,
            task=task,
            definition=definition,
            undefined_when=undefined_when,
            compute=function,
        )
        return function

    return add


def compute_metrics(cases: Cases, names: Iterable[str] | None = None) -> dict[str, MetricValue]:
    """Point estimates of the named metrics (all by default) on the cases as given."""
    batch = Weighted.whole(cases)
    return {
        name: to_value(METRICS[name], METRICS[name].compute(batch)[0])
        for name in (METRICS if names is None else names)
    }


def to_value(metric: Metric, number: float) -> MetricValue:
    if np.isnan(number):
        return MetricValue(None, f"undefined: {metric.undefined_when}")
    return MetricValue(float(number), None)


# --- binary: malignant (1) vs benign (0) --------------------------------------------------

_T = f"malignant_probability >= {MALIGNANT_THRESHOLD}"


@_register(
    "auc",
    label="AUC",
    task="binary",
    definition="Area under the ROC curve of malignant_probability for malignant vs benign.",
    undefined_when="needs both malignant and benign cases",
)
def auc(batch: Weighted) -> np.ndarray:
    return _malignancy_roc(batch)[0]


@_register(
    "balanced_accuracy",
    label="Balanced accuracy",
    task="binary",
    definition=f"Mean of sensitivity and specificity, predicting malignant when {_T} "
    "(the recall of the only class when one is absent, as scikit-learn).",
    undefined_when="no cases",
)
def balanced_accuracy(batch: Weighted) -> np.ndarray:
    return _mean_recall(batch.binary_confusion)


@_register(
    "sensitivity",
    label="Sensitivity",
    task="binary",
    definition=f"Share of malignant cases predicted malignant ({_T}).",
    undefined_when="no malignant cases",
)
def sensitivity(batch: Weighted) -> np.ndarray:
    confusion = batch.binary_confusion
    return _ratio(confusion[:, 1, 1], confusion[:, 1].sum(axis=1))


@_register(
    "specificity",
    label="Specificity",
    task="binary",
    definition=f"Share of benign cases predicted benign ({_T} means malignant).",
    undefined_when="no benign cases",
)
def specificity(batch: Weighted) -> np.ndarray:
    confusion = batch.binary_confusion
    return _ratio(confusion[:, 0, 0], confusion[:, 0].sum(axis=1))


@_register(
    "f1",
    label="F1",
    task="binary",
    definition=f"Harmonic mean of precision and sensitivity for malignant ({_T}).",
    undefined_when="no malignant cases and none predicted malignant",
)
def f1(batch: Weighted) -> np.ndarray:
    confusion = batch.binary_confusion
    tp, fp, fn = confusion[:, 1, 1], confusion[:, 0, 1], confusion[:, 1, 0]
    return _ratio(2 * tp, 2 * tp + fp + fn)


@_register(
    "brier",
    label="Brier score",
    task="binary",
    definition="Mean squared difference between malignant_probability and the 0/1 truth.",
    undefined_when="no cases",
    higher_is_better=False,
)
def brier(batch: Weighted) -> np.ndarray:
    return _ratio(_per_case_sums(batch)[:, 0], batch.total)


@_register(
    "mcc",
    label="MCC",
    task="binary",
    definition=f"Matthews correlation of predicted ({_T}) and true malignancy "
    "(0 when all predictions are one class, as scikit-learn).",
    undefined_when="needs both malignant and benign cases",
)
def mcc(batch: Weighted) -> np.ndarray:
    confusion = batch.binary_confusion
    # scikit-learn's covariance form, so values agree to rounding.
    n = confusion.sum(axis=(1, 2))
    truth, predicted = confusion.sum(axis=2), confusion.sum(axis=1)
    correct = np.trace(confusion, axis1=1, axis2=2)
    cov_tp = correct * n - np.sum(truth * predicted, axis=1)
    cov_tt = n * n - np.sum(truth * truth, axis=1)
    cov_pp = n * n - np.sum(predicted * predicted, axis=1)
    value = _ratio(cov_tp, np.sqrt(cov_tt * np.where(cov_pp > 0, cov_pp, 1.0)))
    return np.where((cov_pp > 0) | np.isnan(value), value, 0.0)


SPECIFICITY_FLOOR = 0.90


@_register(
    "sens_at_90_spec",
    label="Sensitivity at 90% specificity",
    task="binary",
    definition="Highest sensitivity over thresholds t (malignant when malignant_probability "
    f">= t) whose specificity is >= {SPECIFICITY_FLOOR:.2f}; the ROC curve's points.",
    undefined_when="needs both malignant and benign cases",
)
def sens_at_90_spec(batch: Weighted) -> np.ndarray:
    return _malignancy_roc(batch)[1]


def _malignancy_roc(batch: Weighted) -> tuple[np.ndarray, np.ndarray]:
    """AUC and sensitivity at 90% specificity share one sort: computed once per batch."""
    cases = batch.cases
    return batch.memo(
        "malignancy_roc",
        lambda: _blocked.auc_and_sens_at_spec(
            batch.columns,
            cases.malignant_probability,
            cases.malignant == 1,
            SPECIFICITY_FLOOR,
            _SLACK,
        ),
    )


ECE_BINS = 10


@_register(
    "ece",
    label="Expected calibration error",
    task="binary",
    definition=f"Sum over {ECE_BINS} equal-width bins of malignant_probability (bin = "
    f"floor({ECE_BINS}p), p = 1 in the last) of share of cases x |mean p - malignant rate|.",
    undefined_when="no cases",
    higher_is_better=False,
)
def ece(batch: Weighted) -> np.ndarray:
    # share x |mean p - rate| = |sum over the bin of (p - y)| / n, for each bin.
    return _ratio(np.abs(_per_case_sums(batch)[:, 2:]).sum(axis=1), batch.total)


# --- multi-class: the diagnosis, predicted as the argmax of diagnosis_probabilities ------


@_register(
    "macro_f1",
    label="Macro-F1",
    task="multiclass",
    definition="Unweighted mean of per-diagnosis F1 over diagnoses in truth or predictions.",
    undefined_when="no cases",
)
def macro_f1(batch: Weighted) -> np.ndarray:
    confusion = batch.diagnosis_confusion
    tp = np.diagonal(confusion, axis1=1, axis2=2)
    seen = confusion.sum(axis=2) + confusion.sum(axis=1)  # in truth + in predictions
    return _present_mean(_ratio(2 * tp, seen))


@_register(
    "kappa",
    label="Cohen's kappa",
    task="multiclass",
    definition="Agreement of predicted and true diagnosis beyond chance (unweighted).",
    undefined_when="truth and predictions are all the same one diagnosis (chance agreement is 1)",
)
def kappa(batch: Weighted) -> np.ndarray:
    confusion = batch.diagnosis_confusion
    n = confusion.sum(axis=(1, 2))
    agree = np.trace(confusion, axis1=1, axis2=2)
    chance = np.sum(confusion.sum(axis=2) * confusion.sum(axis=1), axis=1)
    # kappa = 1 - observed / expected disagreement; both scaled by n to stay in integers.
    return 1.0 - _ratio((n - agree) * n, n * n - chance)


@_register(
    "mc_balanced_accuracy",
    label="Balanced accuracy (diagnosis)",
    task="multiclass",
    definition="Unweighted mean of per-diagnosis recall over diagnoses present in the truth.",
    undefined_when="no cases",
)
def mc_balanced_accuracy(batch: Weighted) -> np.ndarray:
    return _mean_recall(batch.diagnosis_confusion)


@_register(
    "macro_auc",
    label="Macro AUC (one-vs-rest)",
    task="multiclass",
    definition="Unweighted mean of the one-vs-rest AUC of each diagnosis probability, over "
    "diagnoses with both positive and negative cases.",
    undefined_when="needs at least two diagnoses among the cases",
)
def macro_auc(batch: Weighted) -> np.ndarray:
    cases = batch.cases
    classes = np.arange(len(cases.classes))
    per_class = _blocked.auc_many(
        batch.columns,
        cases.diagnosis_probabilities.T,
        cases.diagnosis[None, :] == classes[:, None],
    )
    return _present_mean(per_class.T)


@_register(
    "mc_brier",
    label="Brier score (diagnosis)",
    task="multiclass",
    definition="Mean over cases of the sum over diagnoses of (probability - 0/1 truth)^2.",
    undefined_when="no cases",
    higher_is_better=False,
)
def mc_brier(batch: Weighted) -> np.ndarray:
    return _ratio(_per_case_sums(batch)[:, 1], batch.total)


# --- composite ----------------------------------------------------------------------------


@_register(
    "lld_mmri_score",
    label="LLD-MMRI score",
    task="composite",
    definition="Mean of macro-F1 and Cohen's kappa (the LLD-MMRI 2023 ranking score).",
    undefined_when="macro-F1 or Cohen's kappa is undefined",
)
def lld_mmri_score(batch: Weighted) -> np.ndarray:
    return (macro_f1(batch) + kappa(batch)) / 2.0


# --- helpers ------------------------------------------------------------------------------


def _per_case_sums(batch: Weighted) -> np.ndarray:
    """(B, 2 + ECE_BINS) weighted sums of per-case terms: the Brier squared error, the
    diagnosis Brier squared error, then p - y in each ECE bin of p (0 outside it). One
    product with the weights serves brier, mc_brier and ece."""

    def compute() -> np.ndarray:
        cases = batch.cases
        n, k = len(cases), len(cases.classes)
        p = cases.malignant_probability
        terms = np.zeros((n, 2 + ECE_BINS))
        terms[:, 0] = (p - cases.malignant) ** 2
        truth = np.eye(k)[cases.diagnosis] if k else np.zeros((n, 0))
        terms[:, 1] = ((cases.diagnosis_probabilities - truth) ** 2).sum(axis=1)
        bins = np.minimum((p * ECE_BINS).astype(np.int64), ECE_BINS - 1)
        terms[np.arange(n), 2 + bins] = p - cases.malignant
        return batch.weights @ terms

    return batch.memo("per_case_sums", compute)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN (undefined) where the denominator is 0."""
    defined = denominator > 0
    return np.where(defined, numerator / np.where(defined, denominator, 1.0), np.nan)


def _present_mean(values: np.ndarray) -> np.ndarray:
    """(B, k) -> (B,) mean over the non-NaN entries of each row; NaN if there are none."""
    present = ~np.isnan(values)
    return _ratio(np.where(present, values, 0.0).sum(axis=1), present.sum(axis=1))


def _mean_recall(confusion: np.ndarray) -> np.ndarray:
    """Mean recall over the classes present in the truth (scikit-learn's balanced accuracy)."""
    tp = np.diagonal(confusion, axis1=1, axis2=2)
    return _present_mean(_ratio(tp, confusion.sum(axis=2)))
