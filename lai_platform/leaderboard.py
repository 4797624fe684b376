"""A phase's leaderboard: which entries it shows, how they rank, and how stable the ranks are.

Ranks are recomputed when a result lands (and when a phase's settings or its public/private
part change) and stored, so reading a leaderboard is one indexed query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import defer, joinedload

from evaluator import METRICS, RankStability, rank, rank_stability
from evaluator.rank_methods import competition_ranks
from lai_platform.extensions import db
from lai_platform.models import Phase, Result, Submission
from lai_platform.models._time import utcnow
from lai_platform.phase_scoring import VECTOR_METHODS, parts, ranking_resamples

DISPLAY_MODES = ("all", "best", "latest")
# Stability is computed for the best-ranked entries only: its cost grows with entries².
STABILITY_MAX_ENTRIES = 200


def current_part(phase: Phase, now: datetime | None = None) -> str:
    """The cases that decide now: all of them, or the public part while a split phase is open
    and the private part once it has closed."""
    if not phase.has_public_split:
        return "all"
    return "public" if phase.is_open(now or utcnow()) else "private"


def visible_metrics(result: Result, phase: Phase, now: datetime | None = None) -> dict:
    part = current_part(phase, now)
    chosen = {"public": result.metrics_public, "private": result.metrics_private}.get(part)
    return chosen or result.metrics


def visible_curves(result: Result, phase: Phase) -> dict | None:
    return (result.curves or {}).get(current_part(phase))


def metric_value(metrics: dict, name: str) -> float:
    value = (metrics.get("metrics", {}).get(name) or {}).get("value")
    return np.nan if value is None else float(value)


def primary_score(metrics: dict, metric: str) -> float | None:
    value = metric_value(metrics, metric)
    return None if np.isnan(value) else value


def shown_entries(results: list[Result], phase: Phase, part: str) -> list[Result]:
    """Every entry, or each participant's best or latest; baselines are always shown."""
    if phase.display_mode == "all":
        return list(results)
    higher = METRICS[phase.primary_metric].higher_is_better
    chosen: dict[int, Result] = {}
    for result in sorted(results, key=lambda r: (r.submission.created_at, r.submission_id)):
        if result.submission.is_baseline:
            continue
        user = result.submission.user_id
        if phase.display_mode == "latest" or user not in chosen:
            chosen[user] = result
            continue
        mine = metric_value(_part_metrics(result, part), phase.primary_metric)
        best = metric_value(_part_metrics(chosen[user], part), phase.primary_metric)
        if not np.isnan(mine) and (np.isnan(best) or (mine > best if higher else mine < best)):
            chosen[user] = result
    keep = {r.submission_id for r in chosen.values()}
    return [r for r in results if r.submission.is_baseline or r.submission_id in keep]


def recompute_ranks(phase: Phase, now: datetime | None = None) -> None:
    # One recompute per phase at a time (PostgreSQL row lock; SQLite serialises writers):
    # two results landing together must not each rank without the other.
    # FOR NO KEY UPDATE: it does not wait on the key-share locks that inserting results takes.
    db.session.execute(
        select(Phase.id).where(Phase.id == phase.id).with_for_update(key_share=True)
    )
    part = current_part(phase, now)
    # The big per-result vectors load only when this ranking method reads them (stability
    # reads them lazily for its top entries).
    big = [Result.curves]
    if phase.ranking_method not in VECTOR_METHODS:
        big += [Result.resampled, Result.case_scores]
    results = db.session.scalars(
        select(Result)
        .where(Result.phase_id == phase.id)
        .options(joinedload(Result.submission), *(defer(column) for column in big))
        .order_by(Result.submission_id)
    ).all()
    for result in results:
        result.shown = False
        result.rank = result.rank_low = result.rank_high = None
        result.rank_hold_probability = None
    entries = shown_entries(results, phase, part)
    for result in entries:
        result.shown = True
    phase.ranked_on = part
    phase.rank_stability = None
    if not entries:
        return
    scores, flags = _ranking_scores(phase, entries, part)
    ranks = rank(
        phase.ranking_method,
        scores,
        higher_is_better=flags,
        baseline=[e.submission.is_baseline for e in entries],
        alpha=phase.ranking_alpha,
    )
    for result, value in zip(entries, ranks, strict=True):
        result.rank = value
    _store_stability(phase, entries, part)


