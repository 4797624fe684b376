"""A phase's ranks: which entries it shows, how they rank under the phase's ranking method,
and how stable those ranks are. Stored, so that reading a leaderboard is one query.

`recompute_ranks` reads only the light columns of a phase's results (plain rows, no ORM
objects) and writes back only the rows whose rank changed. It runs in the ranking job
(see `leaderboards.ranking_job`) and when an organizer changes a phase's settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select, text, update

from evaluator import RankingMethod, RankingSettings, rank_entries, rank_stability, ranking_method
from lai_platform import services
from lai_platform.challenges.datasets import ground_truth_of
from lai_platform.challenges.tasks import task_of
from lai_platform.extensions import db
from lai_platform.leaderboards.entries import StoredEntries
from lai_platform.leaderboards.parts import current_part
from lai_platform.models import Participation, Phase, Result, Submission
from lai_platform.models._time import utcnow
from lai_platform.scoring.builtin import resample_counts
from lai_platform.teams.entrants import entrant_key

DISPLAY_MODES = ("all", "best", "latest")
# Stability is computed for the best-ranked entries only: its cost grows with entries².
STABILITY_MAX_ENTRIES = 200
_RANK_FIELDS = ("shown", "rank", "rank_low", "rank_high", "rank_hold_probability", "position")


@dataclass
class Entry:
    """One result as ranking sees it."""

    submission_id: int
    user_id: int
    created_at: datetime
    is_baseline: bool
    part_values: dict
    stored: tuple  # the rank fields as stored, to write back only what changed
    # Hidden or disqualified by the organizers, or its participant banned: not shown.
    excluded: bool = False
    selected: bool = False  # marked by its participant for the final selection
    team_id: int | None = None  # a team's entries share one row (display modes, selection)
    shown: bool = False
    rank: int | None = None
    rank_low: int | None = None
    rank_high: int | None = None
    rank_hold_probability: float | None = None
    position: int | None = None

    @property
    def entrant(self) -> tuple[str, int]:
        return entrant_key(self.user_id, self.team_id)

    def rank_fields(self) -> tuple:
        return tuple(getattr(self, name) for name in _RANK_FIELDS)


def ranking_settings(phase: Phase) -> RankingSettings:
    return RankingSettings(phase.primary_metric, tuple(phase.ranking_metrics or ()),
                           phase.ranking_alpha)


def recompute_ranks(phase: Phase, now: datetime | None = None, *, locked: bool = False) -> None:
    """Rank the phase's results and store ranks, stability and a new ranking version."""
    if not locked:
        lock_for_ranking(phase.id)
        db.session.expire(phase, ["ranks_version"])
    now = now or utcnow()
    part = current_part(phase, now)
    method = ranking_method(phase.ranking_method)
    entries = _entries(phase)
    shown = shown_entries(final_candidates([e for e in entries if not e.excluded], phase, part),
                          phase, part)
    for entry in shown:
        entry.shown = True
    phase.rank_stability = None
    if shown:
        ranks = rank_entries(method, _table(phase, shown, part), ranking_settings(phase),
                             baseline=[e.is_baseline for e in shown])
        for entry, value in zip(shown, ranks, strict=True):
            entry.rank = value
        _store_stability(phase, method, shown, part)
    in_order = sorted(shown, key=lambda e: (e.rank is None, e.rank or 0, e.submission_id))
    for position, entry in enumerate(in_order, start=1):
        entry.position = position
    _write_back(entries)
    phase.ranked_on = part
    phase.ranked_at = now
    phase.shown_count = len(shown)


def lock_for_ranking(phase_id: int) -> None:
    """One ranking of a phase at a time, and a new version number for it.

    A write first: in PostgreSQL it takes the phase row's lock (FOR NO KEY UPDATE, which does
    not wait on the key-share locks that inserting results takes); in SQLite it takes the
    write lock before anything is read, so two rankings never read, then both try to write.
    """
    db.session.execute(
        update(Phase).where(Phase.id == phase_id)
        .values(ranks_version=Phase.ranks_version + 1)
        .execution_options(synchronize_session=False)
    )


def _entries(phase: Phase) -> list[Entry]:
    # Excluded entries are still read: writing back clears their stored rank and position.
    rows = db.session.execute(
        select(Result.submission_id, Submission.user_id, Submission.created_at,
               Submission.is_baseline, Result.part_values,
               *(getattr(Result, name) for name in _RANK_FIELDS),
               Submission.team_id, Submission.selected_for_final, Submission.moderation,
               Participation.status)
        .join(Submission, Submission.id == Result.submission_id)
        .outerjoin(Participation, (Participation.user_id == Submission.user_id)
                   & (Participation.challenge_id == phase.challenge_id))
        .where(Result.phase_id == phase.id)
        .order_by(Result.submission_id)
    ).all()
    return [Entry(*row[:5], stored=tuple(row[5:-4]), team_id=row[-4], selected=row[-3],
                  excluded=row[-2] is not None or row[-1] == "banned") for row in rows]


