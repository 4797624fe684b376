"""SVG charts: well-formed XML, the expected marks, escaped labels, no crash on odd data."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from markupsafe import Markup

from evaluator import parse_predictions, read_ground_truth
from evaluator.curves import reliability_bins, roc_curves
from lai_platform.web.charts import (
    confusion_matrix_svg,
    rank_intervals_svg,
    reliability_svg,
    roc_svg,
)

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert(1)</script>"
CLASSES = ("HCC", "iCCA", "FNH")


def parse(svg: Markup) -> ET.Element:
    assert isinstance(svg, Markup)
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("aria-label")
    assert root.get("width") == "100%" and root.get("viewBox").startswith("0 0 360 ")
    assert root[0].tag == f"{SVG}title" and root[0].text
    return root


def count(root: ET.Element, tag: str) -> int:
    return sum(1 for _ in root.iter(f"{SVG}{tag}"))


def texts(root: ET.Element) -> list[str]:
    """The visible text of each <text> (its <title> tooltip left out)."""
    return ["".join(t.itertext()).removeprefix(_tip(t)) for t in root.iter(f"{SVG}text")]


def _tip(element: ET.Element) -> str:
    tip = element.find(f"{SVG}title")
    return tip.text if tip is not None else ""


def assert_unavailable(svg: Markup) -> None:
    root = parse(svg)
    assert any(text.startswith("Not available") for text in texts(root))
    assert count(root, "polyline") == count(root, "circle") == count(root, "path") == 0


def assert_escaped(svg: Markup) -> None:
    assert "<script" not in str(svg)
    root = parse(svg)  # still well-formed, and the label reads as written
    words = [*texts(root), *(t.text or "" for t in root.iter(f"{SVG}title"))]
    words.append(root.get("aria-label"))
    assert any(EVIL in word for word in words)


# --------------------------------------------------------------------------------------------
# ROC
# --------------------------------------------------------------------------------------------


@pytest.fixture
def curves() -> dict:
    rng = np.random.default_rng(0)
    rows, entries = ["case_id,diagnosis,malignant,centre"], []
    for i in range(60):
        label = CLASSES[i % 3]
        rows.append(f"C{i},{label},{int(label != 'FNH')},X")
        probs = rng.dirichlet(np.ones(3))
        probs[i % 3] += 0.5
        probs /= probs.sum()
        entries.append(
            {
                "case_id": f"C{i}",
                "malignant_probability": float(probs[0] + probs[1]),
                "diagnosis_probabilities": dict(zip(CLASSES, map(float, probs), strict=True)),
            }
        )
    truth = read_ground_truth(io.StringIO("\n".join(rows) + "\n"), classes=CLASSES)
    return roc_curves(parse_predictions({"predictions": entries}, truth), truth)


def test_roc_draws_each_curve_with_a_marker_and_a_legend_entry(curves):
    root = parse(roc_svg(curves))
    assert count(root, "polyline") == 4  # malignant + three one-vs-rest
    assert count(root, "path") == 8  # a marker on each curve and in its legend entry
    widths = [float(p.get("stroke-width")) for p in root.iter(f"{SVG}polyline")]
    assert widths[0] == 3.0 and max(widths[1:]) < 3.0  # the headline curve first, thick
    dashes = [p.get("stroke-dasharray") for p in root.iter(f"{SVG}polyline")]
    assert dashes[0] is None and len(set(dashes[1:])) == 3  # every other curve its own dash
    chance = [line for line in root.iter(f"{SVG}line") if line.get("stroke-dasharray") == "1 3"]
    assert len(chance) == 1
    legend = " ".join(texts(root))
    for key in ("malignant", *CLASSES):
        assert f"AUC {curves[key]['auc']:.3f}" in legend
    assert "chance" in legend and "False positive rate" in legend
    assert "True positive rate" in legend


def test_roc_skips_an_undefined_curve_but_names_it(curves):
    curves["iCCA"] = {**curves["iCCA"], "fpr": None, "tpr": None, "auc": None}
    root = parse(roc_svg(curves))
    assert count(root, "polyline") == 3 and count(root, "path") == 6
    assert any("iCCA: not available" in text for text in texts(root))


def test_roc_of_the_malignant_curve_alone(curves):
    root = parse(roc_svg({"malignant": curves["malignant"]}))
    assert count(root, "polyline") == 1 and count(root, "path") == 2


@pytest.mark.parametrize(
    "value",
    [
        None,
        {},
        {"malignant": None},
        {"malignant": {"fpr": None, "tpr": None, "reason": "undefined: no benign cases"}},
        {"malignant": {"fpr": [0.0], "tpr": [0.0]}},
        {"malignant": {"fpr": [0.0, "x"], "tpr": [0.0, 1.0]}},
        {"malignant": {"fpr": [0.0, 1.0], "tpr": [0.0]}},
    ],
)
def test_roc_without_a_drawable_curve_says_so(value):
    assert_unavailable(roc_svg(value))


def test_roc_shows_the_reason_when_nothing_can_be_drawn():
    svg = roc_svg({"malignant": {"fpr": None, "reason": "undefined: no benign cases"}})
    assert "no benign cases" in " ".join(texts(parse(svg)))


def test_roc_escapes_labels_and_reasons(curves):
    curves[EVIL] = {**curves["HCC"], "label": EVIL}
    assert_escaped(roc_svg(curves))
    assert_escaped(roc_svg({"x": {"fpr": None, "reason": EVIL}}))
    assert_escaped(roc_svg(curves, title=EVIL))


# --------------------------------------------------------------------------------------------
# Reliability
# --------------------------------------------------------------------------------------------


def test_reliability_draws_a_point_per_filled_bin_labelled_with_n():
    prob = np.array([0.05, 0.07, 0.33, 0.35, 0.36, 0.91])
    bins = reliability_bins(np.array([0, 0, 1, 0, 1, 1]), prob)
    root = parse(reliability_svg(bins))
    assert count(root, "circle") == 3 and count(root, "polyline") == 1
    radii = [float(c.get("r")) for c in root.iter(f"{SVG}circle")]
    assert radii[1] > radii[0] > radii[2]  # 3 cases > 2 cases > 1 case
    labels = texts(root)
    assert {"2", "3", "1"} <= set(labels) and "perfect calibration" in labels
    diagonal = [line for line in root.iter(f"{SVG}line") if line.get("stroke-dasharray")]
    assert len(diagonal) == 1


def test_reliability_with_one_filled_bin_has_no_line():
    root = parse(reliability_svg(reliability_bins(np.array([1, 0]), np.array([0.5, 0.52]))))
    assert count(root, "circle") == 1 and count(root, "polyline") == 0


@pytest.mark.parametrize(
    "bins",
    [
        None,
        [],
        reliability_bins(np.array([], dtype=int), np.array([])),
        [{"n": 3, "mean_predicted": None, "observed_fraction": 0.5}],
        [{"n": "3", "mean_predicted": 0.2, "observed_fraction": 0.5}, "junk"],
    ],
)
def test_reliability_without_cases_says_so(bins):
    assert_unavailable(reliability_svg(bins))


# --------------------------------------------------------------------------------------------
# Confusion matrix
# --------------------------------------------------------------------------------------------


def _fills(root: ET.Element) -> list[int]:
    """The grey level (0-255) of each cell, row by row."""
    return [int(r.get("fill")[4:].split(",")[0]) for r in root.iter(f"{SVG}rect")]


def test_confusion_matrix_shades_by_row_share_and_prints_counts():
    counts = [[8, 2, 0], [1, 1, 0], [0, 0, 0]]
    root = parse(confusion_matrix_svg(list(CLASSES), counts))
    assert count(root, "rect") == 9
    assert count(root, "text") == 9 + 2 * 3 + 2  # counts, row and column labels, axis titles
    labels = texts(root)
    assert labels[:9] == ["8", "2", "0", "1", "1", "0", "0", "0", "0"]
    assert "True diagnosis" in labels and "Predicted diagnosis" in labels
    fills = _fills(root)
    assert fills[0] < fills[1] < fills[2] == 255  # 80% darker than 20% darker than 0%
    assert fills[3] == fills[4]  # a row of 1 and 1: equal shares, equal shade
    assert fills[6:] == [255, 255, 255]  # a class with no cases: blank, not a crash
    # Greyscale only, and white text only where the cell is dark.
    assert all(r.get("fill").startswith("rgb(") for r in root.iter(f"{SVG}rect"))
    inks = [t.get("fill") for t in list(root.iter(f"{SVG}text"))[:9]]
    assert inks[0] == "#ffffff" and inks[1] == "#000000"


def test_confusion_matrix_of_one_class():
    root = parse(confusion_matrix_svg(["HCC"], [[5]]))
    assert count(root, "rect") == 1 and "5" in texts(root)


@pytest.mark.parametrize(
    "classes, counts",
    [
        ([], []),
        (None, None),
        (["A", "B"], [[1, 2]]),
        (["A", "B"], [[1, 2], [3]]),
        (["A"], [[-1]]),
        (["A"], [["x"]]),
        (["A"], [[1.5]]),
    ],
)
def test_confusion_matrix_of_unusable_data_says_so(classes, counts):
    root = parse(confusion_matrix_svg(classes, counts))
    assert any(text.startswith("Not available") for text in texts(root))


def test_confusion_matrix_escapes_labels():
    assert_escaped(confusion_matrix_svg([EVIL, "B"], [[1, 0], [0, 1]]))


# --------------------------------------------------------------------------------------------
# Rank intervals
# --------------------------------------------------------------------------------------------


def _entry(label: str, rank: int, low: int, high: int, hold: float | None) -> dict:
    return {"label": label, "rank": rank, "low": low, "high": high, "hold_probability": hold}


def test_rank_intervals_draw_a_row_per_entry_best_first():
    entries = [
        _entry("third", 3, 2, 4, 0.4),
        _entry("first", 1, 1, 2, 0.87),
        _entry("second", 2, 1, 3, None),
        _entry("fourth", 4, 3, 4, 0.61),
    ]
    root = parse(rank_intervals_svg(entries))
    assert count(root, "path") == 4 and count(root, "circle") == 4
    labels = texts(root)
    assert [t for t in labels if t in {"first", "second", "third", "fourth"}] == [
        "first",
        "second",
        "third",
        "fourth",
    ]
    assert "87%" in labels and "-" in labels and "held" in labels
    # The dot of rank 1 is left of the dot of rank 4.
    xs = [float(c.get("cx")) for c in root.iter(f"{SVG}circle")]
    assert xs == sorted(xs)
    # Tick labels run over ranks 1..4.
    assert {"1", "2", "3", "4"} <= set(labels)


def test_rank_intervals_of_one_entry():
    root = parse(rank_intervals_svg([_entry("only", 1, 1, 1, 1.0)]))
    assert count(root, "path") == 1 and "100%" in texts(root)


@pytest.mark.parametrize(
    "entries",
    [
        None,
        [],
        [_entry("bad", 2, 3, 4, 0.5)],  # rank outside its interval
        [_entry("bad", 0, 0, 1, 0.5)],  # ranks start at 1
        [{"label": "x", "rank": "1", "low": 1, "high": 1}],
        ["junk"],
    ],
)
def test_rank_intervals_of_unusable_data_say_so(entries):
    assert_unavailable(rank_intervals_svg(entries))


def test_rank_intervals_escape_labels():
    assert_escaped(rank_intervals_svg([_entry(EVIL, 1, 1, 2, 0.5), _entry("b", 2, 1, 2, 0.5)]))


def test_many_entries_make_a_taller_chart():
    entries = [_entry(f"team {i}", i, max(1, i - 2), min(40, i + 2), 0.5) for i in range(1, 41)]
    root = parse(rank_intervals_svg(entries))
    assert count(root, "path") == 40
    assert float(root.get("viewBox").split()[3]) > 600
