"""Organizer evaluation containers: real runs of busybox images, and metrics.json checks."""

from __future__ import annotations

import json
import os
import stat
import uuid
from pathlib import Path

import pytest

from lai_platform.runner import DockerExecutor, FailureReason, RunLimits, RunResult
from lai_platform.scoring.evaluation_container import (
    GROUND_TRUTH_INPUT,
    METRICS_MAX_BYTES,
    PREDICTIONS_INPUT,
    PUBLIC_MESSAGE,
    EvaluationContainerError,
    check_run,
    parse_metrics,
    read_metrics_file,
    required_metric_present,
    run_evaluation_container,
    stage_evaluation_inputs,
)
from tests.docker_images import build_test_image, docker_available, docker_client

IMAGE = "sha256:" + "ab" * 32
LIMITS = RunLimits(time_limit_s=10, memory_mb=64, cpus=1, pids=64, output_max_bytes=2**20)
GROUND_TRUTH = (
    "case_id,diagnosis,malignant,centre\ncase_001,HCC,1,A\ncase_002,FNH,0,A\ncase_003,iCCA,1,B\n"
)
PREDICTIONS = json.dumps(
    {"predictions": [{"case_id": f"case_00{i}", "malignant_probability": 0.5} for i in (1, 2, 3)]}
).encode()


def docker_only(test):
    """Marks a test that runs real containers."""
    test = pytest.mark.skipif(
        not docker_available(), reason="needs a Docker Engine and /bin/busybox"
    )(test)
    return pytest.mark.docker(test)


@pytest.fixture
def ground_truth(tmp_path: Path) -> Path:
    path = tmp_path / "hidden" / "ground_truth.csv"
    path.parent.mkdir()
    path.write_text(GROUND_TRUTH)
    return path


@pytest.fixture(scope="module")
def executor() -> DockerExecutor:
    return DockerExecutor(docker_client())


def evaluate_with(
    executor: DockerExecutor,
    image: str,
    ground_truth: Path,
    work_dir: Path,
    *,
    predictions: bytes = PREDICTIONS,
    limits: RunLimits = LIMITS,
) -> dict:
    """Run a test evaluation image; check its container is gone afterwards, whatever happened."""
    name = f"lai-test-eval-{uuid.uuid4().hex[:12]}"
    try:
        return run_evaluation_container(
            executor,
            build_test_image(image),
            predictions,
            ground_truth,
            work_dir,
            limits,
            name=name,
        )
    finally:
        assert docker_client().containers.list(all=True, filters={"name": name}) == []


def failure(executor, image, ground_truth, work_dir, **kwargs) -> EvaluationContainerError:
    with pytest.raises(EvaluationContainerError) as caught:
        evaluate_with(executor, image, ground_truth, work_dir, **kwargs)
    error = caught.value
    assert error.public_message == PUBLIC_MESSAGE
    assert error.message and str(error) == error.message
    return error


# -- real runs ----------------------------------------------------------------------------


@docker_only
def test_ok_returns_metrics_in_the_evaluator_shape(
    executor: DockerExecutor, ground_truth: Path, tmp_path: Path
) -> None:
    image_id = build_test_image("evaluator_ok")
    result = evaluate_with(executor, "evaluator_ok", ground_truth, tmp_path / "work")
    assert result["n_cases"] == 3
    assert result["evaluated_by"] == "container"
    assert result["evaluator_image"] == image_id
    metrics = result["metrics"]
    assert metrics["auc"] == {
        "value": 0.75,
        "ci_low": None,
        "ci_high": None,
        "n_resamples": None,
        "undefined": None,
    }
    assert metrics["custom_score"]["value"] == 0.5
    assert (metrics["custom_score"]["ci_low"], metrics["custom_score"]["ci_high"]) == (0.4, 0.6)
    for entry in metrics.values():
        assert set(entry) == {"value", "ci_low", "ci_high", "n_resamples", "undefined"}
    json.dumps(result, allow_nan=False)  # storable as is
    required_metric_present(result, "auc")


