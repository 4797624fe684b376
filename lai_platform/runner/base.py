"""What a container run is asked to do, what it may use, and how it ended.

These types are engine-neutral: the job pipeline talks to an `Executor`, and
`DockerExecutor` is the one that exists today.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

PREDICTIONS_FILE = "predictions.json"
# Labels on every container a deployment starts: two deployments sharing one engine
# (staging beside production, tests beside a demo) never touch each other's containers.
DEPLOYMENT_LABEL = "lai.deployment"
SUBMISSION_LABEL = "lai.submission"


@dataclass(frozen=True)
class RunLimits:
    time_limit_s: float = 600
    memory_mb: int = 4096  # RAM and swap together: --memory == --memory-swap
    cpus: float = 2.0
    pids: int = 256
    shm_mb: int = 64
    output_max_bytes: int = 50 * 2**20
    log_max_bytes: int = 256 * 2**10
    gpu: bool = False

    @classmethod
    def from_mapping(cls, values: Mapping | None) -> RunLimits:
        """A phase's stored limits; keys this version does not know are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (values or {}).items() if k in known})


@dataclass(frozen=True)
class RunSpec:
    image_id: str
    input_dir: Path  # mounted read-only at /input; must be readable by uid 65534
    output_dir: Path  # created empty by the runner and mounted at /output
    limits: RunLimits
    name: str | None = None  # container name; None lets Docker pick one
    labels: Mapping[str, str] = field(default_factory=dict)


def container_identity(deployment: str, submission_id: int, kind: str) -> tuple[str, dict]:
    """The name and labels of the container that runs `kind` ("submission" or "evaluation")
    for one submission of one deployment."""
    name = f"lai-{deployment}-{kind}-{submission_id}"
    return name, {DEPLOYMENT_LABEL: deployment, SUBMISSION_LABEL: str(submission_id)}


class FailureReason(StrEnum):
    """Every way a submission's run can end badly, as the submitter is told."""

    TIMEOUT = "timeout"
    OUT_OF_MEMORY = "out_of_memory"
    NONZERO_EXIT = "nonzero_exit"
    NETWORK_BLOCKED = "network_blocked"
    NO_OUTPUT = "no_output"
    OUTPUT_TOO_LARGE = "output_too_large"
    INVALID_OUTPUT = "invalid_output"  # the runner only uses it for a non-file output
    IMAGE_INVALID = "image_invalid"
    PLATFORM_ERROR = "platform_error"  # our fault: never counts against a quota
    # The organizers' evaluation container failed: not the submitter's fault either.
    EVALUATION_FAILED = "evaluation_failed"


@dataclass
class RunResult:
    ok: bool
    reason: FailureReason | None
    message: str  # for the submitter; never contains log text (logs may leak test data)
    exit_code: int | None
    logs: str  # stdout+stderr, capped; the caller decides who may see them
    duration_s: float
    logs_truncated: bool

    @classmethod
    def failed(
        cls,
        reason: FailureReason,
        message: str,
        *,
        exit_code: int | None = None,
        logs: str = "",
        duration_s: float = 0.0,
        logs_truncated: bool = False,
    ) -> RunResult:
        return cls(False, reason, message, exit_code, logs, duration_s, logs_truncated)


class ImageLoadError(RuntimeError):
    """Loading an image tarball failed or produced an image other than the expected one."""


@runtime_checkable
class Executor(Protocol):
    def has_image(self, image_id: str) -> bool: ...

    def load_image(self, tar_path: Path, image_id: str) -> None:
        """Load once: a no-op when `image_id` is present; raise ImageLoadError on mismatch."""
        ...

    def make_room(self, image_id: str, size_bytes: int) -> None:
        """Before fetching an image tarball of `size_bytes`: prune images over the worker's
        budget and check free disk; raise a RuntimeError (a platform problem) if short."""
        ...

    def run(self, spec: RunSpec) -> RunResult: ...

    def remove_image(self, image_id: str) -> None: ...

    def remove_containers(
        self, labels: Mapping[str, str], keep: Callable[[Mapping[str, str]], bool]
    ) -> int:
        """Remove the containers carrying `labels`, except those whose labels `keep` accepts;
        return how many were removed."""
        ...
