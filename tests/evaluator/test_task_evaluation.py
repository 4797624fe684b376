"""The evaluator reads a task: its labels, its positive group and that group's name decide
what the ground truth may hold and what predictions give. No label set is built in."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import evaluator
from evaluator import GroundTruthError, PredictionError, parse_predictions, read_ground_truth
from evaluator.curves import roc_curves
from evaluator.task import task_from_mapping

ROOT = Path(__file__).resolve().parents[2]
TRIAGE = task_from_mapping({"name": "triage", "labels": ["cyst", "abscess", "tumour"],
                            "positive": ["abscess", "tumour"],
                            "positive_name": "needs_treatment",
                            "metrics": ["macro_f1", "auc"], "primary": "macro_f1"})
NO_BINARY = "case_id,diagnosis,centre\nA,cyst,X\nB,abscess,X\nC,tumour,Y\nD,cyst,Y\n"


def entry(case_id: str, p: float, probs: tuple[float, float, float], key: str) -> dict:
    return {"case_id": case_id, key: p,
            "diagnosis_probabilities": dict(zip(TRIAGE.labels, probs, strict=True))}


def test_the_task_gives_the_classes_and_the_binary_truth_without_a_column():
    truth = read_ground_truth(io.StringIO(NO_BINARY), task=TRIAGE)
    assert truth.classes == ("cyst", "abscess", "tumour")  # the task's order
    assert truth.malignant.tolist() == [0, 1, 1, 0]  # abscess, tumour: positive
    assert truth.probability_key == "needs_treatment_probability"
    assert truth.extra == {}


def test_a_binary_column_present_must_agree_with_the_labels():
    garbled = NO_BINARY.replace("centre\n", "centre,needs_treatment\n").replace("X\n", "X,?\n")
    text = ("case_id,diagnosis,centre,needs_treatment,size\n"
            "A,cyst,X,0,3\nB,abscess,X,1,4\nC,tumour,Y,0,5\nD,cyst,Y,1,6\n")
    with pytest.raises(GroundTruthError) as caught:
        read_ground_truth(io.StringIO(text), task=TRIAGE)
    message = str(caught.value)
    assert "line 4: needs_treatment is 0 but diagnosis tumour is in the positive group " \
           "(abscess, tumour)" in message
    assert "line 5: needs_treatment is 1 but diagnosis cyst is not in the positive group" \
        in message
    fixed = text.replace("Y,0,5", "Y,1,5").replace("Y,1,6", "Y,0,6")
    truth = read_ground_truth(io.StringIO(fixed), task=TRIAGE)
    assert truth.malignant.tolist() == [0, 1, 1, 0]
    assert truth.extra == {"size": ("3", "4", "5", "6")}  # the binary column is not extra
    with pytest.raises(GroundTruthError, match="column needs_treatment must be 0 or 1"):
        read_ground_truth(io.StringIO(garbled), task=TRIAGE)


def test_labels_outside_the_task_are_named():
    text = NO_BINARY + "E,hemangioma,X\nF,cyst ,X\nG,granuloma,Y\n"
    with pytest.raises(GroundTruthError, match=r"label\(s\) granuloma, hemangioma not among "
                                               r"the task's labels \(cyst, abscess, tumour\)"):
        read_ground_truth(io.StringIO(text), task=TRIAGE)


def test_a_task_spelled_hemangioma_accepts_a_ground_truth_spelled_so():
    task = task_from_mapping({"labels": ["HCC", "hemangioma"], "positive": ["HCC"]})
    text = "case_id,diagnosis,malignant,centre\nA,HCC,1,X\nB,hemangioma,0,X\n"
    truth = read_ground_truth(io.StringIO(text), task=task)
    document = {"predictions": [
        {"case_id": "A", "malignant_probability": 0.9,
         "diagnosis_probabilities": {"HCC": 0.9, "hemangioma": 0.1}},
        {"case_id": "B", "malignant_probability": 0.2,
         "diagnosis_probabilities": {"HCC": 0.2, "hemangioma": 0.8}}]}
    assert parse_predictions(document, truth).classes == ("HCC", "hemangioma")


def test_predictions_give_the_tasks_probability_key():
    truth = read_ground_truth(io.StringIO(NO_BINARY), task=TRIAGE)
    lai_shaped = {"predictions": [entry(c, 0.5, (0.4, 0.3, 0.3), "malignant_probability")
                                  for c in truth.case_ids]}
    with pytest.raises(PredictionError) as caught:
        parse_predictions(lai_shaped, truth)
    assert "case A: missing needs_treatment_probability" in caught.value.problems
    good = {"predictions": [entry(c, p, probs, "needs_treatment_probability") for c, p, probs
                            in zip(truth.case_ids, (0.1, 0.8, 0.7, 0.4),
                                   ((0.9, 0.05, 0.05), (0.2, 0.7, 0.1), (0.1, 0.2, 0.7),
                                    (0.6, 0.3, 0.1)), strict=True)]}
    good["predictions"][1]["needs_treatment_probability"] = 1.5
    with pytest.raises(PredictionError, match="case B: needs_treatment_probability 1.5 is "
                                              "outside"):
        parse_predictions(good, truth)
    good["predictions"][1]["needs_treatment_probability"] = 0.8
    predictions = parse_predictions(good, truth)
    curves = roc_curves(predictions, truth)
    assert list(curves) == ["needs_treatment", "cyst", "abscess", "tumour"]
    assert curves["needs_treatment"]["kind"] == "binary"
    assert curves["needs_treatment"]["auc"] == 1.0


def test_the_evaluator_holds_no_label_set():
    assert not hasattr(evaluator, "LAI_DIAGNOSES")
    for source in (ROOT / "evaluator").glob("*.py"):
        if source.name != "task.py":  # its docstring shows an example task
            assert "haemangioma" not in source.read_text(), source.name


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evaluator", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_the_cli_reads_a_task_file(tmp_path):
    truth = tmp_path / "truth.csv"
    truth.write_text(NO_BINARY)
    predictions = tmp_path / "predictions.json"
    predictions.write_text(json.dumps({"predictions": [
        entry(c, p, probs, "needs_treatment_probability") for c, p, probs in zip(
            "ABCD", (0.1, 0.8, 0.3, 0.4), ((0.9, 0.05, 0.05), (0.2, 0.7, 0.1),
                                           (0.1, 0.2, 0.7), (0.3, 0.6, 0.1)), strict=True)]}))
    task = tmp_path / "task.json"
    task.write_text(json.dumps(TRIAGE.to_mapping()))
    done = run("--task", str(task), "--predictions", str(predictions),
               "--ground-truth", str(truth), "--bootstrap", "10")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["task"] == TRIAGE.to_mapping()
    assert result["classes"] == ["cyst", "abscess", "tumour"]
    assert result["metrics"]["auc"]["value"] == 0.75
    # Without the task the same ground truth has no binary column: a clear refusal.
    plain = run("--predictions", str(predictions), "--ground-truth", str(truth))
    assert plain.returncode == 2 and "missing column(s) malignant" in plain.stderr


@pytest.mark.parametrize(("content", "message"), [
    ("labels: [a]\npositive: [a]\n", "labels must list at least two labels"),
    ("labels: [a, b]\npositive: [c]\n", "positive names label(s) not in labels: c"),
    ("labels: [a, b]\npositive: [a]\nmetrics: [wow]\n", "unknown metric(s) wow"),
    ("[1, 2", "is neither JSON nor YAML"),
    ("- just\n- a list\n", "must be a mapping"),
])
def test_a_bad_task_file_exits_2_with_the_reason(tmp_path, content, message):
    task = tmp_path / "task.yaml"
    task.write_text(content)
    done = run("--task", str(task), "--predictions", "p.json", "--ground-truth", "g.csv")
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    missing = run("--task", str(tmp_path / "none.yaml"), "--predictions", "p.json",
                  "--ground-truth", "g.csv")
    assert missing.returncode == 2 and "cannot read task file" in missing.stderr
