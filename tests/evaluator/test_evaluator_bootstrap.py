"""Bootstrap CIs: vectorised equals a plain loop, seeded, stratified, honest about skips."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import metrics as sk

from evaluator import METRICS, compute_metrics
from evaluator.bootstrap import (
    bootstrap_intervals,
    percentile_interval,
    resample_indices,
    resample_values,
)
from evaluator.cases import Cases


@pytest.mark.parametrize("seed", [0, 1])
def test_vectorised_resamples_equal_a_naive_loop(make_cases, seed):
    cases = make_cases(seed, n=25)
    indices = resample_indices(cases.malignant, 40, np.random.default_rng(seed))
    vectorised = resample_values(cases, indices)
    for b, row in enumerate(indices):
        resample = cases.take(row)
        for name, result in compute_metrics(resample).items():
            got = vectorised[name][b]
            if result.value is None:
                assert np.isnan(got), (name, b)
            else:
                assert got == pytest.approx(result.value, abs=1e-12), (name, b)
        # and independently of our own point code, for the metrics sklearn defines here
        y_hat = (resample.malignant_probability >= 0.5).astype(int)
        assert vectorised["auc"][b] == pytest.approx(
            sk.roc_auc_score(resample.malignant, resample.malignant_probability), abs=1e-12
        )
        assert vectorised["f1"][b] == pytest.approx(
            sk.f1_score(resample.malignant, y_hat), abs=1e-12
        )
        d_hat = resample.diagnosis_probabilities.argmax(axis=1)
        assert vectorised["kappa"][b] == pytest.approx(
            sk.cohen_kappa_score(resample.diagnosis, d_hat), abs=1e-12
        )


def test_resamples_are_stratified_by_malignancy(make_cases):
    cases = make_cases(0, n=50)
    indices = resample_indices(cases.malignant, 200, np.random.default_rng(0))
    assert indices.shape == (200, 50)
    drawn = cases.malignant[indices]
    assert (drawn.sum(axis=1) == cases.malignant.sum()).all()
    assert len(np.unique(indices)) == 50  # every case gets drawn somewhere


def test_same_seed_same_intervals_different_seed_different(make_cases):
    cases = make_cases(2, n=80)
    first = bootstrap_intervals(cases, n_resamples=200, rng=7)
    assert first == bootstrap_intervals(cases, n_resamples=200, rng=7)
    assert first == bootstrap_intervals(cases, n_resamples=200, rng=np.random.default_rng(7))
    assert first != bootstrap_intervals(cases, n_resamples=200, rng=8)


def test_intervals_contain_the_point_estimate(make_cases):
    cases = make_cases(4, n=300)
    points = compute_metrics(cases)
    intervals = bootstrap_intervals(cases, n_resamples=500, rng=0)
    for name in METRICS:
        interval = intervals[name]
        assert interval.n_used == 500
        assert interval.low <= points[name].value <= interval.high, name
        assert interval.low < interval.high, name


def test_wider_confidence_gives_wider_intervals(make_cases):
    cases = make_cases(5, n=100)
    narrow = bootstrap_intervals(cases, n_resamples=300, rng=1, confidence=0.5)
    wide = bootstrap_intervals(cases, n_resamples=300, rng=1, confidence=0.99)
    for name in METRICS:
        assert wide[name].low <= narrow[name].low <= narrow[name].high <= wide[name].high


def test_undefined_resamples_are_skipped_and_counted():
    # All benign, one case predicted malignant: F1 is 0 when that case is drawn, undefined
    # (no malignant truth, none predicted) when it is not.
    n = 6
    cases = Cases(
        malignant=np.zeros(n, dtype=np.int64),
        malignant_probability=np.array([0.9] + [0.1] * (n - 1)),
        diagnosis=np.arange(n) % 2,
        diagnosis_probabilities=np.tile([0.6, 0.4], (n, 1)),
        classes=("FNH", "haemangioma"),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        intervals = bootstrap_intervals(cases, n_resamples=300, rng=0)
    expected_defined = 300 * (1 - ((n - 1) / n) ** n)  # P(case 0 drawn at least once)
    assert 0.8 * expected_defined < intervals["f1"].n_used < 300
    assert (intervals["f1"].low, intervals["f1"].high) == (0.0, 0.0)
    assert intervals["sensitivity"].n_used == 0
    assert intervals["sensitivity"].low is None and intervals["sensitivity"].high is None


@pytest.mark.parametrize(
    ("values", "confidence", "expected"),
    [
        ([np.nan, np.nan], 0.95, (None, None, 0)),
        ([], 0.95, (None, None, 0)),
        ([3.0], 0.95, (3.0, 3.0, 1)),
        ([np.nan, 0.0, 1.0, 2.0, 3.0, 4.0, np.nan], 0.5, (1.0, 3.0, 5)),
        (list(range(101)), 0.9, (5.0, 95.0, 101)),
    ],
)
def test_percentile_interval(values, confidence, expected):
    interval = percentile_interval(np.array(values, dtype=float), confidence)
    assert (interval.low, interval.high, interval.n_used) == pytest.approx(expected)


def test_zero_resamples_gives_no_interval(make_cases):
    intervals = bootstrap_intervals(make_cases(0, n=20), n_resamples=0)
    assert all(i.low is None and i.n_used == 0 for i in intervals.values())


@pytest.mark.parametrize("kwargs", [{"confidence": 1.0}, {"confidence": 0}, {"n_resamples": -1}])
def test_bad_settings_are_rejected(make_cases, kwargs):
    with pytest.raises(ValueError):
        bootstrap_intervals(make_cases(0, n=20), **kwargs)


def test_large_resample_counts_are_scored_in_blocks(make_cases, monkeypatch):
    import evaluator.bootstrap as bootstrap

    cases = make_cases(1, n=30)
    indices = resample_indices(cases.malignant, 50, np.random.default_rng(3))
    whole = resample_values(cases, indices)
    monkeypatch.setattr(bootstrap, "_BLOCK_CELLS", 30 * 7)  # blocks of 7 resamples
    blocked = resample_values(cases, indices)
    for name in METRICS:
        # equal up to BLAS summation order
        np.testing.assert_allclose(whole[name], blocked[name], rtol=0, atol=1e-12)