def _part_metrics(result: Result, part: str) -> dict:
    chosen = {"public": result.metrics_public, "private": result.metrics_private}.get(part)
    return chosen or result.metrics


def _ranking_names(phase: Phase) -> list[str]:
    return list(dict.fromkeys(phase.ranking_metrics or [phase.primary_metric]))


def _ranking_scores(phase: Phase, entries: list[Result], part: str):
    method, metric = phase.ranking_method, phase.primary_metric
    if method in ("mean_rank", "median_rank"):
        names = _ranking_names(phase)
        values = [[metric_value(_part_metrics(e, part), n) for n in names] for e in entries]
        return np.array(values), [METRICS[n].higher_is_better for n in names]
    if method == "case_rank":
        name = (phase.ranking_metrics or ["brier"])[0]
        return _stored(entries, "case_scores", part, name), False  # per-case scores: lower wins
    if method == "test_then_rank":
        return _stored(entries, "resampled", part, metric), METRICS[metric].higher_is_better
    values = [metric_value(_part_metrics(e, part), metric) for e in entries]
    return np.array(values), METRICS[metric].higher_is_better


def _stored(entries: list[Result], column: str, part: str, name: str) -> np.ndarray:
    """Entries' stored vectors (resampled or per-case values) as one matrix, NaN for null."""
    rows = []
    for entry in entries:
        values = ((getattr(entry, column) or {}).get(part) or {}).get(name)
        rows.append([np.nan if v is None else v for v in values] if values else None)
    width = max((len(r) for r in rows if r is not None), default=0)
    return np.array([r if r is not None else [np.nan] * width for r in rows], dtype=np.float64)


def _store_stability(phase: Phase, entries: list[Result], part: str) -> None:
    """Rank intervals and hold probabilities from the phase's shared bootstrap resamples.

    Participants are resampled among themselves, as they are ranked; each baseline among
    the participants plus itself, so its interval is that of the rank it would have.
    """
    ranked = sorted((e for e in entries if e.rank is not None), key=lambda e: e.rank)
    participants = [e for e in ranked if not e.submission.is_baseline][:STABILITY_MAX_ENTRIES]
    baselines = [e for e in ranked if e.submission.is_baseline]
    if not participants:
        return
    stability = _stability(phase, participants, part)
    if stability is None:
        return
    _assign(participants, stability)
    for baseline in baselines:
        joint = _stability(phase, [*participants, baseline], part)
        if joint is not None:
            _assign([baseline], joint, offset=len(participants))
    phase.rank_stability = {
        "part": part,
        "n_entries": len(participants),
        "n_resamples": stability.n_resamples,
        "kendall_tau_median": stability.result.kendall_tau_median,
        "kendall_tau_low": stability.result.kendall_tau_low,
        "kendall_tau_high": stability.result.kendall_tau_high,
    }


@dataclass(frozen=True)
class _Stability:
    result: RankStability
    n_resamples: int


def _stability(phase: Phase, entries: list[Result], part: str) -> _Stability | None:
    keys = _stability_keys(phase, entries, part)
    if keys is None:
        return None
    full, boot, higher = keys
    return _Stability(rank_stability(full, boot, higher_is_better=higher), int(boot.shape[1]))


def _assign(entries: list[Result], stability: _Stability, offset: int = 0) -> None:
    result = stability.result
    for i, entry in enumerate(entries, start=offset):
        entry.rank_low, entry.rank_high = result.rank_low[i], result.rank_high[i]
        entry.rank_hold_probability = result.hold_probability[i]


