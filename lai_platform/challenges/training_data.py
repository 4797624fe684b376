"""The published training set, streamed from storage to an approved participant."""

from __future__ import annotations

from flask import Response, stream_with_context

from lai_platform import services
from lai_platform.errors import NotFound
from lai_platform.models import Challenge

STREAM_CHUNK = 1024 * 1024


def training_data_response(challenge: Challenge) -> Response:
    """Streams the archive from storage in chunks; shared by the API and the web page."""
    if not challenge.training_data_key:
        raise NotFound("This challenge publishes no training data.")
    stream = services.get().storage.open(challenge.training_data_key)

    def chunks():
        with stream:
            while chunk := stream.read(STREAM_CHUNK):
                yield chunk

    headers = {"Content-Disposition": f'attachment; filename="{challenge.slug}-training.tar"'}
    if challenge.training_data_size:
        headers["Content-Length"] = str(challenge.training_data_size)
    return Response(stream_with_context(chunks()), mimetype="application/x-tar", headers=headers)
