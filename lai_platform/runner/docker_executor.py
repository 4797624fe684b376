"""Run a participant's container with Docker: hardened, watched, always removed."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container

from lai_platform.runner import gpu_probe, image_loading, mounts
from lai_platform.runner.base import (
    PREDICTIONS_FILE,
    FailureReason,
    RunResult,
    RunSpec,
)
from lai_platform.runner.budget import HostBudget
from lai_platform.runner.diagnosis import Ending, diagnose
from lai_platform.runner.docker_options import PLATFORM_LABEL, container_options
from lai_platform.runner.image_budget import ImageBudget
from lai_platform.runner.logs import LogCapture
from lai_platform.runner.outputs import (
    CONTAINER_UID,
    MAX_OUTPUT_ENTRIES,
    OutputDirError,
    copy_output,
    measure_output,
    over_limit,
    predictions_state,
    prepare_output_dir,
)

log = logging.getLogger(__name__)

_PLATFORM_MESSAGE = (
    "The platform could not run the container ({what}). This is not a problem with your "
    "submission and does not count against your quota."
)
_STOP_WAIT_S = 30  # how long a killed container may take to be reported as stopped
_LOG_DRAIN_WAIT_S = 10  # how long to wait for the last log bytes after the exit


class DockerExecutor:
    """The `Executor` for a local Docker Engine."""

    def __init__(
        self,
        client: docker.DockerClient | None = None,
        *,
        poll_interval_s: float = 0.5,
        api_timeout_s: int = 300,
        image_budget: ImageBudget | None = None,
    ) -> None:
        # A long API timeout: loading a multi-GB image is one slow request.
        self._client = client or docker.from_env(timeout=api_timeout_s)
        self._poll_interval_s = poll_interval_s
        self._load_locks: dict[str, threading.Lock] = {}
        self._load_locks_guard = threading.Lock()
        self._host_cpus: int | None = None
        self._budget: HostBudget | None = None
        self._images = image_budget  # None: images are never pruned (tests, the demo)

    # -- images ---------------------------------------------------------------------------

    def has_image(self, image_id: str) -> bool:
        image_loading.check_image_id(image_id)
        return image_loading.image_id_of(self._client, image_id) == image_id

    def load_image(self, tar_path: Path, image_id: str) -> None:
        image_loading.check_image_id(image_id)
        with self._load_lock(image_id):  # two jobs of one image must not both load it
            if not self.has_image(image_id):
                image_loading.load_image_tarball(self._client, tar_path, image_id)
            self._used(image_id)

    def make_room(self, image_id: str, size_bytes: int) -> None:
        """Before fetching an image's tarball: keep images under the budget and check free
        disk (raises image_budget.NoRoomForImage, a platform problem)."""
        if self._images is not None:
            self._images.make_room(self._client, image_id, size_bytes)

    def probe_gpu(self) -> tuple[bool, str]:
        return gpu_probe.probe_gpu(self._client)

    def ping(self) -> None:
        self._client.ping()

    def close(self) -> None:
        self._client.close()

    def _used(self, image_id: str) -> None:
        if self._images is not None:
            self._images.uses.touch(image_id)

    def remove_image(self, image_id: str) -> None:
        image_loading.check_image_id(image_id)
        try:
            self._client.images.remove(image_id, force=True)
        except ImageNotFound:
            pass

    def _load_lock(self, image_id: str) -> threading.Lock:
        with self._load_locks_guard:
            return self._load_locks.setdefault(image_id, threading.Lock())

    # -- containers -----------------------------------------------------------------------

    def run(self, spec: RunSpec) -> RunResult:
        try:
            image_loading.check_image_id(spec.image_id)
            if not spec.input_dir.is_dir():
                raise OutputDirError(f"input folder {spec.input_dir} does not exist")
            prepare_output_dir(spec.output_dir)
        except (OSError, OutputDirError, ValueError) as exc:
            log.error("run %s: cannot prepare: %s", spec.name, exc)
            return RunResult.failed(
                FailureReason.PLATFORM_ERROR, _PLATFORM_MESSAGE.format(what="folders")
            )
        capture = LogCapture(spec.limits.log_max_bytes)
        container: Container | None = None
        try:
            if spec.name:
                self._remove_stale_namesake(spec.name)
            with mounts.tmpfs(spec.output_dir.parent, spec.limits.output_max_bytes,
                              MAX_OUTPUT_ENTRIES, CONTAINER_UID) as capped:
                # /output on a file system of the output limit's size, where one is allowed.
                inside = replace(spec, output_dir=capped) if capped else spec
                options = container_options(inside, self._cpu_count())
                self._used(spec.image_id)
                with self.budget().hold(spec.limits.cpus, spec.limits.memory_mb):
                    container = self._client.containers.create(spec.image_id, **options)
                    result = self._run_created(container, inside, capture)
                if capped:
                    copy_output(capped, spec.output_dir)
                return result
        except ImageNotFound:
            log.error("run %s: image %s is not loaded", spec.name, spec.image_id)
            return RunResult.failed(
                FailureReason.PLATFORM_ERROR, _PLATFORM_MESSAGE.format(what="image not loaded")
            )
        except APIError as exc:
            return _api_failure(spec, exc)
        except (DockerException, requests.RequestException) as exc:
            log.exception("run %s: Docker failed", spec.name)
            return RunResult.failed(
                FailureReason.PLATFORM_ERROR, _PLATFORM_MESSAGE.format(what=type(exc).__name__)
            )
        finally:
            if container is not None:
                _remove_container(container)

    def _run_created(self, container: Container, spec: RunSpec, capture: LogCapture) -> RunResult:
        # Attach before start, so no output is missed however fast the program is.
        stream = container.attach(stdout=True, stderr=True, stream=True, logs=True)
        reader = threading.Thread(target=_drain, args=(stream, capture), daemon=True)
        reader.start()
        container.start()
        started, started_at = time.monotonic(), time.time()
        killed_for = self._supervise(container, spec, started)
        duration = time.monotonic() - started
        container.reload()
        state = container.attrs["State"]
        reader.join(_LOG_DRAIN_WAIT_S)
        logs = capture.text()
        ending = Ending(
            exit_code=state.get("ExitCode"),
            oom_killed=bool(state.get("OOMKilled")),
            killed_for=killed_for,
            output_over_limit=over_limit(
                measure_output(spec.output_dir), spec.limits.output_max_bytes
            ),
            predictions=predictions_state(spec.output_dir / PREDICTIONS_FILE),
            logs=logs,
            engine_stopped=killed_for is None and _signalled(state.get("ExitCode"))
            and self._engine_signalled(container, started_at),
        )
        reason, message = diagnose(ending, spec.limits)
        return RunResult(
            ok=reason is None,
            reason=reason,
            message=message,
            exit_code=ending.exit_code,
            logs=logs,
            duration_s=duration,
            logs_truncated=capture.truncated,
        )

    def _engine_signalled(self, container: Container, since: float) -> bool:
        """Whether the engine sent the container a signal we did not ask for: a stopping
        engine kills its containers (a `kill` event) while its API still answers; a program
        that kills itself leaves none. An engine that no longer answers counts as one."""
        try:
            events = self._client.events(
                since=int(since) - 1, until=int(time.time()) + 1, decode=True,
                filters={"container": container.id, "event": "kill"},
            )
            return any(True for _ in events)
        except (DockerException, requests.RequestException):
            return True

    def _supervise(
        self, container: Container, spec: RunSpec, started: float
    ) -> FailureReason | None:
        """Wait for the exit; kill on the wall-clock or output limit and say which."""
        deadline = started + spec.limits.time_limit_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return _kill(container, FailureReason.TIMEOUT)
            if self._exited_within(container, min(self._poll_interval_s, remaining)):
                return None
            usage = measure_output(spec.output_dir)
            if over_limit(usage, spec.limits.output_max_bytes):
                return _kill(container, FailureReason.OUTPUT_TOO_LARGE)

    def _exited_within(self, container: Container, seconds: float) -> bool:
        """Wait up to `seconds` for the container to exit; True if it has.

        docker-py reports a wait that ran out of time as a ConnectionError or, on a busy
        engine, a ReadTimeout: neither means the run failed. A reload tells that apart from
        an engine that is gone (it raises again).
        """
        try:
            container.wait(timeout=seconds)
            return True
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout):
            container.reload()
            return container.status not in ("created", "running")

    def _remove_stale_namesake(self, name: str) -> None:
        """A container of ours left under this name by a crashed worker would block the run."""
        try:
            stale = self._client.containers.get(name)
        except NotFound:
            return
        if stale.labels.get(PLATFORM_LABEL) == "1":
            log.warning("removing stale container %s (%s)", name, stale.id)
            _remove_container(stale)

    def budget(self) -> HostBudget:
        """The engine's machine: what its containers may take together."""
        if self._budget is None:
            info = self._client.info()
            cpus = int(info.get("NCPU") or 1)
            memory_mb = int(info.get("MemTotal") or 2**40) // 2**20
            self._budget = HostBudget(cpus, memory_mb)
        return self._budget

    def _cpu_count(self) -> int | None:
        # Docker refuses more CPUs than the machine has; cap rather than fail every run.
        if self._host_cpus is None:
            self._host_cpus = int(self._client.info().get("NCPU") or 0)
        return self._host_cpus or None

    # -- housekeeping ---------------------------------------------------------------------

    def remove_containers(
        self, labels: Mapping[str, str], keep: Callable[[Mapping[str, str]], bool]
    ) -> int:
        """Remove our containers that carry `labels` and that `keep` does not claim (left
        behind by a worker that died), and any of them that ended a while ago (a run that
        lost its engine mid-way could not remove its own); return how many were removed."""
        wanted = [f"{PLATFORM_LABEL}=1"] + [f"{k}={v}" for k, v in labels.items()]
        removed = 0
        for container in self._client.containers.list(all=True, filters={"label": wanted}):
            if keep(container.labels) and not _ended_long_ago(container):
                continue
            if _remove_container(container):
                removed += 1
        return removed


