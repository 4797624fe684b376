"""Leaderboards: public, served from bytes rendered once per ranking version."""

from __future__ import annotations

import json

from flask import request

from lai_platform import services
from lai_platform.api.blueprint import api_bp
from lai_platform.api.submissions import rank_interval_json
from lai_platform.challenges.lookups import get_phase
from lai_platform.leaderboards.cache import cached_response
from lai_platform.leaderboards.pages import PER_PAGE, leaderboard_rows, page_number
from lai_platform.leaderboards.parts import current_part


@api_bp.get("/challenges/<slug>/phases/<phase_slug>/leaderboard")
def show_leaderboard(slug: str, phase_slug: str):
    page = page_number(request.args.get("page"))
    return cached_response(
        services.get().pages, slug, phase_slug, "json", page,
        lambda: _leaderboard_json(slug, phase_slug, page), "application/json",
    )


def _leaderboard_json(slug: str, phase_slug: str, page: int) -> bytes:
    phase = get_phase(slug, phase_slug)
    rows = [
        {
            "rank": row.rank,
            "is_baseline": row.submission.is_baseline,
            "rank_interval": rank_interval_json(row.result),
            "submission_id": row.submission.id,
            "participant": row.submission.user.display_name,
            "created_at": row.submission.created_at.isoformat() + "Z",
            "metrics": row.metrics.get("metrics", {}),
        }
        for row in leaderboard_rows(phase, page)
    ]
    document = {
        "challenge": slug,
        "phase": phase.slug,
        "primary_metric": phase.primary_metric,
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
    }
    return json.dumps(document, separators=(",", ":")).encode()
