"""python -m evaluator, run as the worker runs it: a separate process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "evaluator", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_good_files_print_the_result_json(write_inputs):
    predictions, truth = write_inputs(n=30)
    done = run("--predictions", str(predictions), "--ground-truth", str(truth),
               "--bootstrap", "50", "--seed", "4")  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["n_cases"], result["n_bootstrap"], result["seed"]) == (30, 50, 4)
    assert 0.0 <= result["metrics"]["auc"]["value"] <= 1.0


def test_invalid_predictions_exit_2_with_the_reasons(write_inputs):
    def break_file(document):
        document["predictions"][0]["malignant_probability"] = 1.7
        del document["predictions"][1]

    predictions, truth = write_inputs(n=10, change=break_file)
    done = run("--predictions", str(predictions), "--ground-truth", str(truth))
    assert done.returncode == 2
    assert done.stdout == ""
    assert "case LAI-0001: malignant_probability 1.7 is outside [0, 1]" in done.stderr
    assert "1 case(s) missing: LAI-0002" in done.stderr
    assert "Traceback" not in done.stderr


def test_garbage_and_missing_files_exit_2(write_inputs, tmp_path):
    predictions, truth = write_inputs(n=10)
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\xff not json")
    for args, message in [
        (("--predictions", str(garbage), "--ground-truth", str(truth)), "not UTF-8"),
        (("--predictions", str(predictions), "--ground-truth", str(garbage)), "ground truth"),
        (("--predictions", str(predictions), "--ground-truth", str(tmp_path / "no.csv")),
         "cannot read ground truth"),
        (("--predictions", str(predictions)), "--ground-truth"),
    ]:  # fmt: skip
        done = run(*args)
        assert done.returncode == 2, args
        assert message in done.stderr and "Traceback" not in done.stderr


def test_package_does_not_import_flask_or_the_platform():
    code = (
        "import sys, evaluator, evaluator.__main__; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'lai_platform')]; "
        "assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
