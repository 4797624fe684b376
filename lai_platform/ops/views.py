"""/healthz and /metrics of the web app."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, jsonify, request

from lai_platform import services
from lai_platform.ops import health, metrics

ops_bp = Blueprint("ops", __name__)


@ops_bp.get("/healthz")
def healthz():
    fine, body = health.report(current_app._get_current_object(), "web")
    response = jsonify(body)
    response.status_code = 200 if fine else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@ops_bp.get("/metrics")
def prometheus_metrics():
    token = services.get().settings.metrics_token
    if token:  # counts of runs and queues are not secret, but an operator may say so
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return Response("metrics need the bearer token LAI_METRICS_TOKEN\n", status=401,
                            mimetype="text/plain")
    return Response(metrics.exposition(), mimetype="text/plain; version=0.0.4; charset=utf-8",
                    headers={"Cache-Control": "no-store"})
