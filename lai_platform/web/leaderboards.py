"""A phase's leaderboard page."""

from __future__ import annotations

from flask import render_template, request

from evaluator import METRICS, ranking_method
from lai_platform.challenges.lookups import get_phase
from lai_platform.leaderboards.pages import leaderboard_columns, leaderboard_rows, page_count
from lai_platform.leaderboards.parts import current_part
from lai_platform.leaderboards.ranks import ranking_settings
from lai_platform.web import charts
from lai_platform.web.blueprint import web_bp


@web_bp.get("/challenges/<slug>/phases/<phase_slug>/leaderboard")
def leaderboard(slug: str, phase_slug: str):
    phase = get_phase(slug, phase_slug)
    page = max(request.args.get("page", 1, type=int), 1)
    rows = leaderboard_rows(phase, page)
    return render_template(
        "leaderboard.html",
        phase=phase,
        page=page,
        pages=page_count(phase),
        challenge=phase.challenge,
        rows=rows,
        stability_picture=_stability_picture(rows),
        part=current_part(phase),
        ranking_text=ranking_method(phase.ranking_method).describe(ranking_settings(phase)),
        metric_names=leaderboard_columns(phase),
        metrics=METRICS,
    )


def _stability_picture(rows):
    entries = [
        {"label": f"#{row.submission.id} {row.submission.user.display_name}", "rank": row.rank,
         "low": row.result.rank_low, "high": row.result.rank_high,
         "hold_probability": row.result.rank_hold_probability}
        for row in rows
        if row.result.rank_low is not None
    ]
    return charts.rank_intervals_svg(entries) if len(entries) >= 2 else None
