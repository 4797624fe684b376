"""`lai try`: run an algorithm image here as the platform would, before spending a quota.

The one `lai` module that imports the platform itself (its runner, image checks and the
evaluator), so that the container gets exactly the hardened settings of a real run and the
predictions exactly the platform's checks: the same code, not a copy. `lai_client.commands`
imports it only when `lai try` runs; every other command keeps needing no Flask.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
import uuid
from contextlib import ExitStack
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import docker
import numpy as np
from docker.errors import DockerException, ImageNotFound

from evaluator import (
    GroundTruth,
    GroundTruthError,
    PredictionError,
    Task,
    evaluate,
    parse_predictions,
    read_ground_truth,
    task_from_mapping,
)
from evaluator.task import TaskError
from lai_client.api import ClientError
from lai_platform.images.tarball import ImageRejected, inspect_image_tarball
from lai_platform.jobs.pipeline import IMAGE_LOAD_FAILED, invalid_output_message
from lai_platform.runner import (
    PREDICTIONS_FILE,
    DockerExecutor,
    FailureReason,
    ImageLoadError,
    RunLimits,
    RunSpec,
)

TRY_LABEL = "lai.try"  # on the containers `lai try` starts (beside the platform's own label)
GROUND_TRUTH = "ground_truth.csv"
CASES = "cases.json"


@dataclass(frozen=True)
class Data:
    inputs: Path  # what is mounted at /input: cases.json and the case folders
    ground_truth: Path | None  # the labels beside it (the training archive has them)
    n_cases: int


@dataclass(frozen=True)
class Trial:
    """What `lai try` was asked to run: the image, the phase's settings, the data."""

    image: str
    limits: RunLimits
    task: Task | None  # the challenge's task (from the API); None without a phase
    source: str  # where the limits come from, said in the output
    n_bootstrap: int = 1000


def phase_limits(phase: dict | None, overrides: dict) -> RunLimits:
    """The phase's stored limits (the platform's own reading of them), then the overrides."""
    limits = RunLimits.from_mapping(phase["limits"] if phase else None)
    known = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(known) - set(asdict(limits)))
    if unknown:
        raise ClientError(f"--limits: unknown key(s) {', '.join(unknown)} (known: "
                          f"{', '.join(asdict(limits))}).", 2)
    return replace(limits, **known)


def challenge_task(challenge: dict | None) -> Task | None:
    """The task the platform checks predictions against, as the challenge's JSON gives it
    (platforms before `lai try` do not send it: None)."""
    declared = (challenge or {}).get("task")
    if not declared:
        return None
    try:
        return task_from_mapping({k: v for k, v in declared.items() if k != "probability_key"})
    except TaskError as exc:
        raise ClientError(f"The platform sent a task this client cannot use: {exc}") from None


def run_trial(trial: Trial, data_arg: str) -> dict[str, Any]:
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lai-try-")))
        data = find_data(Path(data_arg), work)
        client = _client()
        executor = DockerExecutor(client)
        stack.callback(executor.close)
        report: dict[str, Any] = {
            "image": trial.image, "limits": asdict(trial.limits), "limits_from": trial.source,
            "data": str(data.inputs), "n_cases": data.n_cases,
            "ground_truth": str(data.ground_truth) if data.ground_truth else None,
            "validated": None, "metrics": None, "logs": "",
        }
        image_id, failure = _image(client, executor, trial.image)
        report["image_id"] = image_id
        if failure:
            return report | _failed(*failure)
        result = executor.run(RunSpec(
            image_id=image_id, input_dir=data.inputs, output_dir=work / "run" / "output",
            limits=trial.limits, name=f"lai-try-{uuid.uuid4().hex[:12]}",
            labels={TRY_LABEL: "1"}))
        report |= {"ok": result.ok, "reason": result.reason and str(result.reason),
                   "message": result.message, "exit_code": result.exit_code,
                   "duration_s": round(result.duration_s, 2), "logs": result.logs,
                   "logs_truncated": result.logs_truncated}
        if result.ok:
            raw = (work / "run" / "output" / PREDICTIONS_FILE).read_bytes()
            report |= check_predictions(raw, data, trial)
        return report


def _client() -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=300)
        client.ping()
        return client
    except DockerException as exc:
        raise ClientError(f"`lai try` needs a running Docker Engine here: {exc}") from None


def _failed(reason: FailureReason, message: str) -> dict[str, Any]:
    return {"ok": False, "reason": str(reason), "message": message, "exit_code": None,
            "duration_s": 0.0}


def _image(client: docker.DockerClient, executor: DockerExecutor,
           image: str) -> tuple[str | None, tuple | None]:
    """The image's full ID, loading a tarball first as a worker would; or the failure."""
    path = Path(image)
    if not path.is_file():
        try:
            return client.images.get(image).id, None
        except ImageNotFound:
            raise ClientError(f"No local Docker image or file called {image!r}.") from None
    try:
        info = inspect_image_tarball(path, path.stat().st_size, expansion=False)
    except ImageRejected as exc:  # the platform refuses it at upload with this message
        return None, (FailureReason.IMAGE_INVALID, exc.message)
    try:
        executor.load_image(path, info.image_id)
    except ImageLoadError:
        return info.image_id, (FailureReason.IMAGE_INVALID, IMAGE_LOAD_FAILED)
    return info.image_id, None


