"""The synthetic LAI data generator: determinism, layout, splits, class balance."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.examples.conftest import SMALL

SEQUENCES = ("T2W", "T1_pre", "T1_arterial", "T1_portal", "T1_delayed", "DWI")
DIAGNOSES = {"HCC", "iCCA", "metastasis", "adenoma", "FNH", "haemangioma"}
MALIGNANT = {"HCC", "iCCA", "metastasis"}
SEEN = {"C01", "C02", "C03", "C04"}
UNSEEN = {"C05", "C06"}
TINY = {"n_train": 5, "n_validation": 3, "n_test": 4, "shape": (20, 20, 10)}


def read_gt(split_dir: Path) -> list[dict]:
    with open(split_dir / "ground_truth.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def all_files(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def test_same_seed_same_bytes(gen, tmp_path):
    gen.generate(tmp_path / "a", seed=3, **TINY)
    gen.generate(tmp_path / "b", seed=3, **TINY)
    gen.generate(tmp_path / "c", seed=4, **TINY)
    a, b, c = (all_files(tmp_path / name) for name in "abc")
    assert a == b
    assert a.keys() == c.keys() and a != c


def test_split_sizes_are_independent(gen, tmp_path):
    # Changing the test size must not change the training data (separate random streams).
    gen.generate(tmp_path / "a", seed=0, **TINY)
    gen.generate(tmp_path / "b", seed=0, **{**TINY, "n_test": 7})
    a, b = all_files(tmp_path / "a" / "training"), all_files(tmp_path / "b" / "training")
    assert a == b
    assert len(read_gt(tmp_path / "b" / "test")) == 7


def test_layout_csv_and_images(small_data):
    counts = {"training": SMALL["n_train"], "validation": SMALL["n_validation"],
              "test": SMALL["n_test"]}
    prefix = {"training": "LAI-TR", "validation": "LAI-VA", "test": "LAI-TE"}
    for split, n in counts.items():
        split_dir = small_data / split
        with open(split_dir / "ground_truth.csv", newline="") as handle:
            header = next(csv.reader(handle))
        assert header == ["case_id", "diagnosis", "malignant", "centre", "lesion_diameter_mm"]
        rows = read_gt(split_dir)
        ids = json.loads((split_dir / "inputs" / "cases.json").read_text())
        assert ids == [r["case_id"] for r in rows] and len(ids) == n
        assert all(re.fullmatch(rf"{prefix[split]}-\d{{4}}", i) for i in ids)
        assert sorted(p.name for p in (split_dir / "inputs").iterdir()) == sorted(
            [*ids, "cases.json"]
        )
        for row in rows:
            assert row["diagnosis"] in DIAGNOSES
            assert row["malignant"] == str(int(row["diagnosis"] in MALIGNANT))
            assert 10.0 <= float(row["lesion_diameter_mm"]) <= 90.0
        # Labels stay out of the inputs, and out of the image headers.
        case = split_dir / "inputs" / ids[0]
        names = sorted(p.name for p in case.iterdir())
        assert names == sorted([f"{s}.nii.gz" for s in SEQUENCES] + ["lesion_mask.nii.gz"])
        mask = nib.load(case / "lesion_mask.nii.gz")
        assert mask.get_data_dtype() == np.uint8 and np.asarray(mask.dataobj).any()
        for s in SEQUENCES:
            img = nib.load(case / f"{s}.nii.gz")
            assert img.shape == (32, 32, 16) == mask.shape
            assert img.get_data_dtype() == np.int16
            assert np.allclose(img.affine, mask.affine)
            assert rows[0]["diagnosis"].encode() not in bytes(img.header.binaryblock)
    assert not list(small_data.glob("*/inputs/*/*.csv"))


def test_test_split_has_unseen_centres(small_data):
    train = {r["centre"] for r in read_gt(small_data / "training")}
    validation = {r["centre"] for r in read_gt(small_data / "validation")}
    test = [r["centre"] for r in read_gt(small_data / "test")]
    assert train == SEEN and validation <= SEEN
    unseen = sum(c in UNSEEN for c in test)
    assert unseen == len(test) // 2  # about half of the test set
    assert set(test) & SEEN


def test_class_balance(small_data, gen):
    rows = read_gt(small_data / "training")
    diagnoses = [r["diagnosis"] for r in rows]
    assert set(diagnoses) == DIAGNOSES
    for split in ("validation", "test"):
        assert {r["diagnosis"] for r in read_gt(small_data / split)} == DIAGNOSES
    malignant = np.mean([int(r["malignant"]) for r in rows])
    assert 0.45 <= malignant <= 0.7
    # HCC is the most common diagnosis, as in clinical series.
    assert max(DIAGNOSES, key=diagnoses.count) == "HCC"
    # Case ids are assigned after shuffling: label runs are short.
    changes = sum(a != b for a, b in zip(diagnoses, diagnoses[1:], strict=False))
    assert changes > len(diagnoses) // 2


def test_manifest_marks_a_matching_output(gen, tmp_path):
    out = tmp_path / "data"
    assert gen.ensure_generated(out, seed=1, **TINY) is True
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 1 and manifest["shape"] == [20, 20, 10]
    assert manifest["n_cases"] == {"training": 5, "validation": 3, "test": 4}
    assert gen.manifest_matches(out, seed=1, **TINY)
    assert not gen.manifest_matches(out, seed=2, **TINY)
    before = (out / "training" / "ground_truth.csv").stat().st_mtime_ns
    assert gen.ensure_generated(out, seed=1, **TINY) is False
    assert (out / "training" / "ground_truth.csv").stat().st_mtime_ns == before


def test_regenerating_replaces_old_cases(gen, tmp_path):
    gen.generate(tmp_path, seed=0, **{**TINY, "n_train": 8})
    gen.generate(tmp_path, seed=0, **TINY)
    assert len(list((tmp_path / "training" / "inputs").glob("LAI-*"))) == 5


def test_cli(gen, tmp_path, capsys):
    code = gen.main(["--out", str(tmp_path), "--seed", "2", "--n-train", "2",
                     "--n-validation", "1", "--n-test", "2", "--shape", "16,16,8"])
    assert code == 0
    assert "wrote" in capsys.readouterr().out
    assert gen.manifest_matches(tmp_path, seed=2, n_train=2, n_validation=1, n_test=2,
                                shape=(16, 16, 8))
    with pytest.raises(SystemExit):
        gen.main(["--out", str(tmp_path), "--shape", "16,16"])


def test_centres_differ_in_resolution(gen):
    ph = gen.ph
    spacings = {name: tuple(ph.spacing_for((32, 32, 16), c)) for name, c in ph.CENTRES.items()}
    assert len(set(spacings.values())) == len(spacings)
