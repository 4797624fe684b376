"""DockerExecutor.run against the real Docker Engine, one busybox test image per outcome."""

from __future__ import annotations

import json
import shutil
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from lai_platform.runner import DockerExecutor, FailureReason, RunLimits, RunResult, RunSpec, mounts
from tests.docker_images import build_test_image, docker_available, docker_client

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(not docker_available(), reason="needs a Docker Engine and /bin/busybox"),
]

CASES = ["case_001", "case_002", "case_003"]
MARKER = "LAI_SECRET_MARKER"
FAST = RunLimits(time_limit_s=5, memory_mb=64, cpus=1, pids=64, output_max_bytes=2**20)


@pytest.fixture(scope="module")
def executor() -> DockerExecutor:
    return DockerExecutor(docker_client())


@pytest.fixture
def job(tmp_path: Path) -> Path:
    """A job folder: test inputs, and next to them (never mounted) the hidden labels."""
    root = tmp_path / "job"
    inputs = root / "input"
    for case in CASES:
        (inputs / case).mkdir(parents=True)
        (inputs / case / "T2W.nii.gz").write_bytes(b"\x1f\x8b fake volume")
    (inputs / "cases.json").write_text(json.dumps(CASES))
    (root / "labels.json").write_text(json.dumps({"marker": MARKER, "case_001": "HCC"}))
    for folder in [root, inputs, *inputs.iterdir()]:
        if folder.is_dir():
            folder.chmod(0o755)
    return root


def run(executor: DockerExecutor, job: Path, image: str, limits: RunLimits = FAST) -> RunResult:
    """Run a test image; check the container is gone afterwards, whatever happened."""
    run_label = {"lai.test.run": uuid.uuid4().hex}
    spec = RunSpec(
        image_id=build_test_image(image),
        input_dir=job / "input",
        output_dir=job / "output",
        limits=limits,
        labels=run_label,
    )
    result = executor.run(spec)
    left = docker_client().containers.list(
        all=True, filters={"label": f"lai.test.run={run_label['lai.test.run']}"}
    )
    assert left == []
    assert "LAI_SECRET" not in result.message
    return result


def test_ok_writes_predictions(executor: DockerExecutor, job: Path) -> None:
    result = run(executor, job, "ok")
    assert result.ok, result.message
    assert result.reason is None
    assert result.exit_code == 0
    predictions = json.loads((job / "output" / "predictions.json").read_text())["predictions"]
    assert [p["case_id"] for p in predictions] == CASES
    assert predictions[0]["diagnosis_probabilities"]["HCC"] == 0.2
    assert "wrote predictions for 3 cases" in result.logs
    assert not result.logs_truncated


def test_nonzero_exit(executor: DockerExecutor, job: Path) -> None:
    result = run(executor, job, "exit1")
    assert (result.ok, result.reason, result.exit_code) == (False, FailureReason.NONZERO_EXIT, 1)
    assert "code 1" in result.message
    assert "Traceback" in result.logs  # stderr is captured...
    assert "Traceback" not in result.message  # ...but never put in the message


def test_timeout(executor: DockerExecutor, job: Path) -> None:
    result = run(executor, job, "sleep", RunLimits(time_limit_s=2, memory_mb=64))
    assert result.reason is FailureReason.TIMEOUT
    assert "time limit of 2 s" in result.message
    assert "sleeping" in result.logs


def test_out_of_memory(executor: DockerExecutor, job: Path) -> None:
    result = run(executor, job, "oom", RunLimits(time_limit_s=10, memory_mb=32))
    assert result.reason is FailureReason.OUT_OF_MEMORY
    assert "32 MB" in result.message


def test_no_output(executor: DockerExecutor, job: Path) -> None:
    result = run(executor, job, "no_output")
    assert (result.reason, result.exit_code) == (FailureReason.NO_OUTPUT, 0)
    assert "/output/predictions.json" in result.message


def test_malformed_output_is_left_to_the_validator(executor: DockerExecutor, job: Path) -> None:
    # The runner only checks that the file exists; the evaluator says what is wrong with it.
    result = run(executor, job, "malformed")
    assert result.ok
    assert '"high"' in (job / "output" / "predictions.json").read_text()


def test_network_is_blocked(executor: DockerExecutor, job: Path) -> None:
    result = run(executor, job, "network")
    assert result.reason is FailureReason.NETWORK_BLOCKED
    assert "without network access" in result.message
    assert "Network is unreachable" in result.logs


