"""A phase's ranks: which entries it shows, how they rank under the phase's ranking method,
and how stable those ranks are. Stored, so that reading a leaderboard is one query.

Ranks are recomputed when a result lands and when a phase's settings or its public/private
part change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import defer, joinedload

from evaluator import RankingMethod, RankingSettings, rank_entries, rank_stability, ranking_method
from lai_platform import services
from lai_platform.challenges.datasets import ground_truth_of
from lai_platform.extensions import db
from lai_platform.leaderboards.entries import StoredEntries
from lai_platform.leaderboards.parts import current_part
from lai_platform.models import Phase, Result
from lai_platform.scoring.builtin import resample_counts

DISPLAY_MODES = ("all", "best", "latest")
# Stability is computed for the best-ranked entries only: its cost grows with entries².
STABILITY_MAX_ENTRIES = 200


def ranking_settings(phase: Phase) -> RankingSettings:
    return RankingSettings(phase.primary_metric, tuple(phase.ranking_metrics or ()),
                           phase.ranking_alpha)


def recompute_ranks(phase: Phase, now: datetime | None = None) -> None:
    # One recompute per phase at a time (PostgreSQL row lock; SQLite serialises writers):
    # two results landing together must not each rank without the other.
    # FOR NO KEY UPDATE: it does not wait on the key-share locks that inserting results takes.
    db.session.execute(
        select(Phase.id).where(Phase.id == phase.id).with_for_update(key_share=True)
    )
    part = current_part(phase, now)
    method = ranking_method(phase.ranking_method)
    results = _results(phase, method)
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
    ranks = rank_entries(method, _table(phase, entries, part), ranking_settings(phase),
                         baseline=[e.submission.is_baseline for e in entries])
    for result, value in zip(entries, ranks, strict=True):
        result.rank = value
    _store_stability(phase, method, entries, part)


def _results(phase: Phase, method: RankingMethod) -> Sequence[Result]:
    # The big per-result vectors load only when the ranking method reads them (stability
    # reads them lazily for its top entries).
    big = [Result.curves]
    if not method.needs_vectors:
        big += [Result.resampled, Result.case_scores]
    return db.session.scalars(
        select(Result)
        .where(Result.phase_id == phase.id)
        .options(joinedload(Result.submission), *(defer(column) for column in big))
        .order_by(Result.submission_id)
    ).all()


def shown_entries(results: Sequence[Result], phase: Phase, part: str) -> list[Result]:
    """Every entry, or each participant's best or latest; baselines are always shown.

    "Best" follows the phase's own ranking: every participant entry is ranked together by the
    phase's method and each participant keeps their best-ranked one (the earliest on a tie),
    as grand-challenge does.
    """
    if phase.display_mode == "all":
        return list(results)
    ordered = sorted(
        (r for r in results if not r.submission.is_baseline),
        key=lambda r: (r.submission.created_at, r.submission_id),
    )
    chosen: dict[int, Result] = {}
    if phase.display_mode == "latest":
        chosen = {r.submission.user_id: r for r in ordered}
    elif ordered:
        ranks = rank_entries(ranking_method(phase.ranking_method),
                             _table(phase, ordered, part), ranking_settings(phase))
        best: dict[int, float] = {}
        for result, value in zip(ordered, ranks, strict=True):
            user, key = result.submission.user_id, np.inf if value is None else value
            if user not in chosen or key < best[user]:
                chosen[user], best[user] = result, key
    keep = {r.submission_id for r in chosen.values()}
    return [r for r in results if r.submission.is_baseline or r.submission_id in keep]


def _table(phase: Phase, entries: Sequence[Result], part: str) -> StoredEntries:
    def counts() -> np.ndarray:
        svc = services.get()
        truth = ground_truth_of(svc.storage, phase.dataset)
        return resample_counts(phase, truth, part, svc.settings.bootstrap_resamples)

    return StoredEntries(entries, part, counts)


def _store_stability(phase: Phase, method: RankingMethod, entries: list[Result],
                     part: str) -> None:
    """Rank intervals and hold probabilities from the phase's shared bootstrap resamples.

    Participants are resampled among themselves, as they are ranked; each baseline among
    the participants plus itself, so its interval is that of the rank it would have.
    """
    ranked = sorted((e for e in entries if e.rank is not None), key=lambda e: e.rank)
    participants = [e for e in ranked if not e.submission.is_baseline][:STABILITY_MAX_ENTRIES]
    baselines = [e for e in ranked if e.submission.is_baseline]
    if not participants:
        return
    stability = _stability(phase, method, participants, part)
    if stability is None:
        return
    _assign(participants, stability)
    for baseline in baselines:
        joint = _stability(phase, method, [*participants, baseline], part)
        if joint is not None:
            _assign([baseline], joint, offset=len(participants))
    phase.rank_stability = {
        "part": part,
        "n_entries": len(participants),
        "n_resamples": stability["n_resamples"],
        "kendall_tau_median": stability["result"].kendall_tau_median,
        "kendall_tau_low": stability["result"].kendall_tau_low,
        "kendall_tau_high": stability["result"].kendall_tau_high,
    }


def _stability(phase: Phase, method: RankingMethod, entries: list[Result],
               part: str) -> dict | None:
    keys = method.stability_keys(_table(phase, entries, part), ranking_settings(phase))
    if keys is None:
        return None
    full, boot = keys  # lower is better
    return {"result": rank_stability(full, boot, higher_is_better=False),
            "n_resamples": int(boot.shape[1])}


def _assign(entries: list[Result], stability: dict, offset: int = 0) -> None:
    result = stability["result"]
    for i, entry in enumerate(entries, start=offset):
        entry.rank_low, entry.rank_high = result.rank_low[i], result.rank_high[i]
        entry.rank_hold_probability = result.hold_probability[i]
