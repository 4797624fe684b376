"""Turn how a container ended into a failure reason and words its author can act on.

Messages never quote the logs: logs may echo test data and are shown only where the phase
allows. Log text is only *matched* here, to pick the reason and a hint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lai_platform.runner.base import FailureReason, RunLimits

SIGXFSZ_EXIT = 128 + 25  # killed by the file-size ulimit
SIGKILL_EXIT = 128 + 9

# What programs print when there is no network: glibc, musl/busybox, Python, curl, requests.
_NETWORK_PATTERNS = re.compile(
    r"network is unreachable|temporary failure in name resolution|name or service not known"
    r"|bad address|errno 101\b|\[errno -[235]\]|enetunreach|could not resolve host"
    r"|failed to resolve|no address associated with hostname|getaddrinfo failed"
    r"|failed to establish a new connection|name resolution|couldn't connect to",
    re.IGNORECASE,
)
_SANDBOX_PATTERNS = re.compile(r"read-only file system|permission denied", re.IGNORECASE)

_EXIT_HINTS = {
    126: "the command in the image's ENTRYPOINT/CMD is not executable",
    127: "the command in the image's ENTRYPOINT/CMD was not found in the image",
    134: "the program aborted",
    139: "the program crashed with a segmentation fault",
}


@dataclass(frozen=True)
class Ending:
    """The facts of one finished run."""

    exit_code: int | None
    oom_killed: bool
    killed_for: FailureReason | None  # set when the runner itself stopped the container
    output_over_limit: bool
    predictions: str  # outputs.predictions_state(): 'file', 'missing' or 'not_a_file'
    logs: str
    # The engine itself signalled the container (it was stopping or restarting): ours.
    engine_stopped: bool = False


def diagnose(ending: Ending, limits: RunLimits) -> tuple[FailureReason | None, str]:
    """(None, message) for success, else (reason, message)."""
    if ending.killed_for is FailureReason.TIMEOUT:
        return FailureReason.TIMEOUT, (
            f"The algorithm did not finish within the time limit of {_seconds(limits)} and "
            "was stopped. Make it faster, or check that it does not wait for input."
        )
    if (
        ending.killed_for is FailureReason.OUTPUT_TOO_LARGE
        or ending.output_over_limit
        or ending.exit_code == SIGXFSZ_EXIT
    ):
        return FailureReason.OUTPUT_TOO_LARGE, (
            f"The algorithm wrote more than the {_mb(limits.output_max_bytes)} allowed in "
            "/output and was stopped. Write only predictions.json (and small extras) there."
        )
    if ending.engine_stopped and ending.exit_code != 0:
        return FailureReason.PLATFORM_ERROR, (
            "The container engine stopped the algorithm while it ran (the engine was "
            "restarting). This is the platform's fault: the run is tried again and does not "
            "count against your quota."
        )
    if ending.exit_code not in (0, None) and ending.oom_killed:
        return FailureReason.OUT_OF_MEMORY, (
            f"The algorithm used more than its memory limit of {limits.memory_mb} MB and was "
            "stopped. Use less memory (smaller batches, lower precision) or process the "
            "cases one at a time."
        )
    if ending.exit_code != 0:
        return _nonzero_exit(ending)
    if ending.predictions == "missing":
        return FailureReason.NO_OUTPUT, (
            "The algorithm finished without writing /output/predictions.json. Write the "
            "predictions there before exiting."
        )
    if ending.predictions == "not_a_file":
        return FailureReason.INVALID_OUTPUT, (
            "/output/predictions.json is not a regular file (e.g. a link or a folder). Write "
            "the predictions as a plain JSON file."
        )
    return None, "The algorithm finished and wrote /output/predictions.json."


def _nonzero_exit(ending: Ending) -> tuple[FailureReason, str]:
    if _NETWORK_PATTERNS.search(ending.logs):
        return FailureReason.NETWORK_BLOCKED, (
            f"The algorithm exited with code {ending.exit_code} after trying to use the "
            "network. Containers run without network access: put model weights and any "
            "other files your algorithm needs inside the image."
        )
    if ending.exit_code == SIGKILL_EXIT:  # the engine did not report its memory limit
        return FailureReason.NONZERO_EXIT, (
            "The algorithm was killed by signal 9 (SIGKILL), and not by the platform: it did "
            "not reach its time, memory or output limit. Something inside the container sent "
            "the signal. See the logs, where this phase shows them."
        )
    hint = _EXIT_HINTS.get(ending.exit_code or 0)
    message = f"The algorithm exited with code {ending.exit_code}"
    message += f" ({hint})." if hint else "."
    if _SANDBOX_PATTERNS.search(ending.logs):
        message += (
            " Note that it runs as an unprivileged user on a read-only file system: write only"
            " to /output and /tmp."
        )
    message += " See the logs, where this phase shows them, for the error."
    return FailureReason.NONZERO_EXIT, message


def _seconds(limits: RunLimits) -> str:
    return f"{limits.time_limit_s:g} s"


def _mb(n: int) -> str:
    return f"{n / 2**20:g} MB"
