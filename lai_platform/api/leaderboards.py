"""Leaderboards: public, served from bytes rendered once per ranking version."""

from __future__ import annotations

import json

from flask import jsonify, request

from lai_platform import services
from lai_platform.api.blueprint import api_bp
from lai_platform.api.docs import documented
from lai_platform.api.schemas import PAGE, ref
from lai_platform.challenges.lookups import get_phase
from lai_platform.challenges.tasks import task_of
from lai_platform.errors import NotFound
from lai_platform.leaderboards.cache import cached_response
from lai_platform.leaderboards.exports import entry_json
from lai_platform.leaderboards.final import final_json, latest_final
from lai_platform.leaderboards.pages import (
    PER_PAGE,
    leaderboard_columns,
    leaderboard_rows,
    page_number,
)
from lai_platform.leaderboards.parts import current_part


@api_bp.get("/challenges/<slug>/phases/<phase_slug>/leaderboard")
@documented({200: ref("Leaderboard")}, query={"page": PAGE})
def show_leaderboard(slug: str, phase_slug: str):
    page = page_number(request.args.get("page"))
    return cached_response(
        services.get().pages, slug, phase_slug, "json", page,
        lambda: _leaderboard_json(slug, phase_slug, page), "application/json",
    )


def _leaderboard_json(slug: str, phase_slug: str, page: int) -> bytes:
    phase = get_phase(slug, phase_slug)
    rows = [entry_json(row) for row in leaderboard_rows(phase, page)]
    final = latest_final(phase)
    document = {
        "challenge": slug,
        "phase": phase.slug,
        "primary_metric": phase.primary_metric,
        "columns": leaderboard_columns(phase),  # the metrics the page shows, in its order
        "task": task_of(phase.challenge).to_mapping(),
        "ranking": {"method": phase.ranking_method, "metrics": phase.ranking_metrics,
                    "alpha": phase.ranking_alpha},
        "display": phase.display_mode,
        "scored_on": phase.ranked_on or current_part(phase),
        "rank_stability": phase.rank_stability,
        "ranks_version": phase.ranks_version,
        "page": page,
        "per_page": PER_PAGE,
        "total": phase.shown_count,
        "entries": rows,
        # The published final leaderboard (frozen), when there is one: see /leaderboard/final.
        "final_published_at": final.published_at.isoformat() + "Z" if final else None,
    }
    return json.dumps(document, separators=(",", ":")).encode()


@api_bp.get("/challenges/<slug>/phases/<phase_slug>/leaderboard/final")
@documented({200: ref("FinalLeaderboard")})
def show_final_leaderboard(slug: str, phase_slug: str):
    """The latest published final leaderboard, as frozen at publication."""
    phase = get_phase(slug, phase_slug)
    final = latest_final(phase)
    if final is None:
        raise NotFound(f"No final leaderboard has been published for phase '{phase_slug}'.")
    return jsonify({"challenge": slug, "phase": phase.slug, **final_json(final)})
