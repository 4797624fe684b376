"""Scores defined per case (lower is better), for ranking entries case by case."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from evaluator.cases import Cases


def _brier(cases: Cases) -> np.ndarray:
    return (cases.malignant_probability - cases.malignant) ** 2


def _multiclass_brier(cases: Cases) -> np.ndarray:
    onehot = np.eye(len(cases.classes))[cases.diagnosis]
    return ((cases.diagnosis_probabilities - onehot) ** 2).sum(axis=1)


# Named as the metric whose mean over cases they are.
PER_CASE_SCORES: dict[str, Callable[[Cases], np.ndarray]] = {
    "brier": _brier,
    "mc_brier": _multiclass_brier,
}


def per_case_scores(cases: Cases) -> dict[str, np.ndarray]:
    return {name: score(cases) for name, score in PER_CASE_SCORES.items()}
