"""Leaderboards: one indexed query over stored ranks."""

from __future__ import annotations

from flask import jsonify, request

from lai_platform.api.auth import token_optional
from lai_platform.api.blueprint import api_bp
from lai_platform.api.submissions import rank_interval_json
from lai_platform.challenges.lookups import get_phase
from lai_platform.leaderboards.pages import PER_PAGE, count_shown, leaderboard_rows
from lai_platform.leaderboards.parts import current_part


@api_bp.get("/challenges/<slug>/phases/<phase_slug>/leaderboard")
@token_optional
def show_leaderboard(slug: str, phase_slug: str):
    phase = get_phase(slug, phase_slug)
    page = request.args.get("page", 1, type=int)
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
    return jsonify({
        "challenge": slug,
        "phase": phase.slug,
        "primary_metric": phase.primary_metric,
        "ranking": {"method": phase.ranking_method, "metrics": phase.ranking_metrics,
                    "alpha": phase.ranking_alpha},
        "display": phase.display_mode,
        "scored_on": current_part(phase),
        "rank_stability": phase.rank_stability,
        "page": page,
        "per_page": PER_PAGE,
        "total": count_shown(phase),
        "entries": rows,
    })
