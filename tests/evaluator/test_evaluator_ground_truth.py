"""Reading the ground-truth CSV, and the clear errors for broken files."""

from __future__ import annotations

import io

import pytest

from evaluator import GroundTruthError, evaluate, parse_predictions, read_ground_truth
from tests.evaluator.conftest import LAI_DIAGNOSES

GOOD = """case_id,diagnosis,malignant,centre,lesion_diameter_mm
LAI-0001,FNH,0,Leiden,21
LAI-0002,HCC,1,Lyon,35
LAI-0003,cyst,0,Leiden,8
LAI-0004,HCC,1,Lyon,50
"""


def test_reads_columns_in_file_order():
    truth = read_ground_truth(io.StringIO(GOOD))
    assert truth.case_ids == ("LAI-0001", "LAI-0002", "LAI-0003", "LAI-0004")
    assert truth.diagnosis == ("FNH", "HCC", "cyst", "HCC")
    assert truth.malignant.tolist() == [0, 1, 0, 1]
    assert truth.centre == ("Leiden", "Lyon", "Leiden", "Lyon")
    # no task, no declared classes: the labels the file holds, sorted (no built-in label set)
    assert truth.classes == ("FNH", "HCC", "cyst")
    assert truth.extra == {"lesion_diameter_mm": ("21", "35", "8", "50")}
    assert len(truth) == 4


def test_reads_a_path_with_byte_order_mark_and_blank_lines(tmp_path):
    path = tmp_path / "truth.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n\r\n").encode())
    assert read_ground_truth(path).case_ids == read_ground_truth(io.StringIO(GOOD)).case_ids
    assert read_ground_truth(str(path)).classes == ("FNH", "HCC", "cyst")


HEADER = "case_id,diagnosis,malignant,centre\n"

BROKEN = [
    ("empty file", "", ["empty"]),
    ("only blank lines", "\n\n  \n", ["empty"]),
    ("header only", HEADER, ["header but no cases"]),
    ("missing column", "case_id,diagnosis,centre\nA,HCC,X\n", ["missing column(s) malignant"]),
    (
        "two missing columns",
        "case_id,diagnosis\nA,HCC\n",
        ["missing column(s) malignant, centre", "found: case_id, diagnosis"],
    ),
    ("duplicated column", HEADER.strip() + ",centre\nA,HCC,1,X,Y\n", ["duplicated column"]),
    (
        "duplicate case id",
        HEADER + "A,HCC,1,X\nB,FNH,0,X\nA,FNH,0,X\n",
        ["line 4: duplicate case_id 'A' (first on line 2)"],
    ),
    (
        "malignant is 2",
        HEADER + "A,HCC,2,X\n",
        ["line 2: column malignant must be 0 or 1, got '2'"],
    ),
    ("malignant is yes", HEADER + "A,HCC,yes,X\n", ["got 'yes'"]),
    ("malignant is empty", HEADER + "A,HCC,,X\n", ["got ''"]),
    ("malignant is 1.0", HEADER + "A,HCC,1.0,X\n", ["got '1.0'"]),
    ("empty case id", HEADER + ",HCC,1,X\n", ["line 2: column case_id is empty"]),
    ("empty centre", HEADER + "A,HCC,1,\n", ["line 2: column centre is empty"]),
    ("short row", HEADER + "A,HCC,1\n", ["line 2: has 3 fields, the header has 4"]),
    (
        "several problems at once",
        HEADER + "A,HCC,7,X\nA,HCC,1,X\n",
        ["line 2: column malignant", "line 3: duplicate case_id"],
    ),
]


