"""Leaderboard exports for organizers (the full board, private part included) and publishing
the final leaderboard."""

from __future__ import annotations

from flask import Response, g, jsonify

from lai_platform.api.access import organizer_endpoint
from lai_platform.api.blueprint import api_bp
from lai_platform.api.docs import documented
from lai_platform.api.errors import json_object
from lai_platform.api.schemas import BOOL, INT, obj, optional, ref
from lai_platform.challenges.checks import flag
from lai_platform.challenges.lookups import phase_in
from lai_platform.challenges.roles import Permission
from lai_platform.leaderboards.exports import export_csv, export_document, record_export
from lai_platform.leaderboards.final import final_json, publish_final
from lai_platform.models import Challenge

BASE = "/challenges/<slug>/phases/<phase_slug>"


@api_bp.get(f"{BASE}/leaderboard.csv")
@documented({200: "text/csv"})
@organizer_endpoint(Permission.VIEW)
def export_leaderboard_csv(challenge: Challenge, phase_slug: str):
    phase = phase_in(challenge, phase_slug)
    body = export_csv(phase)
    record_export(g.user, phase, "csv", max(body.count("\n") - 1, 0))
    return Response(body, mimetype="text/csv", headers={"Cache-Control": "no-store"})


@api_bp.get(f"{BASE}/leaderboard/export.json")
@documented({200: ref("LeaderboardExport")})
@organizer_endpoint(Permission.VIEW)
def export_leaderboard_json(challenge: Challenge, phase_slug: str):
    phase = phase_in(challenge, phase_slug)
    document = export_document(phase, full=True)
    record_export(g.user, phase, "json", len(document["entries"]))
    response = jsonify(document)
    response.headers["Cache-Control"] = "no-store"
    return response


@api_bp.post(f"{BASE}/final")
@documented({201: {"allOf": [ref("FinalLeaderboard"), obj({"id": INT})]}},
            request=optional({"close_now": BOOL}))
@organizer_endpoint(Permission.MANAGE)
def publish_final_leaderboard(challenge: Challenge, phase_slug: str):
    """Body {"close_now": true} closes an open phase first; otherwise an open phase is
    refused (409)."""
    phase = phase_in(challenge, phase_slug)
    final = publish_final(g.user, phase, close_now=flag(json_object().get("close_now")))
    return jsonify({"challenge": challenge.slug, "phase": phase.slug, "id": final.id,
                    **final_json(final)}), 201
