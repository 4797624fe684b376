"""The hidden ground truth: one row per test case, read from a CSV file."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

import numpy as np


class Task(Protocol):
    """What reading a ground truth needs of an ``evaluator.task.Task`` (named here, not
    imported: the task module checks metric names, and the metrics import this module)."""

    labels: tuple[str, ...]
    positive: frozenset[str]
    positive_name: str

# Without a task the binary column is `malignant`; a task names it (``Task.positive_name``).
BASE_COLUMNS: tuple[str, ...] = ("case_id", "diagnosis", "centre")
REQUIRED_COLUMNS: tuple[str, ...] = ("case_id", "diagnosis", "malignant", "centre")
DEFAULT_POSITIVE_NAME = "malignant"

# Enough to locate most problems in a broken file without flooding the message.
_MAX_REPORTED = 20


class GroundTruthError(ValueError):
    """The ground-truth file cannot be used; the message names each bad row and column."""


# eq=False: the numpy array field makes generated __eq__/__hash__ meaningless.
@dataclass(frozen=True, eq=False)
class GroundTruth:
    case_ids: tuple[str, ...]
    diagnosis: tuple[str, ...]
    # int, 1 = in the positive group (the task's positive_name, e.g. malignant), 0 = not.
    # The field keeps the LAI name so that every consumer reads one spelling.
    malignant: np.ndarray
    centre: tuple[str, ...]
    classes: tuple[str, ...]  # diagnosis labels in reporting order
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)  # other columns, as text
    positive_name: str = DEFAULT_POSITIVE_NAME  # names the binary column and predictions key

    def __len__(self) -> int:
        return len(self.case_ids)

    @property
    def probability_key(self) -> str:
        """The predictions key holding the probability of the positive group."""
        return f"{self.positive_name}_probability"


def read_ground_truth(
    source: str | Path | TextIO, classes: Sequence[str] | None = None, task: Task | None = None
) -> GroundTruth:
    """Read and check a ground-truth CSV. ``str`` and ``Path`` are file paths.

    With a ``task``: the classes are its labels (a label outside them is an error), the
    binary truth is ``diagnosis in task.positive`` and the column ``task.positive_name`` is
    optional (when present it must agree). Without: ``classes`` declares the labels (the
    columns predictions must give, in this order; by default the labels present, sorted)
    and the binary truth is the ``malignant`` column."""
    if task is not None:
        if classes is not None and tuple(classes) != task.labels:
            raise ValueError("give the classes or a task, not two different label sets")
        classes = task.labels
    if classes is not None:
        classes = _check_classes(classes)
    if isinstance(source, str | Path):
        try:
            # utf-8-sig: spreadsheets often prepend a byte-order mark.
            with open(source, encoding="utf-8-sig", newline="") as handle:
                return _parse(handle, classes, task)
        except (OSError, UnicodeDecodeError) as error:
            raise GroundTruthError(f"cannot read ground truth {str(source)!r}: {error}") from None
    return _parse(source, classes, task)


def _check_classes(classes: Sequence[str]) -> tuple[str, ...]:
    if isinstance(classes, str):
        raise TypeError("classes must be a sequence of labels, not one string")
    labels = tuple(classes)
    if not all(isinstance(label, str) and label.strip() == label and label for label in labels):
        raise ValueError(f"classes must be non-empty labels without surrounding spaces: {labels}")
    duplicated = sorted({label for label in labels if labels.count(label) > 1})
    if duplicated:
        raise ValueError(f"classes has duplicated label(s) {', '.join(duplicated)}")
    return labels


def _parse(handle: TextIO, classes: tuple[str, ...] | None, task: Task | None) -> GroundTruth:
    header, body = _rows(handle)
    binary = task.positive_name if task is not None else DEFAULT_POSITIVE_NAME
    _check_header(header, BASE_COLUMNS if task is not None else REQUIRED_COLUMNS, binary)
    columns: dict[str, list[str]] = {name: [] for name in header}
    lines: list[int] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, row in body:
        if len(row) != len(header):
            problems.append(f"line {line}: has {len(row)} fields, the header has {len(header)}")
            continue
        values = dict(zip(header, (cell.strip() for cell in row), strict=True))
        problems.extend(_check_row(line, values, seen, binary))
        lines.append(line)
        for name in header:
            columns[name].append(values[name])
    if problems:
        raise GroundTruthError(_summarise(problems))

    diagnosis = tuple(columns["diagnosis"])
    if classes is None:
        classes = tuple(sorted(set(diagnosis)))  # no task: the labels the file holds
    undeclared = sorted(set(diagnosis) - set(classes))
    if undeclared:
        whose = "the task's labels" if task is not None else "the declared classes"
        raise GroundTruthError(
            f"ground truth has diagnosis label(s) {', '.join(undeclared)} not among "
            f"{whose} ({', '.join(classes)})"
        )
    positive = _binary_truth(task, diagnosis, columns.get(binary), lines)
    return GroundTruth(
        case_ids=tuple(columns["case_id"]),
        diagnosis=diagnosis,
        malignant=positive,
        centre=tuple(columns["centre"]),
        classes=classes,
        extra={name: tuple(columns[name]) for name in header
               if name not in BASE_COLUMNS and name != binary},
        positive_name=binary,
    )


def _rows(handle: TextIO) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank rows, each with its physical line number."""
    reader = csv.reader(handle)
    try:
        rows = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except csv.Error as error:
        raise GroundTruthError(
            f"ground truth is not a readable CSV (line {reader.line_num}): {error}"
        ) from None
    if not rows:
        raise GroundTruthError("ground truth file is empty (no header row)")
    header = [cell.strip() for cell in rows[0][1]]
    header[0] = header[0].removeprefix("\ufeff")  # a BOM left by a text-mode caller
    if not rows[1:]:
        raise GroundTruthError("ground truth file has a header but no cases")
    return header, rows[1:]


