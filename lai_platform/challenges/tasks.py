"""A challenge's task (evaluator.task) as stored on the challenge, and changing it."""

from __future__ import annotations

from typing import Any

from evaluator.task import Task, task_from_mapping
from lai_platform.models import Challenge

# What challenges loaded before tasks existed score against: the LAI demo's task.
LEGACY_TASK = {
    "name": "LAI liver lesions",
    "labels": ["HCC", "iCCA", "metastasis", "adenoma", "FNH", "haemangioma"],
    "positive": ["HCC", "iCCA", "metastasis"],
    "positive_name": "malignant",
    "metrics": ["auc", "balanced_accuracy", "sensitivity", "specificity", "macro_f1", "kappa",
                "lld_mmri_score"],
    "primary": "auc",
}


def task_of(challenge: Challenge) -> Task:
    return task_from_mapping(challenge.task or LEGACY_TASK)


def checked_task(value: Any) -> dict:
    """A declaration as stored on the challenge: checked, in canonical form (TaskError)."""
    return task_from_mapping(value).to_mapping()

