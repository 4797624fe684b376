"""The baseline and template images, built and run as the platform runs participants."""

from __future__ import annotations

import csv
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from tests.examples.conftest import BUNDLE, load

pytestmark = pytest.mark.docker

BASE_IMAGE = "lai-base-python:bookworm"
TAG = "lai-liver-baseline:pytest"
LABELS = ("HCC", "iCCA", "metastasis", "adenoma", "FNH", "haemangioma")


@pytest.fixture(scope="module")
def client():
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env()
        client.ping()
    except Exception as error:  # no socket, no permission, daemon down
        pytest.skip(f"Docker Engine not reachable: {error}")
    try:
        client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.skip(f"{BASE_IMAGE} missing: run scripts/build_base_image.sh")
    yield client
    client.close()


@pytest.fixture(scope="module")
def data(gen, tmp_path_factory) -> Path:
    # Default training and validation sizes; a tiny test split (not used here).
    out = tmp_path_factory.mktemp("lai-default")
    gen.generate(out, seed=0, n_test=6)
    return out


def run_hardened(client, image: str, inputs: Path, out: Path, **extra) -> tuple[int, str]:
    """docker run --network none --read-only --user 65534 --cap-drop ALL -v in:ro -v out."""
    out.mkdir(exist_ok=True)
    out.chmod(0o777)
    container = client.containers.run(
        image, detach=True, network_mode="none", read_only=True, user="65534",
        cap_drop=["ALL"], security_opt=["no-new-privileges"], mem_limit="2g",
        volumes={str(inputs): {"bind": "/input", "mode": "ro"},
                 str(out): {"bind": "/output", "mode": "rw"}},
        **extra,
    )
    try:
        status = container.wait(timeout=600)["StatusCode"]
        return status, container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)


def read_predictions(out: Path, truth_csv: Path) -> tuple[list[dict], dict[str, dict]]:
    with open(truth_csv, newline="") as handle:
        truth = list(csv.DictReader(handle))
    entries = json.loads((out / "predictions.json").read_text())["predictions"]
    return truth, {e["case_id"]: e for e in entries}


def test_baseline_image_on_validation(client, data, tmp_path):
    build = load("baseline/build.py", "lai_baseline_build")
    image_id = build.build_baseline(data / "training", tag=TAG)
    # Same code and data: no rebuild.
    assert build.build_baseline(data / "training", tag=TAG, quiet=True) == image_id
    image = client.images.get(image_id)
    assert image.attrs["Config"]["User"] == "65534"
    assert image.attrs["Config"]["Entrypoint"] == ["python3", "/opt/baseline/predict.py"]

    status, logs = run_hardened(client, image_id, data / "validation" / "inputs", tmp_path / "out")
    assert status == 0, logs
    assert "wrote 60 predictions" in logs
    truth_csv = data / "validation" / "ground_truth.csv"
    truth, predictions = read_predictions(tmp_path / "out", truth_csv)
    assert sorted(predictions) == sorted(r["case_id"] for r in truth)
    for entry in predictions.values():
        assert set(entry["diagnosis_probabilities"]) == set(LABELS)
        assert sum(entry["diagnosis_probabilities"].values()) == pytest.approx(1.0)
        assert 0.0 <= entry["malignant_probability"] <= 1.0

    y = np.array([int(r["malignant"]) for r in truth])
    p = np.array([predictions[r["case_id"]]["malignant_probability"] for r in truth])
    auc = roc_auc_score(y, p)
    predicted = [max(predictions[r["case_id"]]["diagnosis_probabilities"].items(),
                     key=lambda kv: kv[1])[0] for r in truth]
    macro_f1 = f1_score([r["diagnosis"] for r in truth], predicted, average="macro")
    print(f"baseline on validation: AUC {auc:.3f}, macro-F1 {macro_f1:.3f}")
    assert 0.65 < auc < 1.0  # learnable, not trivial


def test_baseline_image_holds_no_training_data(client, data):
    build = load("baseline/build.py", "lai_baseline_build")
    image_id = build.build_baseline(data / "training", tag=TAG, quiet=True)
    listing = client.containers.run(
        image_id, entrypoint=["python3", "-c",
                              "import os; print(os.path.exists('/data'), "
                              "sorted(os.listdir('/opt/baseline')))"],
        network_mode="none", remove=True,
    ).decode()
    assert listing.strip() == "False ['features.py', 'model.pkl', 'predict.py']"


def test_saved_tarball_names_the_image(client, data, tmp_path):
    build = load("baseline/build.py", "lai_baseline_build")
    build.build_baseline(data / "training", tag=TAG, quiet=True)
    tarball = build.save_image(TAG, tmp_path / "baseline.tar", client=client)
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert len(manifest) == 1 and manifest[0]["RepoTags"] == [TAG]


def test_template_follows_the_contract(client, data, tmp_path):
    image, _ = client.images.build(path=str(BUNDLE / "template"), tag="lai-liver-template:pytest",
                                   rm=True, pull=False, network_mode="none")
    status, logs = run_hardened(client, image.id, data / "validation" / "inputs", tmp_path / "o")
    assert status == 0, logs
    truth, predictions = read_predictions(tmp_path / "o", data / "validation" / "ground_truth.csv")
    assert sorted(predictions) == sorted(r["case_id"] for r in truth)
    for entry in predictions.values():
        assert sum(entry["diagnosis_probabilities"].values()) == pytest.approx(1.0)
