"""A second challenge with another task runs end to end: examples/three-class (labels cyst,
abscess, tumour; positive group abscess + tumour named `needs_treatment`; macro-F1 first;
`access: review`). Its submissions go through the real pipeline with a fake container, its
leaderboard shows its own metrics, and `python -m evaluator --task` scores its predictions
equal to scikit-learn."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from evaluator import read_task
from lai_platform.accounts.users import find_user
from lai_platform.challenges.bundles import bundle_data_dir, read_bundle
from lai_platform.challenges.lookups import find_challenge
from lai_platform.extensions import db
from lai_platform.jobs.pipeline import predictions_key
from lai_platform.models import Participation
from lai_platform.runner.base import PREDICTIONS_FILE, RunResult, RunSpec
from tests.fakes import FakeExecutor, predicts
from tests.sklearn_reference import sklearn_reference

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "examples" / "three-class"
TASK_FILE = BUNDLE / "task.yaml"
SLUG, PHASE = "three-class", "triage"
LABELS = ("cyst", "abscess", "tumour")
# The metrics defined on this small split (the others may be undefined on it).
COMPARED = ("auc", "balanced_accuracy", "sensitivity", "specificity", "f1", "brier", "mcc",
            "macro_f1", "kappa", "mc_balanced_accuracy", "macro_auc")


@pytest.fixture
def executor_factory(fake: FakeExecutor):
    return lambda: fake


@pytest.fixture
def triage(platform):
    assert platform.load_challenge(BUNDLE) == SLUG
    return platform


def model(seed: int):
    """A fake container that reads each case's features and predicts from them (with noise
    of its own, so that two participants score differently)."""

    def script(spec: RunSpec) -> RunResult:
        rng = np.random.default_rng(seed)
        entries = []
        for case in json.loads((spec.input_dir / "cases.json").read_text()):
            f = json.loads((spec.input_dir / case / "features.json").read_text())
            logits = np.array([-1.5 * f["wall_thickness_mm"] - 3 * f["enhancement"],
                               f["wall_thickness_mm"] + 2 * f["diffusion"] - 1.5,
                               4 * f["enhancement"] - 2.5]) + rng.normal(0, 0.8, 3)
            p = np.exp(logits - logits.max())
            p /= p.sum()
            entries.append({"case_id": case,
                            "needs_treatment_probability": float(p[1] + p[2]),
                            "diagnosis_probabilities": dict(zip(LABELS, map(float, p),
                                                                strict=True))})
        (spec.output_dir / PREDICTIONS_FILE).write_text(json.dumps({"predictions": entries}))
        return RunResult(ok=True, reason=None, message="done", exit_code=0, logs="ran\n",
                         duration_s=0.01, logs_truncated=False)

    return script


def approved(platform, email: str):
    """A participant an organizer has approved (access: review)."""
    person = platform.participant(email)
    assert person.join(SLUG).status_code in (200, 201)
    with platform.app.app_context():
        row = db.session.scalar(db.select(Participation).where(
            Participation.challenge_id == find_challenge(SLUG).id,
            Participation.user_id == find_user(email).id))
        assert row.status == "pending"  # review: nobody is in until approved
        row.status = "approved"
        db.session.commit()
    return person


def submit(person, image: Path) -> dict:
    response = person.submit(image, phase=PHASE, challenge=SLUG)
    assert response.status_code == 202, response.get_json()
    person.platform.run_queued()
    return person.submission(response.get_json()["id"])


def test_the_bundle_declares_its_own_task(triage):
    with triage.app.app_context():
        challenge = find_challenge(SLUG)
        assert challenge.access == "review"
        assert challenge.task == read_task(TASK_FILE).to_mapping()
        assert challenge.task["labels"] == list(LABELS)
        assert challenge.phases[0].primary_metric == "macro_f1"  # the task's primary


def test_submissions_are_scored_and_ranked_on_the_tasks_metrics(triage, fake, image):
    ada, bob = approved(triage, "ada@example.org"), approved(triage, "bob@example.org")
    fake.script = model(1)
    first = submit(ada, image)
    fake.script = model(2)
    second = submit(bob, image)
    assert first["status"] == second["status"] == "succeeded"
    for sub in (first, second):
        assert sub["metrics"]["classes"] == list(LABELS)
        assert 0.5 < sub["metrics"]["metrics"]["macro_f1"]["value"] <= 1.0
    board = ada.leaderboard(PHASE, SLUG)
    task = read_task(TASK_FILE)
    assert board["columns"] == list(task.metrics)  # primary (macro_f1) first, as declared
    assert board["task"]["positive_name"] == "needs_treatment"
    ranks = {e["submission_id"]: e["rank"] for e in board["entries"]}
    assert sorted(ranks.values()) == [1, 2]
    best = max((first, second), key=lambda s: s["metrics"]["metrics"]["macro_f1"]["value"])
    assert ranks[best["id"]] == 1
    page = ada.get(f"/challenges/{SLUG}/phases/{PHASE}/leaderboard").get_data(as_text=True)
    assert "Macro-F1" in page and "Cohen&#39;s kappa" in page
    assert "LLD-MMRI" not in page  # the LAI demo's composite is not this task's


def test_lai_shaped_predictions_are_refused_with_the_tasks_names(triage, fake, image):
    ada = approved(triage, "ada@example.org")
    fake.script = predicts()  # malignant_probability and the six LAI labels
    sub = submit(ada, image)
    assert sub["status"] == "failed" and sub["failure_reason"] == "invalid_output"
    assert "missing needs_treatment_probability" in sub["failure_message"]
    assert "expected: cyst, abscess, tumour" in sub["failure_message"]
    fake.script = predicts(labels=LABELS, key="needs_treatment_probability")
    assert submit(ada, image)["status"] == "succeeded"


def sklearn_metrics(truth: list[dict], document: dict) -> dict[str, float]:
    """The task's metrics as scikit-learn computes them."""
    by_case = {e["case_id"]: e for e in document["predictions"]}
    diagnosis = np.array([LABELS.index(r["diagnosis"]) for r in truth])
    y = np.isin(diagnosis, [1, 2]).astype(int)  # abscess, tumour: needs treatment
    p = np.array([by_case[r["case_id"]]["needs_treatment_probability"] for r in truth])
    probs = np.array([[by_case[r["case_id"]]["diagnosis_probabilities"][label]
                       for label in LABELS] for r in truth])
    every = sklearn_reference(y, p, diagnosis, probs)
    return {name: every[name] for name in COMPARED}


