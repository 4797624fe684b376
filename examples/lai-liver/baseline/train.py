"""Train the LAI baseline: features -> the best of a few scikit-learn model families.

    python3 train.py --training DIR [--out model.pkl]

DIR is a training split: DIR/inputs/<case>/... and DIR/ground_truth.csv. Model choice is
AutoML in miniature: every candidate is scored by repeated stratified cross-validation
(AUC for malignant vs benign, macro-F1 for the diagnosis) and the best is refitted on
all cases. Runs on scikit-learn 1.2 (the container) and 1.7 (the host venv).
"""

from __future__ import annotations

import argparse
import csv
import pickle
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from features import case_features, feature_names  # noqa: E402

DIAGNOSES: tuple[str, ...] = ("HCC", "iCCA", "metastasis", "adenoma", "FNH", "haemangioma")
MODEL_FORMAT = 1


def candidates() -> dict:
    """Model families tried for each target; class weights keep rare diagnoses visible."""
    return {
        "logistic_regression": make_pipeline(
            StandardScaler(), LogisticRegression(C=0.1, max_iter=5000, class_weight="balanced")
        ),
        "logistic_regression_weak_l2": make_pipeline(
            StandardScaler(), LogisticRegression(C=1.0, max_iter=5000, class_weight="balanced")
        ),
        "random_forest": RandomForestClassifier(
            n_estimators=150, min_samples_leaf=2, class_weight="balanced_subsample",
            random_state=0,
        ),
        "gradient_boosting": HistGradientBoostingClassifier(
            max_depth=3, learning_rate=0.1, max_iter=60, l2_regularization=1.0,
            random_state=0,
        ),
    }


def read_split(split_dir: Path) -> tuple[list[str], np.ndarray, list[dict]]:
    """Case ids, the feature matrix and the ground-truth rows of a training split."""
    with open(Path(split_dir) / "ground_truth.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise SystemExit(f"{split_dir}/ground_truth.csv has no cases")
    names = feature_names()
    matrix = np.empty((len(rows), len(names)))
    for i, row in enumerate(rows):
        feats = case_features(Path(split_dir) / "inputs" / row["case_id"])
        matrix[i] = [feats[n] for n in names]
        if (i + 1) % 50 == 0 or i + 1 == len(rows):
            print(f"features: {i + 1}/{len(rows)} cases", flush=True)
    return [r["case_id"] for r in rows], matrix, rows


def select(x: np.ndarray, y: np.ndarray, scoring: str, label: str) -> dict:
    """Cross-validate every candidate, refit the best on all data."""
    counts = np.unique(y, return_counts=True)[1]
    if len(counts) < 2:
        raise SystemExit(f"{label}: the training data has a single class; cannot train")
    folds = int(max(2, min(5, counts.min())))
    cv = RepeatedStratifiedKFold(n_splits=folds, n_repeats=2, random_state=0)
    scores = {}
    for name, model in candidates().items():
        with warnings.catch_warnings():
            # Tiny classes make some folds degenerate; the score stays meaningful.
            warnings.simplefilter("ignore")
            result = cross_val_score(clone(model), x, y, cv=cv, scoring=scoring)
        scores[name] = round(float(np.mean(result)), 4)
        print(f"{label}: {name:30s} {scoring} = {scores[name]:.3f} "
              f"(+/- {np.std(result):.3f}, {folds}-fold x2)", flush=True)
    best = max(scores, key=lambda n: scores[n])  # dict order breaks ties: simpler first
    model = clone(candidates()[best]).fit(x, y)
    print(f"{label}: chose {best}", flush=True)
    return {"name": best, "estimator": model, "cv_scores": scores, "scoring": scoring}


def train(training_dir: Path) -> dict:
    started = time.perf_counter()
    case_ids, x, rows = read_split(training_dir)
    diagnosis = np.array([r["diagnosis"] for r in rows])
    malignant = np.array([int(r["malignant"]) for r in rows])
    bundle = {
        "format": MODEL_FORMAT,
        "feature_names": feature_names(),
        "diagnoses": list(DIAGNOSES),
        "malignant": select(x, malignant, "roc_auc", "malignant"),
        "diagnosis": select(x, diagnosis, "f1_macro", "diagnosis"),
        # Fallback for a case whose images cannot be read: the training prevalence.
        "prior": {
            "malignant": float(malignant.mean()),
            "diagnosis": {d: float(np.mean(diagnosis == d)) for d in DIAGNOSES},
        },
        "trained_on": {"n_cases": len(case_ids),
                       "centres": sorted({r.get("centre", "") for r in rows})},
        "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__},
    }
    print(f"trained on {len(case_ids)} cases in {time.perf_counter() - started:.1f} s")
    return bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the LAI liver baseline.")
    parser.add_argument("--training", type=Path, required=True, help="training split dir")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "model.pkl")
    args = parser.parse_args(argv)
    bundle = train(args.training)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as handle:
        pickle.dump(bundle, handle, protocol=4)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
