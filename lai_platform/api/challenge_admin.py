"""Challenges as organizers manage them: create (platform admins; JSON from scratch, or a
bundle archive as the body), edit, announcements, the bundle export."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import g, jsonify, request, send_file
from werkzeug.http import parse_options_header

from lai_platform import services
from lai_platform.api.access import organizer_endpoint, platform_admin_endpoint
from lai_platform.api.blueprint import api_bp
from lai_platform.api.docs import documented
from lai_platform.api.errors import json_object
from lai_platform.api.request_bodies import ANNOUNCEMENT_NEW, CHALLENGE_EDIT
from lai_platform.api.schemas import CHANGED, STR, array, obj, ref
from lai_platform.challenges.bundle_export import export_bundle
from lai_platform.challenges.editing import (
    add_announcement,
    announcements_of,
    create_challenge,
    create_from_archive,
    edit_challenge,
    settings_of,
)
from lai_platform.challenges.lookups import get_challenge
from lai_platform.challenges.roles import Permission
from lai_platform.errors import PlatformError
from lai_platform.models import Announcement, Challenge
from lai_platform.submissions.uploads import RAW_TYPES, receive
from lai_platform.web.security import SIGNED_IN_BODY_BYTES

BUNDLE_UPLOAD_BYTES = 4 * 2**30


def challenge_settings_json(challenge: Challenge) -> dict:
    settings = {name: value.isoformat() + "Z" if isinstance(value, datetime) else value
                for name, value in settings_of(challenge).items()}
    return {**settings, "phases": [p.slug for p in challenge.phases]}


def announcement_json(a: Announcement) -> dict:
    return {"id": a.id, "title": a.title, "body": a.body_md,
            "created_at": a.created_at.isoformat() + "Z"}


@api_bp.post("/challenges", endpoint="create_challenge")  # security.py streams this one
@documented({201: ref("ChallengeSettings")}, request=obj(
    {"slug": STR, "title": STR, "first_admin": STR}, required=["slug", "title"]))
@platform_admin_endpoint
def create_challenge_endpoint():
    """JSON {slug, title, first_admin?, ...}, or the bundle archive as the body
    (Content-Type application/gzip, application/x-tar or application/zip; ?slug= and
    ?first_admin= optional)."""
    mimetype, _ = parse_options_header(request.content_type or "")
    if mimetype in (*RAW_TYPES, "application/zip"):
        challenge = _create_from_body()
    else:
        # This route streams archives, so the small-body limit is set here for JSON.
        request.max_content_length = SIGNED_IN_BODY_BYTES
        challenge = create_challenge(g.user, json_object())
    return jsonify(challenge_settings_json(challenge)), 201



def _create_from_body() -> Challenge:
    storage = services.get().storage
    key = f"uploads/bundles/{secrets.token_hex(16)}"
    limit = min(BUNDLE_UPLOAD_BYTES, services.get().settings.max_upload_bytes)
    try:
        receive(request.stream, "application/octet-stream", storage, key, limit)
    except PlatformError as exc:
        if exc.code == "image_too_large":  # the upload helper's words are about images
            raise PlatformError("bad_bundle", "The bundle archive is larger than "
                                f"{limit // 2**30} GB.", 413) from None
        raise
    try:
        with storage.local_path(key) as path:
            return create_from_archive(g.user, path, {
                "slug": request.args.get("slug", ""),
                "first_admin": request.args.get("first_admin", "")})
    finally:
        storage.delete(key)


@api_bp.patch("/challenges/<slug>")
@documented({200: obj({"changed": CHANGED, "challenge": ref("ChallengeSettings")})},
            request=CHALLENGE_EDIT)
@organizer_endpoint(Permission.EDIT)
def edit_challenge_endpoint(challenge: Challenge):
    changed = edit_challenge(g.user, challenge, json_object())
    return jsonify({"changed": sorted(changed), "challenge": challenge_settings_json(challenge)})


@api_bp.post("/challenges/<slug>/announcements")
@documented({201: ref("Announcement")}, request=ANNOUNCEMENT_NEW)
@organizer_endpoint(Permission.EDIT)
def create_announcement_endpoint(challenge: Challenge):
    announcement = add_announcement(g.user, challenge, json_object())
    return jsonify(announcement_json(announcement)), 201


@api_bp.get("/challenges/<slug>/announcements")
@documented({200: obj({"announcements": array(ref("Announcement"))})})
def list_announcements(slug: str):
    """Public, like the challenge page: newest first."""
    return jsonify({"announcements": [announcement_json(a)
                                      for a in announcements_of(get_challenge(slug))]})


@api_bp.get("/challenges/<slug>/bundle")
@documented({200: "application/gzip"})
@organizer_endpoint(Permission.MANAGE)
def export_bundle_endpoint(challenge: Challenge):
    archive, name = export_bundle(g.user, challenge)
    return send_file(archive, mimetype="application/gzip", as_attachment=True,
                     download_name=name)