def _api_failure(spec: RunSpec, exc: APIError) -> RunResult:
    text = str(exc.explanation or exc)
    if "No command specified" in text:
        return RunResult.failed(
            FailureReason.IMAGE_INVALID,
            "The image has neither an ENTRYPOINT nor a CMD, so there is nothing to run.",
        )
    log.error("run %s: Docker API error: %s", spec.name, text)
    if "device driver" in text and spec.limits.gpu:
        what = "no GPU is available on this worker"
    else:
        what = "Docker API error"
    return RunResult.failed(FailureReason.PLATFORM_ERROR, _PLATFORM_MESSAGE.format(what=what))


def _kill(container: Container, reason: FailureReason) -> FailureReason | None:
    """Kill the container; None if it had already exited on its own."""
    try:
        container.kill()
    except APIError as exc:
        if exc.status_code == 409 or "is not running" in str(exc):
            return None
        raise
    container.wait(timeout=_STOP_WAIT_S)
    return reason


def _drain(stream: Iterable[bytes], capture: LogCapture) -> None:
    try:
        capture.consume(stream)
    except Exception:  # the socket closes when the container is removed
        log.debug("log stream ended", exc_info=True)


def _remove_container(container: Container) -> bool:
    try:
        container.remove(force=True)
        return True
    except NotFound:
        return False
    except (DockerException, requests.RequestException):
        log.exception("could not remove container %s", container.id)
        return False


def _signalled(exit_code: int | None) -> bool:
    """Exit codes above 128 are 128 + the signal that ended the program."""
    return exit_code is not None and exit_code > 128


ENDED_GRACE_S = 60  # a run reads its ended container's state and logs well within this


def _ended_long_ago(container: Container) -> bool:
    state = container.attrs.get("State") or {}
    if state.get("Status") not in ("exited", "dead"):
        return False
    finished = str(state.get("FinishedAt") or "")[:19]  # 2026-12-02T13:05:08.123Z
    try:
        ended = datetime.strptime(finished, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return False
    return (datetime.now(UTC) - ended).total_seconds() > ENDED_GRACE_S
