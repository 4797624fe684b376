"""A challenge's task: its diagnosis labels, which of them count as positive in the binary
task, and the metrics its leaderboard shows (the primary one first).

Declared in a challenge's `challenge.yaml` (`task:`) or a task file, read by
``python -m evaluator --task TASK_FILE``. Example::

    name: LAI liver lesions
    labels: [HCC, iCCA, metastasis, adenoma, FNH, haemangioma]
    positive: [HCC, iCCA, metastasis]
    positive_name: malignant
    metrics: [auc, balanced_accuracy, macro_f1, kappa]
    primary: auc
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluator.metrics import METRICS

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_KEYS = {"name", "labels", "positive", "positive_name", "metrics", "primary"}
DEFAULT_METRICS = ("auc", "balanced_accuracy", "sensitivity", "specificity", "macro_f1",
                   "kappa")


class TaskError(ValueError):
    """The task declaration cannot be used; the message says what to change."""


@dataclass(frozen=True)
class Task:
    name: str
    labels: tuple[str, ...]  # reporting order: predictions give one probability per label
    positive: frozenset[str]  # labels whose cases are positive in the binary task
    positive_name: str = "malignant"  # ground-truth column, `<name>_probability` in predictions
    metrics: tuple[str, ...] = DEFAULT_METRICS  # shown on the leaderboard
    primary: str = "auc"

    @property
    def probability_key(self) -> str:
        return f"{self.positive_name}_probability"

    def to_mapping(self) -> dict[str, Any]:
        return {"name": self.name, "labels": list(self.labels),
                "positive": [label for label in self.labels if label in self.positive],
                "positive_name": self.positive_name, "metrics": list(self.metrics),
                "primary": self.primary}


def task_from_mapping(data: Any) -> Task:
    """Check a declaration; raises TaskError naming every problem at once."""
    if not isinstance(data, dict):
        raise TaskError("the task must be a mapping with labels, positive, metrics, primary")
    problems = [f"unknown key {key!r} (known: {', '.join(sorted(_KEYS))})"
                for key in data if key not in _KEYS]
    labels = _labels(data.get("labels"), problems)
    positive = data.get("positive") or []
    if not isinstance(positive, list) or not positive:
        problems.append("positive must list at least one of the labels")
        positive = []
    outside = [str(p) for p in positive if p not in labels]
    if outside:
        problems.append(f"positive names label(s) not in labels: {', '.join(outside)}")
    if labels and set(positive) >= set(labels):
        problems.append("positive holds every label: at least one label must be negative")
    name = str(data.get("positive_name", "malignant"))
    if not _NAME.match(name):
        problems.append(f"positive_name {name!r} must be lower case letters, digits and _ "
                        "(it names a column and a predictions key)")
    metrics = data.get("metrics", list(DEFAULT_METRICS))
    if not isinstance(metrics, list) or not metrics:
        problems.append("metrics must list at least one metric")
        metrics = []
    unknown = [str(m) for m in metrics if m not in METRICS]
    if unknown:
        problems.append(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}")
    primary = data.get("primary", metrics[0] if metrics else "auc")
    if primary not in metrics:
        problems.append(f"primary {primary!r} must be one of the task's metrics")
    if problems:
        raise TaskError("the task is invalid: " + "; ".join(problems))
    return Task(name=str(data.get("name") or "task"), labels=labels,
                positive=frozenset(positive), positive_name=name,
                metrics=tuple(metrics), primary=primary)


def _labels(value: Any, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) < 2:
        problems.append("labels must list at least two labels")
        return ()
    labels = tuple(str(v) for v in value)
    bad = [label for label in labels if not label or label.strip() != label or "," in label]
    if bad:
        problems.append(f"labels must be non-empty, without commas or surrounding spaces: {bad}")
    duplicated = sorted({label for label in labels if labels.count(label) > 1})
    if duplicated:
        problems.append(f"duplicated label(s) {', '.join(duplicated)}")
    return labels


def read_task(path: str | Path) -> Task:
    """A task file: YAML (if PyYAML is installed) or JSON."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TaskError(f"cannot read task file {str(path)!r}: {error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            import yaml
        except ImportError:
            raise TaskError(f"{path}: not JSON (install PyYAML to read YAML)") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise TaskError(f"{path} is neither JSON nor YAML: {error}") from None
    return task_from_mapping(data)
