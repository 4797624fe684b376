"""A phase's leaderboard page, for a crowd of readers.

The board itself is rendered once per ranking version; visitors who are not logged in get
the whole page as cached bytes with an ETag, logged-in people a page around the cached board.
"""

from __future__ import annotations

from flask import g, render_template, request, session
from markupsafe import Markup

from evaluator import METRICS, ranking_method
from lai_platform import services
from lai_platform.challenges.lookups import get_phase
from lai_platform.leaderboards.cache import cached_response
from lai_platform.leaderboards.final import latest_final
from lai_platform.leaderboards.pages import (
    leaderboard_columns,
    leaderboard_rows,
    page_count,
    page_number,
)
from lai_platform.leaderboards.parts import current_part
from lai_platform.leaderboards.ranks import ranking_settings
from lai_platform.web import charts
from lai_platform.web.blueprint import web_bp


@web_bp.get("/challenges/<slug>/phases/<phase_slug>/leaderboard")
def leaderboard(slug: str, phase_slug: str):
    page = page_number(request.args.get("page"))
    cache = services.get().pages
    if g.user is None and not session:  # nothing personal on the page: the shared bytes
        return cached_response(cache, slug, phase_slug, "html", page,
                               lambda: _page(slug, phase_slug, page).encode(), "text/html")
    return _page(slug, phase_slug, page)


def _page(slug: str, phase_slug: str, page: int) -> str:
    cache = services.get().pages
    phase_id, version = cache.phase_version(slug, phase_slug)
    _, board = cache.page((phase_id, "board", page), version,
                          lambda: _board(slug, phase_slug, page).encode())
    phase = get_phase(slug, phase_slug)
    return render_template("leaderboard.html", phase=phase, board=Markup(board.decode()),
                           final=latest_final(phase))


def _board(slug: str, phase_slug: str, page: int) -> str:
    phase = get_phase(slug, phase_slug)
    rows = leaderboard_rows(phase, page)
    return render_template(
        "_leaderboard_board.html",
        phase=phase,
        page=page,
        pages=page_count(phase),
        challenge=phase.challenge,
        rows=rows,
        stability_picture=_stability_picture(rows),
        part=phase.ranked_on or current_part(phase),
        ranking_text=ranking_method(phase.ranking_method).describe(ranking_settings(phase)),
        metric_names=leaderboard_columns(phase),
        metrics=METRICS,
    )


def _stability_picture(rows) -> Markup | None:
    entries = [
        {"label": stability_label(row.rank, row.submission.entrant_name,
                                  row.submission.is_baseline),
         "rank": row.rank, "low": row.result.rank_low, "high": row.result.rank_high,
         "hold_probability": row.result.rank_hold_probability,
         "baseline": row.submission.is_baseline}
        for row in rows
        if row.result.rank_low is not None
    ]
    return charts.rank_intervals_svg(entries) if len(entries) >= 2 else None


def stability_label(rank: int | None, name: str, baseline: bool) -> str:
    """As the table's rank and name columns read: "1 Ada"; a baseline "(1) baseline Ada",
    with the rank it would have, taking none (the word first: long names are cut)."""
    shown = "–" if rank is None else str(rank)
    return f"({shown}) baseline {name}" if baseline else f"{shown} {name}"