def test_the_cli_scores_the_pipelines_predictions_from_the_task_file(triage, fake, image,
                                                                      tmp_path):
    ada = approved(triage, "ada@example.org")
    fake.script = model(3)
    sub = submit(ada, image)
    assert sub["status"] == "succeeded"
    with triage.services.storage.open(predictions_key(sub["id"])) as stream:
        (tmp_path / "predictions.json").write_bytes(stream.read())
    with triage.app.app_context():
        data = bundle_data_dir(read_bundle(BUNDLE), triage.services.settings.data_dir)
    truth_file = data / "test" / "ground_truth.csv"
    assert truth_file.read_text().splitlines()[0] == "case_id,diagnosis,centre"  # no binary
    done = subprocess.run(
        [sys.executable, "-m", "evaluator", "--task", str(TASK_FILE), "--predictions",
         str(tmp_path / "predictions.json"), "--ground-truth", str(truth_file),
         "--bootstrap", "20"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["task"] == yaml.safe_load(TASK_FILE.read_text())
    assert result["classes"] == list(LABELS)
    with truth_file.open() as handle:
        truth = list(csv.DictReader(handle))
    document = json.loads((tmp_path / "predictions.json").read_text())
    expected = sklearn_metrics(truth, document)
    for name, value in expected.items():
        got = result["metrics"][name]["value"]
        assert math.isclose(got, value, rel_tol=0, abs_tol=1e-12), (name, got, value)
        # ...and the platform stored the same value for the submission.
        stored = sub["metrics"]["metrics"][name]["value"]
        assert math.isclose(stored, value, rel_tol=0, abs_tol=1e-12), (name, stored, value)
