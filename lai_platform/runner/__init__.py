"""Run participant algorithm containers against a hidden test set, safely."""

from lai_platform.runner.base import (
    PREDICTIONS_FILE,
    Executor,
    FailureReason,
    ImageLoadError,
    RunLimits,
    RunResult,
    RunSpec,
)
from lai_platform.runner.docker_executor import DockerExecutor

__all__ = [
    "PREDICTIONS_FILE",
    "DockerExecutor",
    "Executor",
    "FailureReason",
    "ImageLoadError",
    "RunLimits",
    "RunResult",
    "RunSpec",
]
