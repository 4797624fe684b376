"""Check a participant's predictions.json against the ground truth and align it.

Every problem is collected (named by case id where there is one) and reported at once, so a
participant can fix a broken file in one round trip. Nothing in here may crash on garbage.
"""

from __future__ import annotations

import json
import math
import numbers
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluator.ground_truth import GroundTruth

SUM_TOLERANCE = 0.01  # diagnosis probabilities must sum to 1 within this
_SHOWN_PROBLEMS = 20
_SHOWN_MISSING = 5
_SHOWN_CHARS = 60  # participant-controlled text is cut to this in messages
_MAX_PROBLEMS = 50  # checking stops there: a broken file is explained, not enumerated
# Objects and lists a predictions file needs: two per case (the entry and its diagnosis
# probabilities) and a few around them. Far more means a file built to exhaust memory:
# it is refused before it is parsed (parsing costs ~60 bytes of memory per byte of "[]").
_CONTAINERS_PER_CASE = 4
_CONTAINERS_SPARE = 64


class PredictionError(ValueError):
    """The predictions cannot be scored; ``problems`` lists every reason, in file order."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(self._message())

    def _message(self) -> str:
        shown = self.problems[:_SHOWN_PROBLEMS]
        lines = [f"predictions are invalid ({len(self.problems)} problem(s)):"]
        lines += [f"  - {problem}" for problem in shown]
        if len(self.problems) > len(shown):
            lines.append(f"  ... and {len(self.problems) - len(shown)} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._message()


# eq=False: the numpy array fields make generated __eq__/__hash__ meaningless.
@dataclass(frozen=True, eq=False)
class Predictions:
    case_ids: tuple[str, ...]  # the ground truth's order
    malignant_probability: np.ndarray  # (n,) the task's binary probability, whatever its key
    diagnosis_probabilities: np.ndarray  # (n, k), columns follow ``classes``
    classes: tuple[str, ...]  # == ground_truth.classes


def parse_predictions(raw: bytes | str | dict, ground_truth: GroundTruth) -> Predictions:
    """Decode, check and align predictions; raise PredictionError listing every problem.

    Memory and time stay bounded by the number of cases whatever the file holds."""
    document = _decode(raw, len(ground_truth.case_ids))
    entries = _entries(document)
    problems: list[str] = []
    rows: dict[str, tuple[float, list[float]]] = {}
    known = set(ground_truth.case_ids)
    counts: Counter[str] = Counter()

    for position, entry in enumerate(entries):
        if len(problems) >= _MAX_PROBLEMS:
            problems.append(f"(checking stopped after {_MAX_PROBLEMS} problems)")
            break
        where = f"entry {position}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: is not an object (got {_kind(entry)})")
            continue
        case_id = entry.get("case_id")
        if "case_id" not in entry:
            problems.append(f"{where}: missing case_id")
        elif not isinstance(case_id, str):
            problems.append(f"{where}: case_id must be a string, got {_show(case_id)}")
        else:
            where = f"case {_name(case_id)}"
            counts[case_id] += 1
            if case_id not in known:
                problems.append(f"{where}: unknown case id")
            elif counts[case_id] == 2:  # report a duplicate once, however often it repeats
                problems.append(f"{where}: duplicated case id (appears more than once)")
        entry_problems, row = _check_entry(where, entry, ground_truth.classes,
                                           ground_truth.probability_key)
        problems += entry_problems
        if row is not None and isinstance(case_id, str):
            rows[case_id] = row

    stopped = len(problems) > _MAX_PROBLEMS
    missing = [case_id for case_id in ground_truth.case_ids if counts[case_id] == 0]
    if missing and not stopped:
        shown = ", ".join(_name(case_id) for case_id in missing[:_SHOWN_MISSING])
        more = f" and {len(missing) - _SHOWN_MISSING} more" if len(missing) > _SHOWN_MISSING else ""
        problems.append(f"{len(missing)} case(s) missing: {shown}{more}")
    if problems:
        raise PredictionError(problems)

    return Predictions(
        case_ids=ground_truth.case_ids,
        malignant_probability=np.array(
            [rows[c][0] for c in ground_truth.case_ids], dtype=np.float64
        ),
        diagnosis_probabilities=np.array(
            [rows[c][1] for c in ground_truth.case_ids], dtype=np.float64
        ).reshape(len(ground_truth.case_ids), len(ground_truth.classes)),
        classes=ground_truth.classes,
    )


def _decode(raw: Any, n_cases: int) -> Any:
    """bytes -> str -> JSON value; an already-decoded value passes through."""
    if isinstance(raw, bytes | bytearray | memoryview | str):
        _check_size(raw, n_cases)
    if isinstance(raw, bytes | bytearray | memoryview):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as error:
            raise PredictionError(
                [
                    f"file is not UTF-8 text: byte 0x{error.object[error.start]:02x} "
                    f"at position {error.start} cannot be decoded"
                ]
            ) from None
    if not isinstance(raw, str):
        return raw
    text = raw.removeprefix("\ufeff")  # tolerate a byte-order mark from Windows editors
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise PredictionError(
            [
                f"file is not valid JSON: {error.msg} at line {error.lineno} "
                f"column {error.colno} (char {error.pos})"
            ]
        ) from None
    except RecursionError:
        raise PredictionError(["file is not usable JSON: nested too deeply"]) from None
    except ValueError as error:  # e.g. an integer literal longer than Python allows
        raise PredictionError([f"file is not usable JSON: {_cut(str(error))}"]) from None


def _check_size(raw: bytes | bytearray | memoryview | str, n_cases: int) -> None:
    opening = (b"{", b"[") if not isinstance(raw, str) else ("{", "[")
    data = bytes(raw) if isinstance(raw, memoryview) else raw
    containers = data.count(opening[0]) + data.count(opening[1])
    allowed = _CONTAINERS_PER_CASE * n_cases + _CONTAINERS_SPARE
    if containers > allowed:
        raise PredictionError([
            f"file holds {containers} JSON objects or lists, far more than {n_cases} cases "
            f"need (at most {allowed}): write one entry per case"
        ])


def _entries(document: Any) -> list[Any]:
    if not isinstance(document, dict):
        raise PredictionError(
            [f'top level must be an object with a "predictions" list, got {_kind(document)}']
        )
    if "predictions" not in document:
        raise PredictionError(['top level object has no "predictions" key'])
    entries = document["predictions"]
    if not isinstance(entries, list):
        raise PredictionError([f'"predictions" must be a list, got {_kind(entries)}'])
    return entries


def _check_entry(
    where: str, entry: dict, classes: tuple[str, ...], key: str
) -> tuple[list[str], tuple[float, list[float]] | None]:
    """Problems of one entry's probabilities, and its values when there are none. ``key``:
    the task's binary probability (``malignant_probability`` in the LAI task)."""
    problems: list[str] = []
    malignant = None
    if key not in entry:
        problems.append(f"{where}: missing {key}")
    else:
        malignant, problem = _probability(entry[key])
        if problem:
            problems.append(f"{where}: {key} {problem}")

    diagnosis = None
    if "diagnosis_probabilities" not in entry:
        problems.append(f"{where}: missing diagnosis_probabilities")
    else:
        diagnosis, found = _diagnosis(entry["diagnosis_probabilities"], classes)
        problems += [f"{where}: {problem}" for problem in found]

    if problems or malignant is None or diagnosis is None:
        return problems, None
    return problems, (malignant, diagnosis)