@docker_only
def test_ok_runs_sandboxed_and_sees_only_its_two_inputs(
    executor: DockerExecutor, ground_truth: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    metrics = evaluate_with(executor, "evaluator_ok", ground_truth, work)["metrics"]
    assert metrics["read_predictions"]["value"] == 1
    assert metrics["input_read_only"]["value"] == 1  # cannot write to /input
    assert metrics["input_files"]["value"] == 2
    assert metrics["no_network"]["value"] == 1  # only loopback, nothing reachable
    assert metrics["uid"]["value"] == 65534  # non-root
    # The staged folder on the host: exactly the two files, readable by uid 65534.
    inputs = work / "input"
    assert sorted(p.name for p in inputs.iterdir()) == [GROUND_TRUTH_INPUT, PREDICTIONS_INPUT]
    assert (inputs / PREDICTIONS_INPUT).read_bytes() == PREDICTIONS
    assert (inputs / GROUND_TRUTH_INPUT).read_text() == GROUND_TRUTH
    assert stat.S_IMODE(inputs.stat().st_mode) == 0o755
    for name in (PREDICTIONS_INPUT, GROUND_TRUTH_INPUT):
        assert stat.S_IMODE((inputs / name).stat().st_mode) == 0o444


@docker_only
def test_a_second_evaluation_in_the_same_work_dir_starts_clean(
    executor: DockerExecutor, ground_truth: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    evaluate_with(executor, "evaluator_ok", ground_truth, work)
    (work / "input" / "stale.txt").write_text("left over")
    result = evaluate_with(executor, "evaluator_ok", ground_truth, work)
    assert result["metrics"]["input_files"]["value"] == 2
    assert sorted(p.name for p in (work / "input").iterdir()) == [
        GROUND_TRUTH_INPUT,
        PREDICTIONS_INPUT,
    ]


@docker_only
def test_nonzero_exit(executor: DockerExecutor, ground_truth: Path, tmp_path: Path) -> None:
    error = failure(executor, "evaluator_fail", ground_truth, tmp_path / "work")
    assert error.problem == "nonzero_exit"
    assert error.run_reason is FailureReason.NONZERO_EXIT
    assert "exited with code 3" in error.message
    assert "predictions do not match" in error.logs  # for organizers, not in the message
    assert "predictions do not match" not in error.message


@docker_only
def test_timeout(executor: DockerExecutor, ground_truth: Path, tmp_path: Path) -> None:
    limits = RunLimits(time_limit_s=2, memory_mb=64, cpus=1, pids=64)
    error = failure(executor, "sleep", ground_truth, tmp_path / "work", limits=limits)
    assert error.problem == "timeout"
    assert "time limit of 2 s" in error.message


@docker_only
def test_no_metrics_file(executor: DockerExecutor, ground_truth: Path, tmp_path: Path) -> None:
    error = failure(executor, "no_output", ground_truth, tmp_path / "work")
    assert error.problem == "no_metrics"
    assert "without writing /output/metrics.json" in error.message


@docker_only
def test_not_json(executor: DockerExecutor, ground_truth: Path, tmp_path: Path) -> None:
    error = failure(executor, "evaluator_garbage", ground_truth, tmp_path / "work")
    assert error.problem == "invalid_metrics"
    assert "not JSON" in error.message


@docker_only
def test_nan_metric(executor: DockerExecutor, ground_truth: Path, tmp_path: Path) -> None:
    error = failure(executor, "evaluator_nan", ground_truth, tmp_path / "work")
    assert error.problem == "invalid_metrics"
    assert "NaN is not a finite number" in error.message


@docker_only
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"metrics": {"auc": "high"}}', "metric 'auc'"),
        (b'{"metrics": {"auc": {"value": Infinity}}}', "Infinity is not a finite number"),
        (b'{"metrics": {"bad name!": 0.5}}', "metric name 'bad name!'"),
        (b'{"metrics": {}}', '"metrics" is empty'),
        (b"[0.5]", "expected a JSON object"),
    ],
    ids=["string", "infinity", "bad-name", "empty", "array"],
)
def test_bad_metric_values_written_by_a_container(
    executor: DockerExecutor, ground_truth: Path, tmp_path: Path, content: bytes, expected: str
) -> None:
    error = failure(
        executor, "evaluator_echo", ground_truth, tmp_path / "work", predictions=content
    )
    assert error.problem == "invalid_metrics"
    assert expected in error.message


@docker_only
def test_metrics_file_over_the_cap(
    executor: DockerExecutor, ground_truth: Path, tmp_path: Path
) -> None:
    big = b'{"metrics": {"auc": 0.5}, "pad": "' + b"x" * METRICS_MAX_BYTES + b'"}'
    limits = RunLimits(time_limit_s=10, memory_mb=64, cpus=1, pids=64, output_max_bytes=4 * 2**20)
    error = failure(
        executor, "evaluator_echo", ground_truth, tmp_path / "work", predictions=big, limits=limits
    )
    assert "larger than 1024 KiB" in error.message


@docker_only
def test_metrics_symlink_is_not_followed(
    executor: DockerExecutor, ground_truth: Path, tmp_path: Path
) -> None:
    error = failure(executor, "evaluator_symlink", ground_truth, tmp_path / "work")
    assert error.problem == "invalid_metrics"
    assert "not a regular file" in error.message


