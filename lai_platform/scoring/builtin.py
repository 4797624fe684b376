"""The built-in evaluator scores one submission for its phase: the evaluator's metrics over
every case, over the public and private parts when the phase has that split, and what
ranking needs later (every metric on the phase's shared bootstrap resamples, per-case
scores).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from evaluator import METRICS, GroundTruth, Predictions, cases_from, evaluate, per_case_scores
from evaluator.bootstrap import resample_indices, resample_values
from evaluator.curves import reliability_bins, roc_curves
from lai_platform.models import Phase
from lai_platform.scoring.vectors import Vectors

# Ranking resamples are drawn from their own seed, the same for every entry of a phase:
# entries must be compared on identical resamples.
RANKING_SEED = 20261127


@dataclass(frozen=True)
class Scored:
    metrics: dict
    metrics_public: dict | None
    metrics_private: dict | None
    resampled: Vectors  # part -> metric -> values on the phase's shared resamples
    case_scores: Vectors  # part -> metric -> per-case scores
    curves: dict | None = None

    @property
    def part_values(self) -> dict[str, dict[str, float | None]]:
        """Every metric's value on each part: what ranking reads."""
        parts = {"all": self.metrics, "public": self.metrics_public,
                 "private": self.metrics_private}
        return {part: metric_values(metrics) for part, metrics in parts.items()
                if metrics is not None}


def metric_values(metrics: dict) -> dict[str, float | None]:
    return {name: entry.get("value") for name, entry in (metrics.get("metrics") or {}).items()
            if isinstance(entry, dict)}


def parts(phase: Phase, ground_truth: GroundTruth) -> dict[str, np.ndarray]:
    """Row indices of each part of the cases the phase ranks on."""
    everything = np.arange(len(ground_truth.case_ids))
    if not phase.has_public_split:
        return {"all": everything}
    public = set(phase.public_case_ids)
    is_public = np.array([c in public for c in ground_truth.case_ids])
    return {
        "all": everything,
        "public": np.flatnonzero(is_public),
        "private": np.flatnonzero(~is_public),
    }


def score(
    predictions: Predictions,
    ground_truth: GroundTruth,
    phase: Phase,
    *,
    n_bootstrap: int,
    training_centres: list[str] | None = None,
) -> Scored:
    cases = cases_from(predictions, ground_truth)
    # Every metric, so that an organizer may change the ranking metrics later.
    names = list(METRICS)
    evaluated, resampled, case_scores, curves = {}, {}, {}, {}
    for name, idx in parts(phase, ground_truth).items():
        truth = subset_truth(ground_truth, idx) if name != "all" else ground_truth
        predicted = subset_predictions(predictions, idx) if name != "all" else predictions
        evaluated[name] = evaluate(predicted, truth, n_bootstrap=n_bootstrap,
                                   training_centres=training_centres)
        part = cases.take(idx)
        values = resample_values(part, ranking_resamples(part.malignant, n_bootstrap), names)
        resampled[name] = values
        case_scores[name] = per_case_scores(part)
        curves[name] = {
            "roc": roc_curves(predicted, truth),
            "reliability": reliability_bins(part.malignant, part.malignant_probability),
        }
    return Scored(
        metrics=evaluated["all"],
        metrics_public=evaluated.get("public"),
        metrics_private=evaluated.get("private"),
        resampled=resampled,
        case_scores=case_scores,
        curves=curves,
    )


def ranking_resamples(malignant: np.ndarray, n_bootstrap: int) -> np.ndarray:
    """The phase's shared resamples of these cases: same truth, same rows for everyone."""
    return resample_indices(malignant, n_bootstrap, np.random.default_rng(RANKING_SEED))


def resample_counts(phase: Phase, ground_truth: GroundTruth, part: str,
                    n_bootstrap: int) -> np.ndarray:
    """(B, cases) draw counts of the phase's shared resamples of one part's cases."""
    malignant = np.asarray(ground_truth.malignant)[parts(phase, ground_truth)[part]]
    indices = ranking_resamples(malignant, n_bootstrap)
    counts = np.zeros((len(indices), len(malignant)))
    np.add.at(counts, (np.arange(len(indices))[:, None], indices), 1.0)
    return counts


def subset_truth(truth: GroundTruth, rows: np.ndarray) -> GroundTruth:
    pick = rows.tolist()
    return replace(
        truth,
        case_ids=tuple(truth.case_ids[i] for i in pick),
        diagnosis=tuple(truth.diagnosis[i] for i in pick),
        malignant=truth.malignant[rows],
        centre=tuple(truth.centre[i] for i in pick),
        extra={k: tuple(v[i] for i in pick) for k, v in truth.extra.items()},
    )


def subset_predictions(predictions: Predictions, rows: np.ndarray) -> Predictions:
    return replace(
        predictions,
        case_ids=tuple(predictions.case_ids[i] for i in rows.tolist()),
        malignant_probability=predictions.malignant_probability[rows],
        diagnosis_probabilities=predictions.diagnosis_probabilities[rows],
    )
