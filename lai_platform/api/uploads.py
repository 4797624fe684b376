"""Resumable uploads of a submission's image: open, send chunks at offsets, ask where it
stands, cancel (lai_platform/submissions/resumable.py does the work). The platform's own
submit page uses them too, with its session and CSRF token."""

from __future__ import annotations

from flask import g, jsonify, request

from lai_platform.api.auth import token_or_session_user
from lai_platform.api.blueprint import api_bp
from lai_platform.api.docs import documented
from lai_platform.api.errors import json_object
from lai_platform.api.schemas import CHUNK, NEW_UPLOAD, ref
from lai_platform.challenges.lookups import get_phase
from lai_platform.errors import PlatformError
from lai_platform.submissions import resumable

CHUNK_TYPE = "application/offset+octet-stream"


@api_bp.post("/challenges/<slug>/phases/<phase_slug>/uploads")
@documented({201: ref("Upload")}, request=NEW_UPLOAD)
@token_or_session_user
def start_upload(slug: str, phase_slug: str):
    """Open a resumable upload of SIZE bytes; then PATCH its chunks. Refused at once when a
    plain upload would be (not a participant, phase closed, quota used, too large)."""
    body = json_object()
    upload = resumable.start(g.user, get_phase(slug, phase_slug), body.get("size"),
                             filename=_text(body, "filename"), sha256=body.get("sha256"),
                             comment=_text(body, "comment"))
    return jsonify(resumable.upload_json(upload)), 201


@api_bp.get("/uploads/<upload_id>")
@documented({200: ref("Upload")})
@token_or_session_user
def show_upload(upload_id: str):
    """Where an upload stands: send the chunk at `offset` next."""
    return jsonify(resumable.upload_json(resumable.find(upload_id, g.user)))


@api_bp.patch("/uploads/<upload_id>")
@documented({200: ref("Upload"), 422: ref("Upload")}, request=CHUNK, request_type=CHUNK_TYPE)
@token_or_session_user
def send_upload_chunk(upload_id: str):
    """The chunk starting at the `Upload-Offset` header: `chunk_bytes` bytes, fewer only for
    the last. The last one makes the submission (`status` complete, `submission_id`), or
    says why the image was refused (`status` failed, `error`)."""
    upload = resumable.receive_chunk(upload_id, g.user, _offset(), request.stream,
                                     request.content_length)
    return jsonify(resumable.upload_json(upload))


@api_bp.delete("/uploads/<upload_id>")
@documented({200: ref("Upload")})
@token_or_session_user
def cancel_upload(upload_id: str):
    """Stop an unfinished upload and drop what it stored (a finished one is left as is)."""
    return jsonify(resumable.upload_json(resumable.cancel(upload_id, g.user)))


def _offset() -> int | None:
    value = request.headers.get("Upload-Offset", "")
    return int(value) if value.isdigit() and len(value) < 20 else None


def _text(body: dict, name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise PlatformError("bad_request", f"{name} must be a string.")
    return value