def _binary_truth(task: Task | None, diagnosis: tuple[str, ...], column: list[str] | None,
                  lines: list[int]) -> np.ndarray:
    """0/1 per case: from the task's positive group when there is a task (checked against
    the column if the file has one), else from the column."""
    if task is None:
        assert column is not None  # required without a task (checked with the header)
        return np.array([int(v) for v in column], dtype=np.int64)
    derived = [int(label in task.positive) for label in diagnosis]
    if column is not None:
        group = ", ".join(label for label in task.labels if label in task.positive)
        wrong = [
            f"line {line}: {task.positive_name} is {given} but diagnosis {label} is "
            + ("" if want else "not ") + f"in the positive group ({group})"
            for line, label, given, want in zip(lines, diagnosis, column, derived, strict=True)
            if int(given) != want
        ]
        if wrong:
            raise GroundTruthError(_summarise(wrong))
    return np.array(derived, dtype=np.int64)


def _check_header(header: list[str], required: tuple[str, ...], binary: str) -> None:
    required = tuple(binary if name == DEFAULT_POSITIVE_NAME else name for name in required)
    missing = [name for name in required if name not in header]
    if missing:
        raise GroundTruthError(
            f"ground truth is missing column(s) {', '.join(missing)}; "
            f"required: {', '.join(required)}; found: {', '.join(header) or 'none'}"
        )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise GroundTruthError(f"ground truth has duplicated column(s) {', '.join(duplicated)}")


def _check_row(line: int, values: dict[str, str], seen: dict[str, int],
               binary: str) -> list[str]:
    problems = []
    for name in ("case_id", "diagnosis", "centre"):
        if not values[name]:
            problems.append(f"line {line}: column {name} is empty")
    case_id = values["case_id"]
    if case_id:
        if case_id in seen:
            problems.append(
                f"line {line}: duplicate case_id {case_id!r} (first on line {seen[case_id]})"
            )
        else:
            seen[case_id] = line
    if binary in values and values[binary] not in ("0", "1"):
        problems.append(f"line {line}: column {binary} must be 0 or 1, got {values[binary]!r}")
    return problems


def _summarise(problems: list[str]) -> str:
    shown = problems[:_MAX_REPORTED]
    more = len(problems) - len(shown)
    lines = ["ground truth is invalid:", *(f"  - {p}" for p in shown)]
    if more:
        lines.append(f"  ... and {more} more")
    return "\n".join(lines)
