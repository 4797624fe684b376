"""The published training set, streamed from storage to an approved participant.

Resumable: a `Range` request gets 206 with just those bytes (416 when it starts past the end),
and `If-Range` with the ETag makes sure the resumed bytes belong to the same archive. The
archive's SHA-256 is published (ETag, `Digest`, `X-Content-SHA256`, the challenge JSON) so a
client can check what it assembled.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import BinaryIO

from flask import Response, jsonify, request, stream_with_context
from werkzeug.http import parse_range_header

from lai_platform import services
from lai_platform.errors import NotFound
from lai_platform.extensions import db
from lai_platform.models import Challenge

STREAM_CHUNK = 1024 * 1024


def training_sha256(challenge: Challenge) -> str | None:
    """The archive's SHA-256 (hex); hashed once and kept for archives stored before the
    platform recorded it at load time."""
    if not challenge.training_data_key:
        return None
    if challenge.training_data_sha256 is None:
        digest = hashlib.sha256()
        with services.get().storage.open(challenge.training_data_key) as stream:
            while chunk := stream.read(STREAM_CHUNK):
                digest.update(chunk)
        challenge.training_data_sha256 = digest.hexdigest()
        db.session.commit()
    return challenge.training_data_sha256


def training_data_json(challenge: Challenge) -> dict | None:
    if not challenge.training_data_key:
        return None
    return {"size": _size(challenge), "sha256": training_sha256(challenge)}


def training_data_response(challenge: Challenge) -> Response:
    """Streams the archive (or the requested byte range of it); shared by the API and the
    web page."""
    if not challenge.training_data_key:
        raise NotFound("This challenge publishes no training data.")
    size, sha256 = _size(challenge), training_sha256(challenge)
    etag = f'"sha256-{sha256}"'
    headers = {
        "Content-Disposition": f'attachment; filename="{challenge.slug}-training.tar"',
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "X-Content-SHA256": sha256,
        # RFC 3230 instance digest: of the whole archive, also on a 206.
        "Digest": "sha-256=" + base64.b64encode(bytes.fromhex(sha256)).decode(),
    }
    span = _requested_span(etag, size)
    if span == "unsatisfiable":
        response = jsonify({"error": {"code": "range_not_satisfiable", "message":
                                      f"The training archive has {size} bytes."}})
        response.status_code = 416
        response.headers.update(headers | {"Content-Range": f"bytes */{size}"})
        return response
    storage = services.get().storage
    if span is None:
        stream, status = storage.open(challenge.training_data_key), 200
        headers["Content-Length"] = str(size)
    else:
        start, end = span
        stream, status = storage.open_range(challenge.training_data_key, start, end), 206
        headers |= {"Content-Length": str(end - start + 1),
                    "Content-Range": f"bytes {start}-{end}/{size}"}
    return Response(stream_with_context(_chunks(stream)), status=status,
                    mimetype="application/x-tar", headers=headers)


def _requested_span(etag: str, size: int) -> tuple[int, int] | str | None:
    """(start, end) inclusive for a satisfiable single range, "unsatisfiable", or None for
    the whole archive (no Range, a stale If-Range, a malformed or multi-part Range)."""
    header = request.headers.get("Range")
    if not header:
        return None
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != etag:
        return None  # the partial copy is of another archive: send it whole
    ranges = parse_range_header(header)
    if ranges is None or len(ranges.ranges) != 1:
        return None  # RFC 9110: a Range the server does not understand is ignored
    span = ranges.range_for_length(size)
    if span is None:
        return "unsatisfiable"
    return span[0], span[1] - 1


def _size(challenge: Challenge) -> int:
    if challenge.training_data_size is None:
        challenge.training_data_size = services.get().storage.size(challenge.training_data_key)
        db.session.commit()
    return challenge.training_data_size


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(STREAM_CHUNK):
            yield chunk