def find_data(path: Path, work: Path) -> Data:
    """The inputs folder (holding cases.json), given as itself, as the folder above it (the
    extracted training archive: inputs/ and ground_truth.csv) or as the archive itself."""
    if path.is_file() and tarfile.is_tarfile(path):
        with tarfile.open(path) as tar:
            tar.extractall(work / "data", filter="data")
        path = work / "data"
    for inputs in (path / "inputs", path):
        if (inputs / CASES).is_file():
            truths = [t for t in (inputs / GROUND_TRUTH, inputs.parent / GROUND_TRUTH)
                      if t.is_file()]
            return Data(inputs.resolve(), truths[0].resolve() if truths else None,
                        _count_cases(inputs / CASES))
    raise ClientError(f"{path} holds no {CASES}: give --data the folder of the downloaded "
                      "training archive (inputs/ and ground_truth.csv) or its inputs/ folder.", 2)


def _count_cases(cases: Path) -> int:
    if not cases.stat().st_mode & 0o004 or not cases.parent.stat().st_mode & 0o005:
        raise ClientError(f"{cases.parent} must be readable by others: the container runs as "
                          f"an unprivileged user (chmod -R o+rX {cases.parent}).", 2)
    try:
        listed = json.loads(cases.read_text())
    except (OSError, ValueError) as exc:
        raise ClientError(f"{cases} cannot be read: {exc}") from None
    return len(listed.get("case_ids", []) if isinstance(listed, dict) else listed)


def check_predictions(raw: bytes, data: Data, trial: Trial) -> dict[str, Any]:
    """The platform's checks on predictions.json, then scores where the labels are here."""
    truth = _truth(data, trial.task)
    if truth is None:
        return {"validated": None, "note": "Predictions not checked: no ground_truth.csv "
                "beside the inputs and no challenge task (give --phase SLUG/PHASE)."}
    try:
        predictions = parse_predictions(raw, truth)
    except PredictionError as exc:
        return {"ok": False, "validated": False, "reason": str(FailureReason.INVALID_OUTPUT),
                "message": invalid_output_message(exc)}
    if data.ground_truth is None:
        return {"validated": True, "note": "No ground_truth.csv here: checked, not scored."}
    scored = evaluate(predictions, truth, n_bootstrap=trial.n_bootstrap)
    return {"validated": True, "metrics": scored["metrics"],
            "confidence": scored["confidence"], "per_centre": scored["per_centre"]}


def _truth(data: Data, task: Task | None) -> GroundTruth | None:
    if data.ground_truth is not None:
        try:
            return read_ground_truth(data.ground_truth, task=task)
        except GroundTruthError as exc:
            raise ClientError(f"{data.ground_truth}: {exc}") from None
    if task is None:
        return None
    case_ids = _listed(data.inputs / CASES)  # a stand-in truth: checks ids and keys only
    return GroundTruth(case_ids=case_ids, diagnosis=(task.labels[0],) * len(case_ids),
                       malignant=np.zeros(len(case_ids), dtype=int), centre=("",) * len(case_ids),
                       classes=task.labels, positive_name=task.positive_name)


def _listed(cases: Path) -> tuple[str, ...]:
    listed = json.loads(cases.read_text())
    return tuple(str(c) for c in (listed.get("case_ids", []) if isinstance(listed, dict)
                                  else listed))


def describe(report: dict[str, Any]) -> str:
    """The report for a person: the run, the platform's reason and message, the scores."""
    limits = report["limits"]
    rows = [("image", f"{report['image']} ({report.get('image_id') or '?'})"),
            ("limits", f"{limits['time_limit_s']:g} s, {limits['memory_mb']} MB, "
                       f"{limits['cpus']:g} CPUs, gpu {'yes' if limits['gpu'] else 'no'} "
                       f"({report['limits_from']})"),
            ("data", f"{report['data']} ({report['n_cases']} cases)")]
    if report["ok"]:
        rows.append(("result", f"succeeded in {report['duration_s']:g} s"))
    else:
        rows += [("result", "failed"), ("reason", report["reason"]),
                 ("message", report["message"])]
    if report.get("note"):
        rows.append(("note", report["note"]))
    lines = [f"{label + ':':<10}{value}" for label, value in rows]
    if report.get("metrics"):
        lines.append(f"metrics ({report['confidence']:.0%} CI):")
        lines += [f"  {name:<20}{_metric(m)}" for name, m in report["metrics"].items()]
    if not report["ok"] and report["logs"]:
        tail = report["logs"].rstrip("\n").splitlines()[-20:]
        lines += ["logs (last lines):", *[f"  {line}" for line in tail]]
    return "\n".join(lines)


def _metric(m: dict[str, Any]) -> str:
    if m["value"] is None:
        return f"undefined ({m.get('undefined') or 'no value'})"
    ci = "" if m["ci_low"] is None else f"  [{m['ci_low']:.4f}, {m['ci_high']:.4f}]"
    return f"{m['value']:.4f}{ci}"