def final_candidates(entries: Sequence[Entry], phase: Phase, part: str) -> list[Entry]:
    """The entries that may stand for their entrant (a participant, or a team). On the
    private part of a phase with final selection, an entrant who marked submissions has only
    those considered (the display mode then chooses among them); one who marked none keeps
    them all, as before.
    """
    if part != "private" or not phase.final_selection_on:
        return list(entries)
    choosers = {e.entrant for e in entries if e.selected and not e.is_baseline}
    return [e for e in entries
            if e.is_baseline or e.selected or e.entrant not in choosers]


_PG_WRITE_BACK = text("""
    UPDATE results SET shown = t.shown, rank = t.rank, rank_low = t.low, rank_high = t.high,
        rank_hold_probability = t.hold, position = t.position
    FROM unnest(CAST(:ids AS integer[]), CAST(:shown AS boolean[]), CAST(:rank AS integer[]),
                CAST(:low AS integer[]), CAST(:high AS integer[]),
                CAST(:hold AS double precision[]), CAST(:position AS integer[]))
        AS t(id, shown, rank, low, high, hold, position)
    WHERE results.submission_id = t.id
""")


def _write_back(entries: list[Entry]) -> None:
    changed = [e for e in entries if e.rank_fields() != e.stored]
    if not changed:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        # One UPDATE from arrays for all rows: a landing result moves the rank of every
        # entry below it, thousands of rows at a time.
        columns = list(zip(*[(e.submission_id, *e.rank_fields()) for e in changed], strict=True))
        db.session.execute(_PG_WRITE_BACK, dict(zip(
            ("ids", "shown", "rank", "low", "high", "hold", "position"), map(list, columns),
            strict=True)))
        return
    # SQLite: an UPDATE per changed row by primary key (executemany), no ORM objects.
    db.session.execute(update(Result), [
        {"submission_id": e.submission_id, **dict(zip(_RANK_FIELDS, e.rank_fields(), strict=True))}
        for e in changed
    ])


def shown_entries(entries: Sequence[Entry], phase: Phase, part: str) -> list[Entry]:
    """Every entry, or each entrant's best or latest; baselines are always shown. An entrant
    is a participant on their own or a team (one row for all its members).

    "Best" follows the phase's own ranking: every participant entry is ranked together by the
    phase's method and each entrant keeps their best-ranked one (the earliest on a tie),
    as grand-challenge does.
    """
    if phase.display_mode == "all":
        return list(entries)
    ordered = sorted((e for e in entries if not e.is_baseline),
                     key=lambda e: (e.created_at, e.submission_id))
    chosen: dict[tuple[str, int], Entry] = {}
    if phase.display_mode == "latest":
        chosen = {e.entrant: e for e in ordered}
    elif ordered:
        ranks = rank_entries(ranking_method(phase.ranking_method),
                             _table(phase, ordered, part), ranking_settings(phase))
        best: dict[tuple[str, int], float] = {}
        for entry, value in zip(ordered, ranks, strict=True):
            who, key = entry.entrant, np.inf if value is None else value
            if who not in chosen or key < best[who]:
                chosen[who], best[who] = entry, key
    keep = {e.submission_id for e in chosen.values()}
    return [e for e in entries if e.is_baseline or e.submission_id in keep]


def _table(phase: Phase, entries: Sequence[Entry], part: str) -> StoredEntries:
    def counts() -> np.ndarray:
        svc = services.get()
        truth = ground_truth_of(svc.storage, phase.dataset, task_of(phase.challenge))
        return resample_counts(phase, truth, part, svc.settings.bootstrap_resamples)

    return StoredEntries(entries, part, counts)


def _store_stability(phase: Phase, method: RankingMethod, entries: list[Entry],
                     part: str) -> None:
    """Rank intervals and hold probabilities from the phase's shared bootstrap resamples.

    Participants are resampled among themselves, as they are ranked; each baseline among
    the participants plus itself, so its interval is that of the rank it would have.
    """
    ranked = sorted((e for e in entries if e.rank is not None), key=lambda e: e.rank)
    participants = [e for e in ranked if not e.is_baseline][:STABILITY_MAX_ENTRIES]
    baselines = [e for e in ranked if e.is_baseline]
    if not participants:
        return
    table = _table(phase, [*participants, *baselines], part)  # one read of the vectors
    n = len(participants)
    stability = _stability(method, table.subset(range(n)), phase)
    if stability is None:
        return
    _assign(participants, stability)
    for i, baseline in enumerate(baselines, start=n):
        joint = _stability(method, table.subset([*range(n), i]), phase)
        if joint is not None:
            _assign([baseline], joint, offset=n)
    phase.rank_stability = {
        "part": part,
        "n_entries": n,
        "n_resamples": stability.n_resamples,
        "kendall_tau_median": stability.kendall_tau_median,
        "kendall_tau_low": stability.kendall_tau_low,
        "kendall_tau_high": stability.kendall_tau_high,
    }


def _stability(method: RankingMethod, table: StoredEntries, phase: Phase):
    keys = method.stability_keys(table, ranking_settings(phase))
    if keys is None:
        return None
    full, boot = keys  # lower is better
    return rank_stability(full, boot, higher_is_better=False)


def _assign(entries: list[Entry], stability, offset: int = 0) -> None:
    for i, entry in enumerate(entries, start=offset):
        entry.rank_low, entry.rank_high = stability.rank_low[i], stability.rank_high[i]
        entry.rank_hold_probability = stability.hold_probability[i]
