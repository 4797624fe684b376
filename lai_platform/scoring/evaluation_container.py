"""Organizer evaluation containers: an organizer's image scores one submission's predictions.

Optional per phase; the built-in `evaluator` package stays the default. The organizer's
image gets the same hardened run as a participant's (no network, read-only root fs,
non-root, every limit), through the same `Executor`:

* ``/input`` (read-only) holds exactly ``predictions.json`` (the participant's output, as
  written) and ``ground_truth.csv`` (the hidden labels; never mounted into a participant's
  container);
* the image writes ``/output/metrics.json``::

      {"n_cases": 48,
       "metrics": {"auc": 0.91,
                   "custom": {"value": 0.5, "ci_low": 0.4, "ci_high": 0.6},
                   "sens": {"value": null, "undefined": "no malignant cases"}}}

  and it is turned into the evaluator's result shape.

Everything the image writes is untrusted input here: metrics.json is read without
following links, capped in size and checked value by value. Every failure raises
`EvaluationContainerError`, whose ``message`` tells the organizer what went wrong and whose
``public_message`` is all a participant is shown.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lai_platform.runner.base import Executor, FailureReason, RunLimits, RunResult, RunSpec

PREDICTIONS_INPUT = "predictions.json"
GROUND_TRUTH_INPUT = "ground_truth.csv"
METRICS_FILE = "metrics.json"
METRICS_MAX_BYTES = 2**20
MAX_METRICS = 256
MAX_UNDEFINED_CHARS = 200
METRIC_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")

PUBLIC_MESSAGE = (
    "The organizers' evaluation of this submission failed; it does not count against your quota."
)
_METRIC_KEYS = {"value", "ci_low", "ci_high", "undefined"}
# Run outcomes that mean "exited 0 within every limit": the runner looks for
# predictions.json, which an evaluation container does not write (NO_OUTPUT), or may have
# left as a folder (INVALID_OUTPUT). metrics.json is checked here instead.
_CLEAN_EXIT = {None, FailureReason.NO_OUTPUT, FailureReason.INVALID_OUTPUT}


class EvaluationContainerError(RuntimeError):
    """The organizer's evaluation container failed or wrote unusable metrics.

    ``message``: for the organizers (names the problem; never log text). ``public_message``:
    for the participant (generic). ``problem``: a short code (``timeout``, ``nonzero_exit``,
    ``no_metrics``, ``invalid_metrics``, ...). ``logs``: the container's capped output, for
    organizers only (it may echo the ground truth). ``run_reason``: the runner's reason.
    """

    public_message = PUBLIC_MESSAGE

    def __init__(
        self,
        problem: str,
        message: str,
        *,
        logs: str = "",
        run_reason: FailureReason | None = None,
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
        self.logs = logs
        self.run_reason = run_reason


def run_evaluation_container(
    executor: Executor,
    image_id: str,
    predictions: bytes,
    ground_truth_csv: Path,
    work_dir: Path,
    limits: RunLimits,
    *,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run the organizer's image on one submission's predictions; return its metrics.

    ``work_dir`` is private to this evaluation: its ``input`` and ``output`` subfolders are
    replaced. The image must already be loaded (``executor.load_image``). Returns
    ``{"n_cases", "metrics": {name: {"value", "ci_low", "ci_high", "n_resamples",
    "undefined"}}, "evaluated_by": "container", "evaluator_image"}``.
    """
    input_dir = work_dir / "input"
    output_dir = work_dir / "output"
    try:
        stage_evaluation_inputs(input_dir, predictions, ground_truth_csv)
        shutil.rmtree(output_dir, ignore_errors=True)
    except OSError as exc:
        raise EvaluationContainerError(
            "platform_error", f"Could not stage the evaluation inputs: {exc}"
        ) from exc
    result = executor.run(
        RunSpec(
            image_id=image_id,
            input_dir=input_dir,
            output_dir=output_dir,
            limits=limits,
            name=name,
            labels={**(labels or {}), "lai.evaluation": "1"},
        )
    )
    check_run(result, limits)
    raw = read_metrics_file(output_dir / METRICS_FILE, logs=result.logs)
    return parse_metrics(raw, image_id, logs=result.logs)


