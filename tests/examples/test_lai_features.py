"""Baseline features on generated cases, and train + predict on the host (no Docker)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from evaluator import read_ground_truth
from evaluator.validation import parse_predictions
from tests.examples.conftest import load


def gt_rows(split_dir: Path) -> list[dict]:
    with open(split_dir / "ground_truth.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_features_of_a_generated_case(small_data, feats):
    row = gt_rows(small_data / "training")[0]
    values = feats.case_features(small_data / "training" / "inputs" / row["case_id"])
    assert list(values) == feats.feature_names()
    assert all(np.isfinite(v) for v in values.values())
    # The equivalent-sphere diameter roughly matches the generator's nominal diameter.
    assert values["diameter_mm"] == pytest.approx(float(row["lesion_diameter_mm"]), rel=0.4)


def test_features_follow_the_textbook_patterns(small_data, feats):
    by_dx: dict[str, list[dict]] = {}
    for split in ("training", "validation", "test"):
        for row in gt_rows(small_data / split):
            case = small_data / split / "inputs" / row["case_id"]
            by_dx.setdefault(row["diagnosis"], []).append(feats.case_features(case))

    def mean(dx: str, name: str) -> float:
        return float(np.mean([f[name] for f in by_dx[dx]]))

    # Haemangioma: brightest on T2. HCC: arterial hyper-enhancement, then wash-out.
    assert mean("haemangioma", "T2W_mean") > max(
        mean(d, "T2W_mean") for d in by_dx if d != "haemangioma"
    )
    assert mean("HCC", "T1_arterial_mean") > 0 > mean("HCC", "T1_delayed_mean")
    # Metastasis: rim brighter than core in the arterial phase; bright on DWI.
    assert mean("metastasis", "T1_arterial_rim_core") > 0.1
    assert mean("metastasis", "DWI_mean") > mean("FNH", "DWI_mean")


def test_morphology_helpers(feats):
    mask = np.zeros((7, 7, 7), bool)
    mask[3, 3, 3] = True
    grown = feats._dilate(mask, (1, 2, 0))
    assert grown.sum() == 3 * 5 * 1 and grown[2:5, 1:6, 3].all()
    lesion = np.zeros((21, 21, 21), bool)
    lesion[8:13, 8:13, 8:13] = True
    regions = feats.regions(lesion, np.ones(3))
    assert regions["core"].any() and regions["rim"].any() and regions["ring"].any()
    assert not (regions["core"] & regions["rim"]).any()


def test_unusable_cases_raise_feature_error(small_data, feats, tmp_path):
    source = small_data / "validation" / "inputs" / "LAI-VA-0001"
    case = tmp_path / "case"
    shutil.copytree(source, case)
    (case / "DWI.nii.gz").unlink()
    with pytest.raises(feats.FeatureError, match="DWI"):
        feats.case_features(case)
    with pytest.raises(feats.FeatureError, match="lesion_mask"):
        feats.case_features(tmp_path)


def test_train_and_predict_on_the_host(small_data, tmp_path, capsys):
    train = load("baseline/train.py", "lai_baseline_train")
    predict = load("baseline/predict.py", "lai_baseline_predict")
    model = tmp_path / "model.pkl"
    assert train.main(["--training", str(small_data / "training"), "--out", str(model)]) == 0
    assert "chose" in capsys.readouterr().out

    inputs = tmp_path / "inputs"
    shutil.copytree(small_data / "validation" / "inputs", inputs)
    shutil.rmtree(inputs / "LAI-VA-0002")
    (inputs / "LAI-VA-0002").mkdir()  # an unreadable case falls back to the prior
    out = tmp_path / "out"
    out.mkdir()
    assert predict.main(["--input", str(inputs), "--output", str(out), "--model", str(model)]) == 0
    assert "LAI-VA-0002" in capsys.readouterr().out

    document = json.loads((out / "predictions.json").read_text())
    entries = document["predictions"]
    assert [e["case_id"] for e in entries] == json.loads((inputs / "cases.json").read_text())
    for entry in entries:
        probs = entry["diagnosis_probabilities"]
        assert list(probs) == ["HCC", "iCCA", "metastasis", "adenoma", "FNH", "haemangioma"]
        assert sum(probs.values()) == pytest.approx(1.0)
        assert 0.0 <= entry["malignant_probability"] <= 1.0
    # The platform's own validator accepts the file.
    truth = read_ground_truth(small_data / "validation" / "ground_truth.csv")
    parsed = parse_predictions(json.dumps(document), truth)
    assert len(parsed.case_ids) == len(entries)
