"""The hidden ground truth: one row per test case, read from a CSV file."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

# The LAI diagnoses in their fixed reporting order (malignant first, then benign).
LAI_DIAGNOSES: tuple[str, ...] = ("HCC", "iCCA", "metastasis", "adenoma", "FNH", "haemangioma")

REQUIRED_COLUMNS: tuple[str, ...] = ("case_id", "diagnosis", "malignant", "centre")

# Enough to locate most problems in a broken file without flooding the message.
_MAX_REPORTED = 20


class GroundTruthError(ValueError):
    """The ground-truth file cannot be used; the message names each bad row and column."""


# eq=False: the numpy array field makes generated __eq__/__hash__ meaningless.
@dataclass(frozen=True, eq=False)
class GroundTruth:
    case_ids: tuple[str, ...]
    diagnosis: tuple[str, ...]
    malignant: np.ndarray  # int, 0 = benign, 1 = malignant
    centre: tuple[str, ...]
    classes: tuple[str, ...]  # diagnosis labels in reporting order
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)  # other columns, as text

    def __len__(self) -> int:
        return len(self.case_ids)


def declared_classes(labels: Iterable[str]) -> tuple[str, ...]:
    """Every LAI diagnosis in the fixed LAI order, then any other labels present, sorted.

    The predictions must carry all six LAI diagnoses whatever a split holds, so the declared
    label set does not depend on which diagnoses happen to be in the split."""
    return LAI_DIAGNOSES + tuple(sorted(set(labels) - set(LAI_DIAGNOSES)))


def read_ground_truth(
    source: str | Path | TextIO, classes: Sequence[str] | None = None
) -> GroundTruth:
    """Read and check a ground-truth CSV. ``str`` and ``Path`` are file paths.

    ``classes`` declares the diagnosis labels (the columns predictions must give, in this
    order); it must hold every label in the file. By default: ``declared_classes``."""
    if classes is not None:
        classes = _check_classes(classes)
    if isinstance(source, str | Path):
        try:
            # utf-8-sig: spreadsheets often prepend a byte-order mark.
            with open(source, encoding="utf-8-sig", newline="") as handle:
                return _parse(handle, classes)
        except (OSError, UnicodeDecodeError) as error:
            raise GroundTruthError(f"cannot read ground truth {str(source)!r}: {error}") from None
    return _parse(source, classes)


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


def _parse(handle: TextIO, classes: tuple[str, ...] | None = None) -> GroundTruth:
    reader = csv.reader(handle)
    try:
        # Keep each row's physical line number so messages point into the file.
        rows = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except csv.Error as error:
        raise GroundTruthError(
            f"ground truth is not a readable CSV (line {reader.line_num}): {error}"
        ) from None
    if not rows:
        raise GroundTruthError("ground truth file is empty (no header row)")
    header = [cell.strip() for cell in rows[0][1]]
    header[0] = header[0].removeprefix("\ufeff")  # a BOM left by a text-mode caller
    _check_header(header)
    body = rows[1:]
    if not body:
        raise GroundTruthError("ground truth file has a header but no cases")

    columns: dict[str, list[str]] = {name: [] for name in header}
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, row in body:
        if len(row) != len(header):
            problems.append(f"line {line}: has {len(row)} fields, the header has {len(header)}")
            continue
        values = dict(zip(header, (cell.strip() for cell in row), strict=True))
        problems.extend(_check_row(line, values, seen))
        for name in header:
            columns[name].append(values[name])
    if problems:
        raise GroundTruthError(_summarise(problems))

    diagnosis = tuple(columns["diagnosis"])
    if classes is None:
        classes = declared_classes(diagnosis)
    else:
        undeclared = sorted(set(diagnosis) - set(classes))
        if undeclared:
            raise GroundTruthError(
                f"ground truth has diagnosis label(s) {', '.join(undeclared)} not among the "
                f"declared classes ({', '.join(classes)})"
            )
    return GroundTruth(
        case_ids=tuple(columns["case_id"]),
        diagnosis=diagnosis,
        malignant=np.array([int(v) for v in columns["malignant"]], dtype=np.int64),
        centre=tuple(columns["centre"]),
        classes=classes,
        extra={name: tuple(columns[name]) for name in header if name not in REQUIRED_COLUMNS},
    )


def _check_header(header: list[str]) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise GroundTruthError(
            f"ground truth is missing column(s) {', '.join(missing)}; "
            f"required: {', '.join(REQUIRED_COLUMNS)}; found: {', '.join(header) or 'none'}"
        )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise GroundTruthError(f"ground truth has duplicated column(s) {', '.join(duplicated)}")


def _check_row(line: int, values: dict[str, str], seen: dict[str, int]) -> list[str]:
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
    if values["malignant"] not in ("0", "1"):
        problems.append(
            f"line {line}: column malignant must be 0 or 1, got {values['malignant']!r}"
        )
    return problems


def _summarise(problems: list[str]) -> str:
    shown = problems[:_MAX_REPORTED]
    more = len(problems) - len(shown)
    lines = ["ground truth is invalid:", *(f"  - {p}" for p in shown)]
    if more:
        lines.append(f"  ... and {more} more")
    return "\n".join(lines)