def stage_evaluation_inputs(input_dir: Path, predictions: bytes, ground_truth_csv: Path) -> None:
    """Make ``input_dir`` hold exactly predictions.json and ground_truth.csv, readable by
    the container user (files 0o444, folder 0o755)."""
    shutil.rmtree(input_dir, ignore_errors=True)
    input_dir.mkdir(parents=True)
    (input_dir / PREDICTIONS_INPUT).write_bytes(predictions)
    shutil.copyfile(ground_truth_csv, input_dir / GROUND_TRUTH_INPUT)
    for name in (PREDICTIONS_INPUT, GROUND_TRUTH_INPUT):
        (input_dir / name).chmod(0o444)
    input_dir.chmod(0o755)


def check_run(result: RunResult, limits: RunLimits) -> None:
    """Raise unless the container exited 0 within its limits."""
    reason = result.reason
    if reason in _CLEAN_EXIT:
        return
    if reason is FailureReason.TIMEOUT:
        message = (
            f"The evaluation container did not finish within the time limit of "
            f"{limits.time_limit_s:g} s and was stopped."
        )
    elif reason is FailureReason.OUT_OF_MEMORY:
        message = (
            f"The evaluation container used more than its memory limit of "
            f"{limits.memory_mb} MB and was stopped."
        )
    elif reason is FailureReason.OUTPUT_TOO_LARGE:
        message = (
            f"The evaluation container wrote more than {limits.output_max_bytes / 2**20:g} MB "
            "to /output and was stopped."
        )
    elif reason is FailureReason.NETWORK_BLOCKED:
        message = (
            f"The evaluation container exited with code {result.exit_code} after trying to "
            "use the network; evaluation containers run without network access."
        )
    elif reason is FailureReason.NONZERO_EXIT:
        message = (
            f"The evaluation container exited with code {result.exit_code}. See its logs "
            "for the error."
        )
    elif reason is FailureReason.IMAGE_INVALID:
        message = f"The evaluation image cannot be run: {result.message}"
    else:  # PLATFORM_ERROR, or a reason added to the runner later
        message = f"The platform could not run the evaluation container (runner: {result.message})"
    raise EvaluationContainerError(str(reason), message, logs=result.logs, run_reason=reason)


def read_metrics_file(path: Path, *, logs: str = "") -> bytes:
    """The bytes of /output/metrics.json: a regular file (not a link) of at most 1 MiB."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise EvaluationContainerError(
            "no_metrics",
            f"The evaluation container exited without writing /output/{METRICS_FILE}.",
            logs=logs,
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise EvaluationContainerError(
            "invalid_metrics",
            f"/output/{METRICS_FILE} is not a regular file (e.g. a link or a folder).",
            logs=logs,
        )
    if info.st_size > METRICS_MAX_BYTES:
        raise _too_large(logs)
    # O_NOFOLLOW and O_NONBLOCK: the file could have been swapped since the lstat.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise EvaluationContainerError(
                "invalid_metrics", f"/output/{METRICS_FILE} is not a regular file.", logs=logs
            )
        raw = handle.read(METRICS_MAX_BYTES + 1)
    if len(raw) > METRICS_MAX_BYTES:
        raise _too_large(logs)
    return raw


def parse_metrics(raw: bytes, image_id: str, *, logs: str = "") -> dict[str, Any]:
    """Check metrics.json and return it in the evaluator's result shape."""

    def invalid(problem: str) -> EvaluationContainerError:
        return EvaluationContainerError(
            "invalid_metrics", f"/output/{METRICS_FILE} is not valid: {problem}", logs=logs
        )

    try:
        document = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise invalid(f"not JSON ({_short(exc)})") from None
    if not isinstance(document, dict):
        raise invalid(f"expected a JSON object, got {_json_type(document)}")
    n_cases = document.get("n_cases")
    if n_cases is not None and (not _is_int(n_cases) or n_cases < 0):
        raise invalid('"n_cases" must be a non-negative integer')
    metrics = document.get("metrics")
    if not isinstance(metrics, dict):
        raise invalid('"metrics" must be an object of metric name -> value')
    if not metrics:
        raise invalid('"metrics" is empty')
    if len(metrics) > MAX_METRICS:
        raise invalid(f'"metrics" has {len(metrics)} entries; at most {MAX_METRICS} allowed')
    parsed = {}
    for name, entry in metrics.items():
        if not METRIC_NAME.fullmatch(name):
            raise invalid(
                f"metric name {_short(name)!r} must be 1-64 letters, digits or underscores"
            )
        try:
            parsed[name] = _metric(entry)
        except ValueError as exc:
            raise invalid(f"metric {name!r}: {exc}") from None
    return {
        "n_cases": n_cases,
        "metrics": parsed,
        "evaluated_by": "container",
        "evaluator_image": image_id,
    }


