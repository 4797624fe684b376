"""Scoring benchmark: python bench/scoring_bench.py [--cases N --submissions S --resamples B].

Scores a synthetic phase (every metric with a bootstrap CI for every submission, then rank
stability of the primary metric) and compares with a plain loop calling scikit-learn once per
resample per metric. The loop runs on a subset and is extrapolated linearly (it says so).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from evaluator.bootstrap import (  # noqa: E402
    Resamples,
    percentile_intervals,
    resample_indices,
    resample_values,
)
from evaluator.cases import Cases  # noqa: E402
from evaluator.metrics import METRICS, compute_metrics  # noqa: E402
from evaluator.stability import rank_stability  # noqa: E402

# The LAI demo's labels (its task is in examples/lai-liver/challenge.yaml), first three positive.
LAI_DIAGNOSES = ("HCC", "iCCA", "metastasis", "adenoma", "FNH", "haemangioma")

PRIMARY = "auc"


def synthetic_phase(n: int, submissions: int, seed: int = 0) -> list[Cases]:
    """One ground truth, ``submissions`` predictions of varying skill."""
    rng = np.random.default_rng(seed)
    k = len(LAI_DIAGNOSES)
    diagnosis = rng.integers(0, k, n)
    malignant = (diagnosis < 3).astype(np.int64)
    entries = []
    for s in range(submissions):
        skill = 0.2 + 1.5 * s / max(1, submissions - 1)
        logits = rng.normal(size=(n, k))
        logits[np.arange(n), diagnosis] += skill
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        entries.append(Cases(malignant, probs[:, :3].sum(axis=1), diagnosis, probs, LAI_DIAGNOSES))
    return entries


def score_phase(entries: list[Cases], n_resamples: int, seed: int = 0) -> dict:
    indices = resample_indices(entries[0].malignant, n_resamples, np.random.default_rng(seed))
    # Every entry is scored on the same resamples (what rank stability needs): the count
    # matrices are built once, inside the timed section, and shared.
    resamples = Resamples(indices, len(entries[0]))
    results, primary_full, primary_boot = [], [], []
    for cases in entries:
        points = compute_metrics(cases)
        values = resample_values(cases, resamples)
        intervals = percentile_intervals(values, 0.95)
        results.append({n: (points[n].value, intervals[n]) for n in values})
        primary_full.append(points[PRIMARY].value)
        primary_boot.append(values[PRIMARY])
    stability = rank_stability(
        np.array(primary_full, dtype=float),
        np.stack(primary_boot),
        METRICS[PRIMARY].higher_is_better,
    )
    return {"metrics": results, "stability": stability}


def sklearn_loop(entries: list[Cases], indices: np.ndarray) -> None:
    """The straightforward way: one scikit-learn call per resample per metric."""
    from sklearn import metrics as sk

    for cases in entries:
        for row in indices:
            r = cases.take(row)
            y, p = r.malignant, r.malignant_probability
            y_hat = (p >= 0.5).astype(int)
            d, probs = r.diagnosis, r.diagnosis_probabilities
            d_hat = probs.argmax(axis=1)
            sk.roc_auc_score(y, p)
            sk.balanced_accuracy_score(y, y_hat)
            sk.recall_score(y, y_hat)
            sk.recall_score(y, y_hat, pos_label=0)
            sk.f1_score(y, y_hat)
            sk.brier_score_loss(y, p)
            sk.matthews_corrcoef(y, y_hat)
            fpr, tpr, _ = sk.roc_curve(y, p, drop_intermediate=False)
            tpr[1 - fpr >= 0.9 - 1e-12].max()
            bins = np.minimum((p * 10).astype(int), 9)  # ECE: no sklearn function
            np.abs(np.bincount(bins, p - y, 10)).sum() / len(p)
            macro_f1 = sk.f1_score(d, d_hat, average="macro")
            kappa = sk.cohen_kappa_score(d, d_hat)
            sk.balanced_accuracy_score(d, d_hat)
            sk.roc_auc_score(d, probs, multi_class="ovr", average="macro")
            sk.brier_score_loss(d, probs, labels=list(range(probs.shape[1])))
            (macro_f1 + kappa) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--submissions", type=int, default=50)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--loop-submissions", type=int, default=2)
    parser.add_argument("--loop-resamples", type=int, default=100)
    args = parser.parse_args()

    entries = synthetic_phase(args.cases, args.submissions)
    start = time.perf_counter()
    result = score_phase(entries, args.resamples)
    ours = time.perf_counter() - start

    indices = resample_indices(entries[0].malignant, args.loop_resamples, np.random.default_rng(1))
    start = time.perf_counter()
    sklearn_loop(entries[: args.loop_submissions], indices)
    measured = time.perf_counter() - start
    scale = (args.submissions / args.loop_submissions) * (args.resamples / args.loop_resamples)
    baseline = measured * scale

    s = result["stability"]
    print(
        f"phase: {args.cases} cases, {args.submissions} submissions, "
        f"{args.resamples} resamples, {len(METRICS)} metrics with CIs + rank stability"
    )
    print(f"vectorised evaluator: {ours:.2f} s")
    print(
        f"sklearn loop: {measured:.2f} s measured on {args.loop_submissions} submissions x "
        f"{args.loop_resamples} resamples, extrapolated linearly x{scale:g} = {baseline:.1f} s"
    )
    print(f"speed-up: {baseline / ours:.0f}x")
    print(
        f"rank stability ({PRIMARY}): Kendall tau median {s.kendall_tau_median:.3f} "
        f"[{s.kendall_tau_low:.3f}, {s.kendall_tau_high:.3f}]; "
        f"top entry rank interval {s.rank_intervals[int(np.argmin(s.ranks))]}"
    )


if __name__ == "__main__":
    main()