def test_big_output_is_stopped(executor: DockerExecutor, job: Path) -> None:
    # The image sleeps after writing: only the output watcher can end it before the timeout.
    result = run(executor, job, "big_output")
    assert result.reason is FailureReason.OUTPUT_TOO_LARGE
    assert "1 MB" in result.message
    # The fsize ulimit cut the single big file one byte past the limit.
    assert (job / "output" / "big.bin").stat().st_size == FAST.output_max_bytes + 1


def test_files_next_to_the_input_are_invisible(executor: DockerExecutor, job: Path) -> None:
    result = run(executor, job, "snoop")
    found = (job / "output" / "found.txt").read_text()
    assert "/input/cases.json" in found  # it did look around
    assert "== end" in found
    assert MARKER not in found
    assert "labels.json" not in found
    assert result.reason is FailureReason.NO_OUTPUT


def test_sandbox_as_seen_from_inside(executor: DockerExecutor, job: Path) -> None:
    run(executor, job, "whoami")
    report = (job / "output" / "whoami.txt").read_text()
    assert "uid=65534 gid=65534" in report
    assert "rootfs: read-only" in report
    assert "input: read-only" in report
    assert "tmp: writable" in report
    assert "CapEff:\t0000000000000000" in report
    assert "CapBnd:\t0000000000000000" in report
    assert "NoNewPrivs:\t1" in report
    assert "interfaces: lo \n" in report
    assert "pid1: docker-init" in report  # --init: PID 1 is Docker's init, not the program


def test_live_container_settings(executor: DockerExecutor, job: Path) -> None:
    """Inspect a running container: the hardening is what Docker actually applied."""
    label = uuid.uuid4().hex
    limits = RunLimits(time_limit_s=3, memory_mb=48, cpus=0.5, pids=32, shm_mb=16)
    spec = RunSpec(
        build_test_image("sleep"), job / "input", job / "output", limits, labels={"t": label}
    )
    results: list[RunResult] = []
    worker = threading.Thread(target=lambda: results.append(executor.run(spec)))
    worker.start()
    attrs = None
    for _ in range(60):
        running = docker_client().containers.list(filters={"label": f"t={label}"})
        if running:
            attrs = running[0].attrs
            break
        time.sleep(0.1)
    worker.join()
    assert attrs is not None, "the container was never seen running"
    host = attrs["HostConfig"]
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Memory"] == host["MemorySwap"] == 48 * 2**20
    assert host["NanoCpus"] == 5 * 10**8
    assert host["PidsLimit"] == 32
    assert host["ShmSize"] == 16 * 2**20
    assert host["Init"] is True
    assert not host["Privileged"]
    assert host["DeviceRequests"] in (None, [])
    assert attrs["Config"]["User"] == "65534:65534"
    assert attrs["Config"]["Labels"]["lai.platform"] == "1"
    mounts = {m["Destination"]: m for m in attrs["Mounts"]}
    assert mounts["/input"]["RW"] is False
    assert mounts["/output"]["RW"] is True
    assert results[0].reason is FailureReason.TIMEOUT


def test_logs_are_capped(executor: DockerExecutor, job: Path) -> None:
    limits = RunLimits(time_limit_s=10, memory_mb=32, log_max_bytes=100)
    result = run(executor, job, "oom", limits)
    assert result.logs_truncated
    assert "omitted" in result.logs
    assert len(result.logs) < 200


def test_image_not_loaded_is_a_platform_error(executor: DockerExecutor, job: Path) -> None:
    spec = RunSpec("sha256:" + "0" * 64, job / "input", job / "output", FAST)
    result = executor.run(spec)
    assert result.reason is FailureReason.PLATFORM_ERROR
    assert "not a problem with your submission" in result.message


def test_gpu_on_a_machine_without_one_is_a_platform_error(
    executor: DockerExecutor, job: Path
) -> None:
    gpus = docker_client().info().get("Runtimes", {})
    if "nvidia" in gpus:
        pytest.skip("this machine has the NVIDIA runtime")
    result = run(executor, job, "ok", RunLimits(time_limit_s=5, memory_mb=64, gpu=True))
    assert result.reason is FailureReason.PLATFORM_ERROR
    assert "GPU" in result.message


