"""A phase's leaderboard as data: one entry per shown result with every metric and its CI, the
rank and its bootstrap interval. The public JSON, the organizers' exports (CSV, JSON) and the
final leaderboard snapshot all build entries here."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from evaluator import METRICS
from lai_platform.audit import record
from lai_platform.extensions import db
from lai_platform.leaderboards.pages import Row, leaderboard_columns, leaderboard_rows
from lai_platform.leaderboards.parts import current_part
from lai_platform.models import Phase, User
from lai_platform.models._time import utcnow

EXPORT_PAGE = 1000
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PARTS = ("public", "private")


def rank_interval_json(result) -> dict | None:
    if result is None or result.rank_low is None:
        return None
    return {"low": result.rank_low, "high": result.rank_high,
            "hold_probability": result.rank_hold_probability}


def entry_json(row: Row) -> dict[str, Any]:
    """One leaderboard entry as the public sees it (metrics on the part ranks use)."""
    return {
        "rank": row.rank,
        "is_baseline": row.submission.is_baseline,
        "rank_interval": rank_interval_json(row.result),
        "submission_id": row.submission.id,
        "participant": row.submission.user.display_name,
        # A team's entry: the team's name (its row's name), else None.
        "team": row.submission.team.name if row.submission.team else None,
        "created_at": row.submission.created_at.isoformat() + "Z",
        "metrics": row.metrics.get("metrics", {}),
    }


def all_rows(phase: Phase) -> Iterator[Row]:
    """Every shown entry, best first, a page of stored positions at a time."""
    page = 1
    while rows := leaderboard_rows(phase, page, EXPORT_PAGE):
        yield from rows
        page += 1


def ranked_part(phase: Phase) -> str:
    return phase.ranked_on or current_part(phase)


def export_document(phase: Phase, *, full: bool) -> dict[str, Any]:
    """The whole leaderboard; `full` (organizers) adds each part's metrics of a split phase."""
    entries = []
    for row in all_rows(phase):
        entry = entry_json(row)
        if full and phase.has_public_split:
            entry["parts"] = {part: _part_metrics(row, part) for part in PARTS}
        entries.append(entry)
    return {
        "challenge": phase.challenge.slug,
        "phase": phase.slug,
        "exported_at": utcnow().isoformat() + "Z",
        "ranked_on": ranked_part(phase),
        "primary_metric": phase.primary_metric,
        "ranking": {"method": phase.ranking_method, "metrics": phase.ranking_metrics,
                    "alpha": phase.ranking_alpha},
        "display": phase.display_mode,
        "metrics": metric_names(phase, entries),
        "entries": entries,
    }


def metric_names(phase: Phase, entries: list[dict]) -> list[str]:
    """The leaderboard's columns first, then every other metric any entry has."""
    seen = dict.fromkeys(leaderboard_columns(phase))
    for entry in entries:
        for metrics in (entry["metrics"], *entry.get("parts", {}).values()):
            seen.update(dict.fromkeys(metrics))
    order = {name: i for i, name in enumerate(METRICS)}
    first = [n for n in leaderboard_columns(phase)]
    rest = sorted((n for n in seen if n not in first), key=lambda n: (order.get(n, 10**6), n))
    return first + rest


def export_csv(phase: Phase) -> str:
    """The full board as CSV: a row per entry, a value and CI columns per metric (and per
    part of a split phase); text cells cannot start a spreadsheet formula."""
    document = export_document(phase, full=True)
    names = document["metrics"]
    parts = PARTS if phase.has_public_split else ()
    header = ["rank", "rank_low", "rank_high", "rank_hold_probability", "baseline",
              "submission_id", "participant", "team", "created_at", "ranked_on"]
    for prefix in ("", *(f"{part}_" for part in parts)):
        for name in names:
            header += [f"{prefix}{name}", f"{prefix}{name}_ci_low", f"{prefix}{name}_ci_high"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for entry in document["entries"]:
        interval = entry["rank_interval"] or {}
        cells: list[Any] = [entry["rank"], interval.get("low"), interval.get("high"),
                            interval.get("hold_probability"), entry["is_baseline"],
                            entry["submission_id"], entry["participant"], entry["team"],
                            entry["created_at"],
                            document["ranked_on"]]
        for metrics in (entry["metrics"], *(entry["parts"][part] for part in parts)):
            for name in names:
                value = metrics.get(name) or {}
                cells += [value.get("value"), value.get("ci_low"), value.get("ci_high")]
        writer.writerow([safe_cell(cell) for cell in cells])
    return out.getvalue()


def safe_cell(value: Any) -> Any:
    """Text a spreadsheet would read as a formula gets a leading quote (OWASP CSV
    injection); numbers stay numbers (a negative kappa is not a formula)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def record_export(actor: User, phase: Phase, kind: str, entries: int) -> None:
    record(actor, phase.challenge, "leaderboard.export", f"{phase.slug}.{kind}", None,
           {"phase": phase.slug, "format": kind, "entries": entries,
            "ranked_on": ranked_part(phase)})
    db.session.commit()


def _part_metrics(row: Row, part: str) -> dict:
    stored = {"public": row.result.metrics_public, "private": row.result.metrics_private}[part]
    return (stored or {}).get("metrics", {})
