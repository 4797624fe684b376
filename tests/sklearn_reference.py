"""The metrics as scikit-learn (or a textbook loop) computes them: the oracle every metric
test compares the evaluator with."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as sk


def sklearn_reference(y: np.ndarray, p: np.ndarray, d: np.ndarray,
                      probs: np.ndarray) -> dict[str, float]:
    """Every metric from binary truth `y`, its probability `p`, label indices `d` and the
    label probabilities `probs` (one column per label)."""
    y_hat = (p >= 0.5).astype(int)
    d_hat = probs.argmax(axis=1)
    macro_f1 = sk.f1_score(d, d_hat, average="macro")
    kappa = sk.cohen_kappa_score(d, d_hat)
    return {
        "auc": sk.roc_auc_score(y, p),
        "balanced_accuracy": sk.balanced_accuracy_score(y, y_hat),
        "sensitivity": sk.recall_score(y, y_hat),
        "specificity": sk.recall_score(y, y_hat, pos_label=0),
        "f1": sk.f1_score(y, y_hat),
        "brier": sk.brier_score_loss(y, p),
        "macro_f1": macro_f1,
        "kappa": kappa,
        "mc_balanced_accuracy": sk.balanced_accuracy_score(d, d_hat),
        "macro_auc": sk.roc_auc_score(d, probs, multi_class="ovr", average="macro"),
        "lld_mmri_score": (macro_f1 + kappa) / 2,
        "mcc": sk.matthews_corrcoef(y, y_hat),
        "sens_at_90_spec": sens_at_spec_via_roc_curve(y, p, 0.90),
        "ece": ece_by_loop(y, p),
        "mc_brier": sk.brier_score_loss(d, probs, labels=list(range(probs.shape[1]))),
    }


def sens_at_spec_via_roc_curve(y, p, floor: float) -> float:
    fpr, tpr, _ = sk.roc_curve(y, p, drop_intermediate=False)
    return float(tpr[1.0 - fpr >= floor - 1e-12].max())


def ece_by_loop(y, p, bins: int = 10) -> float:
    """The textbook sum over bins of n_b / n * |accuracy_b - confidence_b|."""
    total = 0.0
    for b in range(bins):
        inside = (p >= b / bins) & ((p < (b + 1) / bins) | (b == bins - 1))
        if inside.any():
            total += inside.mean() * abs(y[inside].mean() - p[inside].mean())
    return total