def test_stale_output_folder_is_refused(executor: DockerExecutor, job: Path) -> None:
    (job / "output").mkdir()
    (job / "output" / "predictions.json").write_text("{}")
    result = run(executor, job, "ok")
    assert result.reason is FailureReason.PLATFORM_ERROR


def test_stray_containers_are_removed_unless_a_live_run_owns_them(
    executor: DockerExecutor,
) -> None:
    label = uuid.uuid4().hex

    def create(**labels: str):
        return docker_client().containers.create(
            build_test_image("sleep"), labels={"lai.test.stray": label, **labels}
        )

    create(**{"lai.platform": "1", "lai.submission": "1"})  # ours, its run is dead
    live = create(**{"lai.platform": "1", "lai.submission": "2"})  # ours, still running
    other = create()  # not ours
    try:
        removed = executor.remove_containers(
            {"lai.test.stray": label}, keep=lambda labels: labels.get("lai.submission") == "2"
        )
        assert removed == 1
        left = docker_client().containers.list(
            all=True, filters={"label": f"lai.test.stray={label}"}
        )
        assert sorted(c.id for c in left) == sorted([live.id, other.id])
    finally:
        live.remove(force=True)
        other.remove(force=True)


def test_stale_container_with_the_same_name_is_replaced(
    executor: DockerExecutor, job: Path
) -> None:
    """A worker that crashed mid-run leaves its container; the retry must not be blocked."""
    name = f"lai-test-stale-{uuid.uuid4().hex[:12]}"
    docker_client().containers.create(
        build_test_image("sleep"), name=name, labels={"lai.platform": "1"}
    )
    spec = RunSpec(build_test_image("ok"), job / "input", job / "output", FAST, name=name)
    result = executor.run(spec)
    assert result.ok, result.message
    assert docker_client().containers.list(all=True, filters={"name": name}) == []


def test_tmp_is_writable_even_when_the_image_has_its_own(executor: DockerExecutor,
                                                         job: Path) -> None:
    result = run(executor, job, "own_tmp")
    assert result.ok, (result.message, result.logs)
    assert "scratch space works" in result.logs


def test_a_self_inflicted_sigkill_is_not_called_out_of_memory(executor: DockerExecutor,
                                                              job: Path) -> None:
    result = run(executor, job, "selfkill")
    assert result.reason is FailureReason.NONZERO_EXIT and result.exit_code == 137
    assert "signal 9" in result.message and "memory" not in result.message.split(",")[0]


def test_output_is_capped_as_a_whole_not_per_file(executor: DockerExecutor, job: Path) -> None:
    limits = replace(FAST, output_max_bytes=2 * 2**20)
    result = run(executor, job, "many_files", limits)
    assert result.reason is FailureReason.OUTPUT_TOO_LARGE, (result.reason, result.logs)
    kept = sum(p.stat().st_size for p in (job / "output").rglob("*") if p.is_file())
    assert kept <= 1.1 * limits.output_max_bytes  # 40 MB were written, one after another


def test_an_unprivileged_worker_runs_on_plain_folders(
    executor: DockerExecutor, job: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the right to mount, /output is the folder itself (ulimit + poll bound it)."""
    monkeypatch.setattr(mounts, "can_mount", lambda: False)
    assert run(executor, job, "ok").ok
    shutil.rmtree(job / "output")
    assert run(executor, job, "big_output").reason is FailureReason.OUTPUT_TOO_LARGE


def test_a_container_the_engine_stops_is_the_platforms_fault(executor: DockerExecutor,
                                                              job: Path) -> None:
    """A stopping engine signals its containers (exit 143) while its API still answers: that
    is not the algorithm's failure. `docker kill` leaves the same trace as the engine's stop."""
    label = uuid.uuid4().hex
    spec = RunSpec(build_test_image("sleep"), job / "input", job / "output",
                   RunLimits(time_limit_s=30, memory_mb=64), labels={"t": label})
    results: list[RunResult] = []
    worker = threading.Thread(target=lambda: results.append(executor.run(spec)))
    worker.start()
    for _ in range(100):
        running = docker_client().containers.list(filters={"label": f"t={label}"})
        if running:
            running[0].kill(signal="SIGTERM")
            break
        time.sleep(0.1)
    worker.join(60)
    assert results and results[0].reason is FailureReason.PLATFORM_ERROR, results
    assert results[0].exit_code == 143
    assert "does not count against your quota" in results[0].message