def required_metric_present(result: dict[str, Any], metric: str) -> None:
    """Raise unless the phase's primary metric is among the container's metrics."""
    metrics = result.get("metrics") or {}
    if metric not in metrics:
        found = ", ".join(sorted(metrics)) or "none"
        raise EvaluationContainerError(
            "missing_primary_metric",
            f"The evaluation container did not report the phase's primary metric "
            f"{metric!r} (it reported: {found}).",
        )


# -- helpers ------------------------------------------------------------------------------


def _metric(entry: Any) -> dict[str, Any]:
    if _is_number(entry):
        return _entry(float(entry), None, None, None)
    if not isinstance(entry, dict):
        raise ValueError(f'expected a number or an object with "value", got {_json_type(entry)}')
    unknown = set(entry) - _METRIC_KEYS
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(sorted(map(repr, map(_short, unknown))))}; "
            f"allowed: {', '.join(sorted(_METRIC_KEYS))}"
        )
    if "value" not in entry:
        raise ValueError('"value" is missing (use null for an undefined metric)')
    value = _optional_number(entry, "value")
    ci_low = _optional_number(entry, "ci_low")
    ci_high = _optional_number(entry, "ci_high")
    if (ci_low is None) != (ci_high is None):
        raise ValueError('give both "ci_low" and "ci_high", or neither')
    if ci_low is not None and ci_high is not None and ci_low > ci_high:
        raise ValueError('"ci_low" is greater than "ci_high"')
    undefined = entry.get("undefined")
    if undefined is not None and (
        not isinstance(undefined, str) or len(undefined) > MAX_UNDEFINED_CHARS
    ):
        raise ValueError(f'"undefined" must be a string of at most {MAX_UNDEFINED_CHARS} chars')
    if value is None:
        if ci_low is not None:
            raise ValueError("an undefined (null) value cannot have a confidence interval")
        undefined = undefined or "undefined: not computed by the evaluation container"
    elif undefined is not None:
        raise ValueError('"undefined" is only allowed when "value" is null')
    return _entry(value, ci_low, ci_high, undefined)


def _entry(
    value: float | None, ci_low: float | None, ci_high: float | None, undefined: str | None
) -> dict[str, Any]:
    return {
        "value": value,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "n_resamples": None,  # the built-in evaluator's key; unknown for a container
        "undefined": undefined,
    }


def _optional_number(entry: dict[str, Any], key: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if not _is_number(value):
        raise ValueError(f'"{key}" must be a finite number or null, got {_json_type(value)}')
    return float(value)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a non-finite or too large number" if not _is_number(value) else "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _short(value: Any, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _too_large(logs: str) -> EvaluationContainerError:
    return EvaluationContainerError(
        "invalid_metrics",
        f"/output/{METRICS_FILE} is larger than {METRICS_MAX_BYTES // 2**10} KiB.",
        logs=logs,
    )