@docker_only
def test_evaluator_writing_predictions_json_too_is_fine(
    executor: DockerExecutor, ground_truth: Path, tmp_path: Path
) -> None:
    # The runner then reports success rather than NO_OUTPUT; metrics.json is what counts.
    content = b'{"n_cases": 3, "metrics": {"auc": 0.9}}'
    result = evaluate_with(
        executor, "evaluator_echo", ground_truth, tmp_path / "work", predictions=content
    )
    assert result["metrics"]["auc"]["value"] == 0.9


# -- no Docker needed -----------------------------------------------------------------------


def test_staging_holds_exactly_the_two_files(ground_truth: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "work" / "input"
    inputs.mkdir(parents=True)
    (inputs / "cases.json").write_text("[]")  # stale content is replaced
    stage_evaluation_inputs(inputs, b'{"predictions": []}', ground_truth)
    assert sorted(os.listdir(inputs)) == [GROUND_TRUTH_INPUT, PREDICTIONS_INPUT]
    assert (inputs / PREDICTIONS_INPUT).read_bytes() == b'{"predictions": []}'
    assert (inputs / GROUND_TRUTH_INPUT).read_text() == GROUND_TRUTH
    assert stat.S_IMODE(inputs.stat().st_mode) == 0o755
    assert stat.S_IMODE((inputs / PREDICTIONS_INPUT).stat().st_mode) == 0o444
    assert stat.S_IMODE((inputs / GROUND_TRUTH_INPUT).stat().st_mode) == 0o444


def test_parse_accepts_numbers_objects_and_undefined_values() -> None:
    raw = json.dumps(
        {
            "n_cases": 10,
            "metrics": {
                "auc": 1,
                "f1": {"value": 0.25, "ci_low": 0.1, "ci_high": 0.4},
                "sens": {"value": None, "undefined": "no malignant cases"},
                "spec": {"value": None},
                "kappa": {"value": -0.5, "ci_low": None, "ci_high": None},
            },
            "notes": "extra top-level keys are ignored",
        }
    ).encode()
    result = parse_metrics(raw, IMAGE)
    assert result["n_cases"] == 10
    assert result["evaluator_image"] == IMAGE
    assert "notes" not in result
    metrics = result["metrics"]
    assert metrics["auc"]["value"] == 1.0 and isinstance(metrics["auc"]["value"], float)
    assert metrics["f1"]["ci_low"] == 0.1
    assert metrics["sens"] == {
        "value": None,
        "ci_low": None,
        "ci_high": None,
        "n_resamples": None,
        "undefined": "no malignant cases",
    }
    assert metrics["spec"]["undefined"].startswith("undefined:")
    assert metrics["kappa"]["value"] == -0.5
    assert parse_metrics(b'{"metrics": {"a": 0}}', IMAGE)["n_cases"] is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (b'"metrics"', "expected a JSON object, got a string"),
        (b"{}", '"metrics" must be an object'),
        (b'{"metrics": [0.5]}', '"metrics" must be an object'),
        (b'{"metrics": {}}', '"metrics" is empty'),
        (b'{"metrics": {"auc": NaN}}', "NaN is not a finite number"),
        (b'{"metrics": {"auc": -Infinity}}', "-Infinity is not a finite number"),
        (b'{"metrics": {"auc": 1e400}}', "non-finite or too large"),
        (b'{"metrics": {"auc": ' + b"9" * 400 + b"}}", "non-finite or too large"),
        (b'{"metrics": {"auc": "0.5"}}', "got a string"),
        (b'{"metrics": {"auc": true}}', "got a boolean"),
        (b'{"metrics": {"auc": null}}', "got null"),
        (b'{"metrics": {"auc": [0.5]}}', "got an array"),
        (b'{"metrics": {"auc": {"ci_low": 0.1, "ci_high": 0.2}}}', '"value" is missing'),
        (b'{"metrics": {"auc": {"value": "x"}}}', '"value" must be a finite number'),
        (b'{"metrics": {"auc": {"value": 0.5, "ci_low": 0.4}}}', "both"),
        (b'{"metrics": {"auc": {"value": 0.5, "ci_low": 0.6, "ci_high": 0.4}}}', "greater"),
        (b'{"metrics": {"auc": {"value": 0.5, "ci_lo": 0.4}}}', "unknown key(s) 'ci_lo'"),
        (b'{"metrics": {"auc": {"value": null, "ci_low": 0, "ci_high": 1}}}', "interval"),
        (b'{"metrics": {"auc": {"value": 0.5, "undefined": "why"}}}', "only allowed"),
        (b'{"metrics": {"auc": {"value": null, "undefined": 3}}}', '"undefined" must be'),
        (b'{"metrics": {"": 0.5}}', "metric name ''"),
        (b'{"metrics": {"a-b": 0.5}}', "metric name 'a-b'"),
        (b'{"metrics": {"' + b"a" * 65 + b'": 0.5}}', "1-64 letters"),
        (b'{"metrics": {"auc\\n": 0.5}}', "metric name"),
        (b'{"n_cases": -1, "metrics": {"auc": 0.5}}', '"n_cases"'),
        (b'{"n_cases": 2.5, "metrics": {"auc": 0.5}}', '"n_cases"'),
        (b'{"n_cases": true, "metrics": {"auc": 0.5}}', '"n_cases"'),
        (json.dumps({"metrics": {f"m{i}": 0 for i in range(300)}}).encode(), "at most 256"),
    ],
)
def test_parse_rejects(raw: bytes, expected: str) -> None:
    with pytest.raises(EvaluationContainerError) as caught:
        parse_metrics(raw, IMAGE, logs="some log")
    error = caught.value
    assert error.problem == "invalid_metrics"
    assert error.message.startswith("/output/metrics.json is not valid: ")
    assert expected in error.message
    assert error.logs == "some log"
    assert error.public_message == PUBLIC_MESSAGE
    assert len(error.message) < 400


