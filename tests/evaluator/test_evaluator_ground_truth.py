"""Reading the ground-truth CSV, and the clear errors for broken files."""

from __future__ import annotations

import io

import pytest

from evaluator import GroundTruthError, read_ground_truth
from evaluator.ground_truth import ordered_classes

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
    assert truth.classes == ("HCC", "FNH", "cyst")  # LAI order first, then others sorted
    assert truth.extra == {"lesion_diameter_mm": ("21", "35", "8", "50")}
    assert len(truth) == 4


def test_reads_a_path_with_byte_order_mark_and_blank_lines(tmp_path):
    path = tmp_path / "truth.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n\r\n").encode())
    assert read_ground_truth(path).case_ids == read_ground_truth(io.StringIO(GOOD)).case_ids
    assert read_ground_truth(str(path)).classes == ("HCC", "FNH", "cyst")


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["haemangioma", "HCC", "FNH"], ("HCC", "FNH", "haemangioma")),
        (["zeta", "alpha", "iCCA"], ("iCCA", "alpha", "zeta")),
        (["HCC", "HCC"], ("HCC",)),
    ],
)
def test_class_order(labels, expected):
    assert ordered_classes(labels) == expected


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
