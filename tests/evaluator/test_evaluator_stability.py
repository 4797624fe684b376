"""Rank stability: a worked example, Kendall's tau against scipy, shared resamples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from evaluator import compute_metrics
from evaluator.bootstrap import resample_indices
from evaluator.stability import kendall_tau_b, rank_stability, resampled_scores

# Three entries on four shared resamples, higher is better. Ranks per resample, by hand:
#   b0: A1 B2 C3   b1: B1 A2 C3   b2: A1 C2 B3   b3: A1 C2 B3
FULL = [0.9, 0.8, 0.7]
RESAMPLED = [
    [0.9, 0.7, 0.9, 0.9],
    [0.8, 0.8, 0.6, 0.8],
    [0.7, 0.6, 0.7, 0.85],
]


def test_worked_example():
    result = rank_stability(np.array(FULL), np.array(RESAMPLED), higher_is_better=True)
    assert result.ranks == [1, 2, 3]
    # with 4 resamples the 2.5/97.5 percentiles are the smallest and largest rank seen
    assert result.rank_intervals == ["1-2", "1-3", "2-3"]
    assert result.hold_probability == [3 / 4, 1 / 4, 2 / 4]
    # tau per resample: 1, 1/3, 1/3, 1/3 (one discordant pair of three in b1..b3)
    assert result.kendall_tau_median == pytest.approx(1 / 3)
    assert result.kendall_tau_low == pytest.approx(1 / 3)
    assert result.kendall_tau_high == pytest.approx(1 / 3 + 0.925 * 2 / 3)


def test_lower_is_better_reverses_everything():
    flipped = rank_stability(-np.array(FULL), -np.array(RESAMPLED), higher_is_better=False)
    assert flipped.rank_intervals == ["1-2", "1-3", "2-3"]


def test_rare_rank_changes_fall_outside_the_interval():
    # A loses first place in 2 of 100 resamples: outside the 2.5% tail.
    resampled = np.array([[1.0] * 98 + [0.0] * 2, [0.5] * 100])
    result = rank_stability(np.array([1.0, 0.5]), resampled, higher_is_better=True)
    assert result.rank_intervals == ["1-1", "2-2"]
    assert result.hold_probability == [0.98, 0.98]


def test_all_ties_leave_tau_undefined():
    result = rank_stability(np.array([0.5, 0.5]), np.full((2, 3), 0.5), higher_is_better=True)
    assert result.rank_intervals == ["1-1", "1-1"]
    assert result.kendall_tau_median is None


@pytest.mark.parametrize("seed", range(3))
def test_kendall_tau_b_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    reference = rng.integers(1, 6, 8).astype(float)  # ties on purpose
    others = rng.integers(1, 6, (8, 5)).astype(float)
    ours = kendall_tau_b(reference, others)
    for b in range(5):
        assert ours[b] == pytest.approx(stats.kendalltau(reference, others[:, b])[0], abs=1e-12)


def test_resampled_scores_share_the_resamples(make_cases):
    entries = [make_cases(seed, n=30) for seed in range(3)]
    # same truth for every entry: take the first entry's truth with the others' predictions
    truth = entries[0]
    entries = [
        type(truth)(truth.malignant, e.malignant_probability, truth.diagnosis,
                    e.diagnosis_probabilities, truth.classes)
        for e in entries
    ]  # fmt: skip
    indices = resample_indices(truth.malignant, 6, np.random.default_rng(0))
    scores = resampled_scores("auc", entries, indices)
    assert scores.shape == (3, 6)
    for e, cases in enumerate(entries):
        for b, row in enumerate(indices):
            expected = compute_metrics(cases.take(row), ["auc"])["auc"].value
            assert scores[e, b] == pytest.approx(expected, abs=1e-12)


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="same entries"):
        rank_stability(np.array([1.0, 2.0]), np.zeros((3, 4)), higher_is_better=True)
