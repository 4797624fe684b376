"""LAI baseline container entrypoint: /input cases -> /output/predictions.json.

Reads /input/cases.json and /input/<case_id>/<sequence>.nii.gz + lesion_mask.nii.gz and
writes one prediction per case. Writes nothing but the output file, so it runs with a
read-only root file system, as any user, without network. A case whose images cannot be
read gets the training prevalence (and a message) rather than failing the whole run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from features import FeatureError, case_features  # noqa: E402

HERE = Path(__file__).resolve().parent


def read_cases(input_dir: Path) -> list[str]:
    cases = json.loads((input_dir / "cases.json").read_text())
    if not isinstance(cases, list) or not all(isinstance(c, str) for c in cases):
        raise SystemExit("cases.json must be a JSON list of case id strings")
    for case_id in cases:
        # A case id names a folder directly under /input; nothing else.
        if not case_id or case_id in (".", "..") or "/" in case_id or "\\" in case_id:
            raise SystemExit(f"invalid case id in cases.json: {case_id!r}")
    return cases


def _normalised(probs: dict[str, float], labels: list[str]) -> dict[str, float]:
    values = np.array([max(float(probs.get(label, 0.0)), 0.0) for label in labels])
    values = values / values.sum() if values.sum() > 0 else np.full(len(labels), 1 / len(labels))
    return {label: float(v) for label, v in zip(labels, values, strict=True)}


def predict(input_dir: Path, model_path: Path) -> list[dict]:
    with open(model_path, "rb") as handle:
        bundle = pickle.load(handle)
    names, labels = bundle["feature_names"], bundle["diagnoses"]
    cases = read_cases(input_dir)
    print(f"predicting {len(cases)} cases with {bundle['malignant']['name']} (malignant) "
          f"and {bundle['diagnosis']['name']} (diagnosis)", flush=True)
    rows, ok = np.zeros((len(cases), len(names))), np.zeros(len(cases), bool)
    for i, case_id in enumerate(cases):
        try:
            feats = case_features(input_dir / case_id)
            rows[i] = [feats[n] for n in names]
            ok[i] = all(math.isfinite(v) for v in rows[i])
        except (FeatureError, OSError, ValueError) as error:
            print(f"warning: {case_id}: {error}; using the training prevalence", flush=True)
        if (i + 1) % 20 == 0 or i + 1 == len(cases):
            print(f"features: {i + 1}/{len(cases)} cases", flush=True)

    malignant = np.full(len(cases), bundle["prior"]["malignant"])
    diagnosis = [dict(bundle["prior"]["diagnosis"]) for _ in cases]
    if ok.any():
        malignant_model = bundle["malignant"]["estimator"]
        positive = list(malignant_model.classes_).index(1)
        malignant[ok] = malignant_model.predict_proba(rows[ok])[:, positive]
        model = bundle["diagnosis"]["estimator"]
        for i, p in zip(np.flatnonzero(ok), model.predict_proba(rows[ok]), strict=True):
            diagnosis[i] = dict(zip(map(str, model.classes_), p, strict=True))
    return [
        {
            "case_id": case_id,
            "malignant_probability": float(np.clip(malignant[i], 0.0, 1.0)),
            "diagnosis_probabilities": _normalised(diagnosis[i], labels),
        }
        for i, case_id in enumerate(cases)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="LAI liver baseline: predict /input -> /output")
    parser.add_argument("--input", type=Path, default=Path(os.environ.get("LAI_INPUT", "/input")))
    parser.add_argument("--output", type=Path,
                        default=Path(os.environ.get("LAI_OUTPUT", "/output")))
    parser.add_argument("--model", type=Path, default=HERE / "model.pkl")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    predictions = predict(args.input, args.model)
    out = args.output / "predictions.json"
    out.write_text(json.dumps({"predictions": predictions}, indent=1) + "\n")
    print(f"wrote {len(predictions)} predictions to {out} in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
