"""The runner's pure parts: failure diagnosis, log capping, /output checks, run options."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import requests
from docker.types import DeviceRequest

from lai_platform.runner import DockerExecutor, FailureReason, RunLimits, RunSpec
from lai_platform.runner.budget import HostBudget
from lai_platform.runner.diagnosis import Ending, diagnose
from lai_platform.runner.docker_options import PLATFORM_LABEL, container_options
from lai_platform.runner.logs import LogCapture
from lai_platform.runner.outputs import (
    OutputDirError,
    measure_output,
    predictions_state,
    prepare_output_dir,
)

LIMITS = RunLimits(time_limit_s=5, memory_mb=64, output_max_bytes=2**20)
SECRET_LOG = "case_017 HCC secret-log-line"


def ending(**changes: object) -> Ending:
    base = dict(
        exit_code=0,
        oom_killed=False,
        killed_for=None,
        output_over_limit=False,
        predictions="file",
        logs=SECRET_LOG,
    )
    base.update(changes)
    return Ending(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("facts", "reason", "words"),
    [
        ({}, None, "finished"),
        ({"killed_for": FailureReason.TIMEOUT, "exit_code": 137}, FailureReason.TIMEOUT, "5 s"),
        ({"exit_code": 137, "oom_killed": True}, FailureReason.OUT_OF_MEMORY, "64 MB"),
        ({"exit_code": 137}, FailureReason.NONZERO_EXIT, "signal 9"),
        ({"exit_code": 1}, FailureReason.NONZERO_EXIT, "code 1"),
        ({"exit_code": 127}, FailureReason.NONZERO_EXIT, "not found"),
        (
            {"exit_code": 1, "logs": "socket.gaierror: [Errno -3] Temporary failure in name"},
            FailureReason.NETWORK_BLOCKED,
            "without network access",
        ),
        (
            {"exit_code": 1, "logs": "wget: bad address 'huggingface.co'"},
            FailureReason.NETWORK_BLOCKED,
            "without network access",
        ),
        ({"predictions": "missing"}, FailureReason.NO_OUTPUT, "predictions.json"),
        ({"predictions": "not_a_file"}, FailureReason.INVALID_OUTPUT, "regular file"),
        ({"output_over_limit": True}, FailureReason.OUTPUT_TOO_LARGE, "1 MB"),
        ({"exit_code": 153}, FailureReason.OUTPUT_TOO_LARGE, "/output"),
        (
            {"killed_for": FailureReason.OUTPUT_TOO_LARGE, "exit_code": 137},
            FailureReason.OUTPUT_TOO_LARGE,
            "/output",
        ),
    ],
)
def test_diagnosis(facts: dict, reason: FailureReason | None, words: str) -> None:
    got, message = diagnose(ending(**facts), LIMITS)
    assert got == reason
    assert words in message
    assert "secret" not in message and "case_017" not in message


def test_oom_flag_after_a_clean_exit_is_not_a_failure() -> None:
    # A child was OOM-killed but the program coped and finished.
    assert diagnose(ending(oom_killed=True), LIMITS)[0] is None


def test_sandbox_hint_without_quoting_the_log() -> None:
    logs = "OSError: [Errno 30] Read-only file system: '/root/.cache/case_017'"
    _, message = diagnose(ending(exit_code=1, logs=logs), LIMITS)
    assert "/output and /tmp" in message
    assert "case_017" not in message and ".cache" not in message


def test_log_capture_keeps_head_and_tail() -> None:
    capture = LogCapture(max_bytes=40)
    for i in range(1000):
        capture.feed(f"line {i}\n".encode())
    text = capture.text()
    assert text.startswith("line 0\nline 1\n")
    assert text.endswith("line 999\n")
    assert "omitted" in text
    assert capture.truncated


def test_log_capture_small_output_is_whole() -> None:
    capture = LogCapture(max_bytes=1000)
    capture.consume([b"hello ", b"world\n"])
    assert capture.text() == "hello world\n"
    assert not capture.truncated


def test_output_dir_is_created_for_the_container_user(tmp_path: Path) -> None:
    out = tmp_path / "job" / "output"
    prepare_output_dir(out)
    info = out.stat()
    assert out.is_dir()
    assert (info.st_uid == 65534 and info.st_mode & 0o700 == 0o700) or info.st_mode & 0o777 == 0o777


def test_output_dir_with_stale_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "predictions.json").write_text("{}")
    with pytest.raises(OutputDirError):
        prepare_output_dir(tmp_path)


def test_output_measure_counts_files_not_link_targets(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 5000)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"y" * 3000)
    big = tmp_path.parent / f"{tmp_path.name}-outside"
    big.write_bytes(b"z" * 100_000)
    os.symlink(big, tmp_path / "link")
    usage = measure_output(tmp_path)
    assert 8000 <= usage.bytes < 20_000
    assert usage.entries == 4


def test_predictions_symlink_is_not_a_file(tmp_path: Path) -> None:
    os.symlink("/etc/passwd", tmp_path / "predictions.json")
    assert predictions_state(tmp_path / "predictions.json") == "not_a_file"
    assert predictions_state(tmp_path / "missing.json") == "missing"


def test_container_options_are_hardened(tmp_path: Path) -> None:
    spec = RunSpec(
        image_id="sha256:" + "a" * 64,
        input_dir=tmp_path / "in",
        output_dir=tmp_path / "out",
        limits=RunLimits(memory_mb=128, cpus=4, pids=64, shm_mb=32, output_max_bytes=1000),
        labels={"lai.job": "42"},
    )
    options = container_options(spec, host_cpus=2)
    assert options["network_mode"] == "none"
    assert options["read_only"] is True
    assert options["cap_drop"] == ["ALL"]
    assert options["security_opt"] == ["no-new-privileges"]
    assert options["user"] == "65534:65534"
    assert options["mem_limit"] == options["memswap_limit"] == 128 * 2**20
    assert options["nano_cpus"] == 2 * 10**9  # capped at what the machine has
    assert options["pids_limit"] == 64
    assert options["shm_size"] == 32 * 2**20
    assert options["init"] is True
    assert options["labels"] == {PLATFORM_LABEL: "1", "lai.job": "42"}
    mounts = {m["Target"]: m for m in options["mounts"]}
    assert mounts["/input"]["ReadOnly"] is True
    assert mounts["/output"]["ReadOnly"] is False
    assert "/tmp" in options["tmpfs"]
    fsize = next(u for u in options["ulimits"] if u.name == "fsize")
    assert fsize.hard == 1001
    assert "device_requests" not in options


def test_gpu_only_when_asked(tmp_path: Path) -> None:
    spec = RunSpec("sha256:" + "a" * 64, tmp_path, tmp_path, RunLimits(gpu=True))
    (request,) = container_options(spec)["device_requests"]
    assert isinstance(request, DeviceRequest)
    assert request.count == -1
    assert request.capabilities == [["gpu"]]


class SlowEngineContainer:
    """A container on a busy engine: each wait runs out of time (as docker-py reports it)
    until the program exits."""

    def __init__(self, waits_before_exit: list[Exception]) -> None:
        self.pending = list(waits_before_exit)
        self.status = "running"
        self.killed = False

    def wait(self, timeout: float) -> dict:
        if self.pending:
            raise self.pending.pop(0)
        self.status = "exited"
        return {"StatusCode": 0}

    def reload(self) -> None:
        pass

    def kill(self) -> None:
        self.killed = True


@pytest.mark.parametrize(
    "timeouts",
    [[requests.exceptions.ReadTimeout("read timed out")] * 3,
     [requests.exceptions.ConnectionError("timed out")] * 3,
     [requests.exceptions.ReadTimeout("x"), requests.exceptions.ConnectionError("y")]],
    ids=["read timeouts", "connection timeouts", "both"],
)
def test_a_slow_engine_is_not_a_failed_run(tmp_path: Path, timeouts) -> None:
    executor = DockerExecutor(client=object(), poll_interval_s=0.01)  # type: ignore[arg-type]
    container = SlowEngineContainer(timeouts)
    spec = RunSpec("sha256:" + "0" * 64, tmp_path, tmp_path, LIMITS)
    assert executor._supervise(container, spec, time.monotonic()) is None  # type: ignore[arg-type]
    assert container.status == "exited" and not container.killed


def test_an_engine_that_is_gone_still_raises(tmp_path: Path) -> None:
    class Gone(SlowEngineContainer):
        def reload(self) -> None:
            raise requests.exceptions.ConnectionError("connection refused")

    executor = DockerExecutor(client=object(), poll_interval_s=0.01)  # type: ignore[arg-type]
    spec = RunSpec("sha256:" + "0" * 64, tmp_path, tmp_path, LIMITS)
    with pytest.raises(requests.exceptions.ConnectionError):
        executor._supervise(Gone([requests.exceptions.ReadTimeout("x")]), spec, time.monotonic())


def test_containers_take_turns_for_the_hosts_cpus_and_memory() -> None:
    budget = HostBudget(cpus=2, memory_mb=1000)
    inside: list[int] = []
    peak = 0
    lock = threading.Lock()

    def run(cpus: float, memory: int) -> None:
        nonlocal peak
        with budget.hold(cpus, memory):
            with lock:
                inside.append(1)
                peak = max(peak, len(inside))
            time.sleep(0.05)
            with lock:
                inside.pop()

    threads = [threading.Thread(target=run, args=(1, 400)) for _ in range(6)]
    threads.append(threading.Thread(target=run, args=(8, 10)))  # bigger than the host: alone
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert peak == 2 and not any(t.is_alive() for t in threads)
    assert budget._free_cpus == 2 and budget._free_memory == 1000