@pytest.mark.parametrize(("text", "messages"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_files_are_explained(text, messages):
    with pytest.raises(GroundTruthError) as caught:
        read_ground_truth(io.StringIO(text))
    for message in messages:
        assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_many_problems_are_summarised():
    text = HEADER + "".join(f"C{i},HCC,9,X\n" for i in range(50))
    with pytest.raises(GroundTruthError, match="and 30 more"):
        read_ground_truth(io.StringIO(text))


@pytest.mark.parametrize("make_path", [lambda p: p / "absent.csv", lambda p: p])
def test_unreadable_path(tmp_path, make_path):
    with pytest.raises(GroundTruthError, match="cannot read ground truth"):
        read_ground_truth(make_path(tmp_path))


def test_binary_file_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "truth.csv"
    path.write_bytes(b"\xff\xfe\x00garbage\x00\x81")
    with pytest.raises(GroundTruthError):
        read_ground_truth(path)


# A small split without haemangioma: declared (or task) labels stay all six.
MISSING = """case_id,diagnosis,malignant,centre
A,HCC,1,X
B,FNH,0,X
C,iCCA,1,Y
D,adenoma,0,Y
E,metastasis,1,X
F,FNH,0,Y
"""

# (id, CSV text, classes argument, expected classes)
DECLARED = [
    ("default: the labels present, sorted", MISSING, None,
     ("FNH", "HCC", "adenoma", "iCCA", "metastasis")),
    ("default: two diagnoses only", HEADER + "A,HCC,1,X\nB,FNH,0,X\n", None, ("FNH", "HCC")),
    ("default: any spelling", HEADER + "A,cyst,0,X\nB,HCC,1,X\nC,hemangioma,0,X\n",
     None, ("HCC", "cyst", "hemangioma")),
    ("explicit: declared order kept", MISSING, list(reversed(LAI_DIAGNOSES)),
     tuple(reversed(LAI_DIAGNOSES))),
    ("explicit: a custom set", HEADER + "A,malignant,1,X\nB,benign,0,X\n",
     ("malignant", "benign"), ("malignant", "benign")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "classes", "expected"), [d[1:] for d in DECLARED], ids=[d[0] for d in DECLARED]
)
def test_declared_classes(text, classes, expected):
    assert read_ground_truth(io.StringIO(text), classes=classes).classes == expected


def test_a_label_outside_the_declared_classes_is_an_error():
    with pytest.raises(GroundTruthError, match="label\\(s\\) haemangioma not among the declared"):
        read_ground_truth(io.StringIO(MISSING + "G,haemangioma,0,X\n"), classes=LAI_DIAGNOSES[:5])


@pytest.mark.parametrize("classes", [("HCC", "HCC"), ("HCC", ""), ("HCC", " FNH"), "HCC"])
def test_bad_declared_classes_are_refused(classes):
    with pytest.raises((ValueError, TypeError)):
        read_ground_truth(io.StringIO(MISSING), classes=classes)


def test_a_split_missing_a_diagnosis_accepts_six_label_predictions_and_scores():
    truth = read_ground_truth(io.StringIO(MISSING), classes=LAI_DIAGNOSES)
    probabilities = {label: 1 / 6 for label in LAI_DIAGNOSES}
    document = {
        "predictions": [
            {"case_id": case_id, "malignant_probability": 0.5,
             "diagnosis_probabilities": probabilities | {diagnosis: 0.5, "haemangioma": 0.0}}
            for case_id, diagnosis in zip(truth.case_ids, truth.diagnosis, strict=True)
        ]
    }  # fmt: skip
    for entry in document["predictions"]:  # renormalise to sum to one
        total = sum(entry["diagnosis_probabilities"].values())
        entry["diagnosis_probabilities"] = {
            label: p / total for label, p in entry["diagnosis_probabilities"].items()
        }
    result = evaluate(parse_predictions(document, truth), truth, n_bootstrap=20)
    assert result["classes"] == list(LAI_DIAGNOSES)
    assert result["confusion_matrix"]["counts"][5] == [0] * 6  # no haemangioma in the truth
    assert result["metrics"]["macro_f1"]["value"] == 1.0  # absent and never predicted
    assert result["metrics"]["macro_auc"]["value"] == 1.0
    assert result["per_diagnosis"]["haemangioma"]["n_cases"] == 0
    assert result["per_diagnosis"]["haemangioma"]["metrics"]["recall"]["value"] is None