def _diagnosis(value: Any, classes: tuple[str, ...]) -> tuple[list[float] | None, list[str]]:
    if not isinstance(value, dict):
        return None, [f"diagnosis_probabilities must be an object, got {_kind(value)}"]
    problems = []
    unknown = [label for label in value if label not in classes]
    if unknown:
        shown = ", ".join(_show(label) for label in unknown[:_SHOWN_MISSING])
        more = f" and {len(unknown) - _SHOWN_MISSING} more" if len(unknown) > _SHOWN_MISSING else ""
        problems.append(
            f"diagnosis_probabilities has unknown label(s) {shown}{more}; "
            f"expected: {', '.join(classes)}"
        )
    missing = [label for label in classes if label not in value]
    if missing:
        problems.append(f"diagnosis_probabilities is missing label(s) {', '.join(missing)}")
    probabilities = []
    for label in classes:
        if label not in value:
            continue
        probability, problem = _probability(value[label])
        if problem:
            problems.append(f"diagnosis_probabilities[{label}] {problem}")
        else:
            probabilities.append(probability)
    if problems:
        return None, problems
    total = math.fsum(probabilities)
    if abs(total - 1.0) > SUM_TOLERANCE:
        return None, [f"diagnosis_probabilities sum to {total:.6g}, not 1 (within {SUM_TOLERANCE})"]
    return probabilities, []


def _probability(value: Any) -> tuple[float, str | None]:
    """A finite number in [0, 1], or the reason it is not one."""
    # bool is an int subclass in Python, but true/false is not a probability.
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return math.nan, f"must be a number, got {_show(value)}"
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return math.nan, f"{_show(value)} is outside [0, 1]"
    if math.isnan(number):
        return number, "is NaN, not a number"
    if math.isinf(number):
        return number, f"is {number}, not finite"
    if not 0.0 <= number <= 1.0:
        return number, f"{_show(value)} is outside [0, 1]"
    return number, None


def _kind(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    names = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    """A short JSON-ish rendering of a participant value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return _kind(value)
    if isinstance(value, int) and value.bit_length() > 64:  # str() of huge ints is slow/limited
        return "a very large integer"
    return _cut(repr(value) if isinstance(value, str) else str(value))


def _name(case_id: str) -> str:
    """A case id as written, unless it holds control characters that could forge lines."""
    return _cut(case_id if case_id.isprintable() else repr(case_id))


def _cut(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."
