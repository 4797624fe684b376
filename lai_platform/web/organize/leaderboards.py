"""Organizer pages: each phase's leaderboard exports (CSV, JSON) and publishing the final
leaderboard."""

from __future__ import annotations

import json

from flask import Response, flash, g, redirect, render_template, request, url_for

from lai_platform.challenges.checks import flag
from lai_platform.challenges.lookups import phase_in
from lai_platform.challenges.roles import Permission
from lai_platform.errors import PlatformError
from lai_platform.leaderboards.exports import export_csv, export_document, record_export
from lai_platform.leaderboards.final import finals_of, publish_final
from lai_platform.models import Challenge
from lai_platform.models._time import utcnow
from lai_platform.web.organize.access import organizer_page
from lai_platform.web.organize.blueprint import organize_bp


@organize_bp.get("/<slug>/leaderboards")
@organizer_page(Permission.VIEW)
def leaderboards(challenge: Challenge):
    return render_template("organize/leaderboards.html", challenge=challenge,
                           finals={p.id: finals_of(p) for p in challenge.phases},
                           now=utcnow())


@organize_bp.get("/<slug>/phases/<phase_slug>/leaderboard.csv")
@organizer_page(Permission.VIEW)
def export_csv_page(challenge: Challenge, phase_slug: str):
    phase = phase_in(challenge, phase_slug)
    body = export_csv(phase)
    record_export(g.user, phase, "csv", max(body.count("\n") - 1, 0))
    return _download(body, "text/csv", f"{challenge.slug}-{phase.slug}-leaderboard.csv")


@organize_bp.get("/<slug>/phases/<phase_slug>/leaderboard.json")
@organizer_page(Permission.VIEW)
def export_json_page(challenge: Challenge, phase_slug: str):
    phase = phase_in(challenge, phase_slug)
    document = export_document(phase, full=True)
    record_export(g.user, phase, "json", len(document["entries"]))
    return _download(json.dumps(document, indent=1), "application/json",
                     f"{challenge.slug}-{phase.slug}-leaderboard.json")


@organize_bp.post("/<slug>/phases/<phase_slug>/final")
@organizer_page(Permission.MANAGE)
def publish_page(challenge: Challenge, phase_slug: str):
    phase = phase_in(challenge, phase_slug)
    try:
        final = publish_final(g.user, phase, close_now=flag(request.form.get("close_now")))
    except PlatformError as exc:
        flash(exc.message, "error")
        return redirect(url_for("organize.leaderboards", slug=challenge.slug))
    flash(f"Final leaderboard of '{phase.title}' published "
          f"({final.published_at:%Y-%m-%d %H:%M} UTC, {len(final.rows)} entries).", "success")
    return redirect(url_for("organize.leaderboards", slug=challenge.slug))


def _download(body: str, mimetype: str, name: str) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",  # organizers' data, private part included
    })