def _stability_keys(phase: Phase, entries: list[Result], part: str):
    """(full, resampled, higher_is_better) keys whose ranking is the leaderboard's ranking."""
    method, metric = phase.ranking_method, phase.primary_metric
    if method in ("mean_rank", "median_rank"):
        names = _ranking_names(phase)
        flags = np.array([METRICS[n].higher_is_better for n in names])
        full = np.array([[metric_value(_part_metrics(e, part), n) for n in names]
                         for e in entries])
        stored = [_stored(entries, "resampled", part, n) for n in names]
        if len({m.shape for m in stored}) != 1 or stored[0].size == 0:
            return None  # scored before these ranking metrics were chosen
        boot = np.stack(stored, axis=1)
        aggregate = np.mean if method == "mean_rank" else np.median
        full_key = aggregate(competition_ranks(full, flags), axis=1)
        boot_key = aggregate(competition_ranks(boot, flags[:, None]), axis=1)
        return full_key, boot_key, False
    if method == "case_rank":
        name = (phase.ranking_metrics or ["brier"])[0]
        per_case = _stored(entries, "case_scores", part, name)
        if per_case.size == 0:
            return None
        ranks = competition_ranks(per_case, False)  # (entries, cases), per case
        counts = _resample_counts(phase, part, per_case.shape[1])
        # Each resample's mean per-case rank: the case counts weight the ranks.
        return ranks.mean(axis=1), ranks @ counts.T / per_case.shape[1], False
    # "score", and "test_then_rank", whose order follows the primary metric's scores.
    full = np.array([metric_value(_part_metrics(e, part), metric) for e in entries])
    boot = _stored(entries, "resampled", part, metric)
    if boot.size == 0:
        return None
    return full, boot, METRICS[metric].higher_is_better


def _resample_counts(phase: Phase, part: str, n_cases: int) -> np.ndarray:
    """(B, cases) draw counts of the phase's shared resamples of this part's cases."""
    from evaluator import read_ground_truth
    from lai_platform import services

    svc = services.get()
    with svc.storage.local_path(phase.dataset.ground_truth_key) as path:
        truth = read_ground_truth(path)
    malignant = np.asarray(truth.malignant)[parts(phase, truth)[part]]
    indices = ranking_resamples(malignant, svc.settings.bootstrap_resamples)
    counts = np.zeros((len(indices), n_cases))
    np.add.at(counts, (np.arange(len(indices))[:, None], indices), 1.0)
    return counts


@dataclass(frozen=True)
class Row:
    result: Result
    metrics: dict  # the part in force

    @property
    def rank(self) -> int | None:
        return self.result.rank

    @property
    def submission(self) -> Submission:
        return self.result.submission

    def metric(self, name: str) -> dict:
        return self.metrics.get("metrics", {}).get(name) or {}


PER_PAGE = 100


def leaderboard_rows(phase: Phase, page: int = 1, per_page: int = PER_PAGE) -> list[Row]:
    """One page of the leaderboard, best first: a single indexed query on stored ranks."""
    if phase.ranked_on != current_part(phase):
        # The phase closed since the last ranking: the private part decides from now on.
        recompute_ranks(phase)
        db.session.commit()
    results = db.session.scalars(
        select(Result)
        .where(Result.phase_id == phase.id, Result.shown.is_(True))
        .options(
            joinedload(Result.submission).joinedload(Submission.user),
            defer(Result.curves), defer(Result.resampled), defer(Result.case_scores),
        )
        .order_by(Result.rank.is_(None), Result.rank, Result.submission_id)
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    return [Row(r, visible_metrics(r, phase)) for r in results]


def count_shown(phase: Phase) -> int:
    return db.session.scalar(
        select(func.count()).where(Result.phase_id == phase.id, Result.shown.is_(True))
    ) or 0


# The columns a leaderboard shows; every metric is on each submission's page.
LEADERBOARD_METRICS = ("auc", "balanced_accuracy", "sensitivity", "specificity", "macro_f1",
                       "kappa", "lld_mmri_score")


def shown_metrics(phase: Phase) -> list[str]:
    """The primary metric first, then the ranking metrics, then the usual columns."""
    names = [phase.primary_metric, *(phase.ranking_metrics or []), *LEADERBOARD_METRICS]
    return [n for n in dict.fromkeys(names) if n in METRICS]
