"""The final leaderboard: published once a phase has closed, as a frozen, timestamped copy of
the board (columns and rows as shown then). Later setting changes re-rank the live board and
never touch a published one; publishing again adds a newer copy (the latest is shown)."""

from __future__ import annotations

from sqlalchemy import select

from evaluator import METRICS, ranking_method
from lai_platform.audit import record
from lai_platform.errors import PlatformError
from lai_platform.extensions import db
from lai_platform.leaderboards.exports import all_rows, entry_json, metric_names, ranked_part
from lai_platform.leaderboards.parts import current_part
from lai_platform.leaderboards.ranks import lock_for_ranking, ranking_settings, recompute_ranks
from lai_platform.models import FinalLeaderboard, Phase, User
from lai_platform.models._time import utcnow


def publish_final(actor: User, phase: Phase, *, close_now: bool = False) -> FinalLeaderboard:
    """Freeze the board of a closed phase. Before closes_at it is refused, unless
    `close_now` sets closes_at to now first (recorded as a phase.edit)."""
    now = utcnow()
    if phase.closes_at is None or now < phase.closes_at:
        if not close_now:
            when = (f"closes at {phase.closes_at:%Y-%m-%d %H:%M} UTC" if phase.closes_at
                    else "has no closing time")
            raise PlatformError(
                "phase_open",
                f"The phase '{phase.title}' {when}: the final leaderboard is published once "
                "it has closed. Choose 'close the phase now and publish' to close it first.",
                409)
        record(actor, phase.challenge, "phase.edit", phase.slug,
               {"closes_at": phase.closes_at}, {"closes_at": now})
        phase.closes_at = now
    if phase.ranked_on != current_part(phase, now) or close_now:
        recompute_ranks(phase, now)  # at close a split phase ranks on its private part
    else:
        lock_for_ranking(phase.id)  # a new page version: the public page shows the final one
    rows = [entry_json(row) for row in all_rows(phase)]  # the same entries as the export
    final = FinalLeaderboard(phase_id=phase.id, published_at=now, published_by_id=actor.id,
                             columns=_columns(phase, rows), rows=rows)
    db.session.add(final)
    db.session.flush()
    record(actor, phase.challenge, "leaderboard.publish", phase.slug, None,
           {"final_id": final.id, "published_at": now, "entries": len(final.rows),
            "ranked_on": ranked_part(phase), "ranking_method": phase.ranking_method})
    db.session.commit()
    return final


def latest_final(phase: Phase) -> FinalLeaderboard | None:
    return db.session.scalar(
        select(FinalLeaderboard).where(FinalLeaderboard.phase_id == phase.id)
        .order_by(FinalLeaderboard.published_at.desc(), FinalLeaderboard.id.desc()).limit(1))


def finals_of(phase: Phase) -> list[FinalLeaderboard]:
    return list(db.session.scalars(
        select(FinalLeaderboard).where(FinalLeaderboard.phase_id == phase.id)
        .order_by(FinalLeaderboard.id.desc())))


def final_json(final: FinalLeaderboard) -> dict:
    return {"published_at": final.published_at.isoformat() + "Z", "columns": final.columns,
            "entries": final.rows}


def _columns(phase: Phase, rows: list[dict]) -> list[dict]:
    """The metric columns with their labels as they read at publication; each also says how
    the board ranked and on which cases (the model has no field of its own for that)."""
    described = ranking_method(phase.ranking_method).describe(ranking_settings(phase))
    return [{"metric": name, "label": METRICS[name].label if name in METRICS else name,
             "definition": METRICS[name].definition if name in METRICS else "",
             "ranked_on": ranked_part(phase), "ranking": described}
            for name in metric_names(phase, rows)]
