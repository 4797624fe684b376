"""The baseline, end to end: built without a registry, submitted through the API, run in
the hardened sandbox, scored exactly as scikit-learn scores the same predictions."""

from __future__ import annotations

import csv
import importlib.util
import json

import numpy as np
import pytest
from sklearn.metrics import (
    balanced_accuracy_score,
    brier_score_loss,
    cohen_kappa_score,
    f1_score,
    roc_auc_score,
)

from lai_platform.jobs.pipeline import predictions_key
from tests.paths import ROOT

pytestmark = pytest.mark.docker


@pytest.fixture(scope="session")
def baseline_tarball(demo_bundle, tmp_path_factory):
    spec = importlib.util.spec_from_file_location(
        "baseline_build", ROOT / "examples/lai-liver/baseline/build.py"
    )
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    training = demo_bundle / "data" / "training"
    image_id = build.build_baseline(training, tag="lai-liver-baseline:test")
    return build.save_image(image_id, tmp_path_factory.mktemp("baseline") / "baseline.tar")


def test_baseline_is_scored_like_scikit_learn(demo_platform, demo_bundle, baseline_tarball):
    platform = demo_platform
    platform.start_workers()
    ada = platform.participant()
    ada.join()
    response = ada.submit(baseline_tarball)
    assert response.status_code == 202, response.get_json()
    sub = ada.wait_for(response.get_json()["id"], timeout=600)
    assert sub["status"] == "succeeded", sub
    metrics = sub["metrics"]["metrics"]

    with platform.services.storage.open(predictions_key(sub["id"])) as stream:
        predictions = {p["case_id"]: p for p in json.load(stream)["predictions"]}
    with (demo_bundle / "data/validation/ground_truth.csv").open() as stream:
        truth = list(csv.DictReader(stream))
    y = np.array([int(row["malignant"]) for row in truth])
    p = np.array([predictions[row["case_id"]]["malignant_probability"] for row in truth])
    labels = [row["diagnosis"] for row in truth]
    classes = sorted({d for pred in predictions.values() for d in pred["diagnosis_probabilities"]})
    predicted = [
        max(classes, key=lambda c: predictions[row["case_id"]]["diagnosis_probabilities"][c])
        for row in truth
    ]

    assert metrics["auc"]["value"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert metrics["brier"]["value"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert metrics["balanced_accuracy"]["value"] == pytest.approx(
        balanced_accuracy_score(y, p >= 0.5), abs=1e-12
    )
    assert metrics["macro_f1"]["value"] == pytest.approx(
        f1_score(labels, predicted, average="macro", labels=sorted(set(labels))), abs=1e-12
    )
    assert metrics["kappa"]["value"] == pytest.approx(
        cohen_kappa_score(labels, predicted), abs=1e-12
    )
    # Learnable, not trivial: well above chance, below perfect.
    assert 0.65 < metrics["auc"]["value"] < 1.0
    assert metrics["auc"]["ci_low"] < metrics["auc"]["value"] < metrics["auc"]["ci_high"]
    assert ada.leaderboard()["entries"][0]["submission_id"] == sub["id"]