def test_read_metrics_file_refuses_links_folders_fifos_and_big_files(tmp_path: Path) -> None:
    secret = tmp_path / "host_secret.json"
    secret.write_text('{"metrics": {"auc": 1}}')
    (tmp_path / "link.json").symlink_to(secret)
    (tmp_path / "folder.json").mkdir()
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "big.json").write_bytes(b" " * (METRICS_MAX_BYTES + 1))
    (tmp_path / "max.json").write_bytes(b" " * METRICS_MAX_BYTES)
    for name in ("link.json", "folder.json", "fifo.json"):
        with pytest.raises(EvaluationContainerError, match="not a regular file"):
            read_metrics_file(tmp_path / name)
    with pytest.raises(EvaluationContainerError, match="larger than 1024 KiB"):
        read_metrics_file(tmp_path / "big.json")
    with pytest.raises(EvaluationContainerError) as caught:
        read_metrics_file(tmp_path / "absent.json")
    assert caught.value.problem == "no_metrics"
    assert len(read_metrics_file(tmp_path / "max.json")) == METRICS_MAX_BYTES


@pytest.mark.parametrize(
    ("reason", "exit_code", "expected"),
    [
        (FailureReason.TIMEOUT, None, "time limit of 10 s"),
        (FailureReason.OUT_OF_MEMORY, 137, "memory limit of 64 MB"),
        (FailureReason.OUTPUT_TOO_LARGE, None, "more than 1 MB"),
        (FailureReason.NETWORK_BLOCKED, 1, "network"),
        (FailureReason.NONZERO_EXIT, 3, "exited with code 3"),
        (FailureReason.IMAGE_INVALID, None, "cannot be run"),
        (FailureReason.PLATFORM_ERROR, None, "platform could not run"),
    ],
)
def test_run_failures_are_named(reason: FailureReason, exit_code, expected: str) -> None:
    result = RunResult.failed(reason, "runner words", exit_code=exit_code, logs="log text")
    with pytest.raises(EvaluationContainerError) as caught:
        check_run(result, LIMITS)
    assert expected in caught.value.message
    assert caught.value.problem == str(reason)
    assert caught.value.run_reason is reason
    assert caught.value.logs == "log text"


@pytest.mark.parametrize("reason", [None, FailureReason.NO_OUTPUT, FailureReason.INVALID_OUTPUT])
def test_clean_exits_go_on_to_metrics(reason: FailureReason | None) -> None:
    # The runner looks for predictions.json; an evaluator that exited 0 is judged by
    # metrics.json instead.
    check_run(RunResult(reason is None, reason, "", 0, "", 1.0, False), LIMITS)


def test_required_metric_present() -> None:
    result = parse_metrics(b'{"metrics": {"custom_score": 0.5, "auc": {"value": null}}}', IMAGE)
    required_metric_present(result, "custom_score")
    required_metric_present(result, "auc")  # present, even if undefined for this submission
    with pytest.raises(EvaluationContainerError) as caught:
        required_metric_present(result, "macro_f1")
    error = caught.value
    assert error.problem == "missing_primary_metric"
    assert "'macro_f1'" in error.message and "auc, custom_score" in error.message
    assert error.public_message == PUBLIC_MESSAGE
