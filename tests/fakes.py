"""A fake container executor: every pipeline branch in milliseconds, without Docker.

It is selected through the app's executor factory (see the `executor_factory` fixture). Each
run follows a script: a function of the run's spec that writes what a container would have
written to /output and returns how the run ended. The Docker tests prove the real runner.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from lai_platform.challenges.tasks import LEGACY_TASK
from lai_platform.runner.base import (
    PREDICTIONS_FILE,
    FailureReason,
    ImageLoadError,
    RunResult,
    RunSpec,
)
from lai_platform.scoring.evaluation_container import METRICS_FILE

Script = Callable[[RunSpec], RunResult]


class FakeExecutor:
    """An `Executor` that runs no container."""

    def __init__(self) -> None:
        self.script: Script = predicts()
        self.evaluation_script: Script = reports_metrics({"auc": 0.5})
        self.load_error: str | None = None
        self.images: set[str] = set()
        self.loads: list[str] = []
        self.runs: list[RunSpec] = []
        self.gpu: tuple[bool, str] = (False, "the fake executor has no GPU")
        self.rooms: list[tuple[str, int]] = []  # make_room calls
        self._lock = threading.Lock()

    def has_image(self, image_id: str) -> bool:
        return image_id in self.images

    def load_image(self, tar_path: Path, image_id: str) -> None:
        if self.load_error:
            raise ImageLoadError(self.load_error)
        with self._lock:
            if image_id not in self.images:
                self.loads.append(image_id)
                self.images.add(image_id)

    def make_room(self, image_id: str, size_bytes: int) -> None:
        self.rooms.append((image_id, size_bytes))

    def probe_gpu(self) -> tuple[bool, str]:
        return self.gpu

    def run(self, spec: RunSpec) -> RunResult:
        with self._lock:
            self.runs.append(spec)
        spec.output_dir.mkdir(parents=True, exist_ok=True)
        if "lai.evaluation" in spec.labels:
            return self.evaluation_script(spec)
        return self.script(spec)

    def remove_image(self, image_id: str) -> None:
        self.images.discard(image_id)

    def remove_containers(
        self, labels: Mapping[str, str], keep: Callable[[Mapping[str, str]], bool]
    ) -> int:
        return 0


def _ok(logs: str = "fake run\n") -> RunResult:
    return RunResult(ok=True, reason=None, message="The algorithm finished.", exit_code=0,
                     logs=logs, duration_s=0.01, logs_truncated=False)


def predicts(probability: float = 0.5, logs: str = "fake run\n",
             labels: Sequence[str] = tuple(LEGACY_TASK["labels"]),
             key: str = "malignant_probability") -> Script:
    """A container that predicts `probability` for every case it finds in /input (`labels`
    and `key`: the task's; the LAI demo's by default)."""

    def script(spec: RunSpec) -> RunResult:
        cases = json.loads((spec.input_dir / "cases.json").read_text())
        share = 1.0 / len(labels)
        predictions = [
            {"case_id": case, key: probability,
             "diagnosis_probabilities": dict.fromkeys(labels, share)}
            for case in cases
        ]
        (spec.output_dir / PREDICTIONS_FILE).write_text(json.dumps({"predictions": predictions}))
        return _ok(logs)

    return script


def writes(raw: bytes, logs: str = "fake run\n") -> Script:
    """A container that exits 0 after writing `raw` as its predictions."""

    def script(spec: RunSpec) -> RunResult:
        (spec.output_dir / PREDICTIONS_FILE).write_bytes(raw)
        return _ok(logs)

    return script


def fails(reason: FailureReason, message: str = "it failed", logs: str = "") -> Script:
    """A run that ends as the runner would report `reason`."""

    def script(spec: RunSpec) -> RunResult:
        return RunResult.failed(reason, message, exit_code=1, logs=logs)

    return script


def raises(error: Exception) -> Script:
    """An executor that breaks (a bug, a lost engine)."""

    def script(spec: RunSpec) -> RunResult:
        raise error

    return script


def reports_metrics(metrics: dict) -> Script:
    """An organizer's evaluation container that writes these metrics."""

    def script(spec: RunSpec) -> RunResult:
        (spec.output_dir / METRICS_FILE).write_text(json.dumps({"metrics": metrics}))
        return RunResult.failed(FailureReason.NO_OUTPUT, "no predictions.json", exit_code=0)

    return script
