"""The scoring page: every metric and every ranking method, from the evaluator's registries."""

from __future__ import annotations

from flask import render_template

from evaluator import METRICS, RANKING_METHODS, UNDEFINED_RANKS_LAST
from lai_platform import services
from lai_platform.web.blueprint import web_bp


@web_bp.get("/scoring")
def scoring():
    return render_template(
        "scoring.html",
        metrics=METRICS,
        methods=RANKING_METHODS,
        undefined_ranks=UNDEFINED_RANKS_LAST,
        resamples=services.get().settings.bootstrap_resamples,
    )
