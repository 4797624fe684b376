"""bench/load.py's `resumable` scenario: one large image sent in chunks (the resumable upload
API) against the same file in one request, on the production configuration (gunicorn + S3);
then once more with the connection cut half way through a chunk, resumed from the offset the
server holds. Prints time ratios and the bytes sent twice."""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import requests

from stack import Stack


def resumable(quick: bool, *, seed, huge_tarball, post_image, settle) -> Iterator[str]:
    size_gib = 0.25 if quick else 1
    tarball = huge_tarball(size_gib)
    with Stack(production=True) as stack:
        tokens = seed(stack, 3, image_max_bytes=int((size_gib + 1) * 2**30),
                      submissions_per_day=None)
        stack.start_servers()
        started = time.monotonic()
        plain = post_image(stack.base_url, tokens[0], tarball)
        single = time.monotonic() - started
        settle(stack, timeout=600)  # its run done: the next upload has the machine to itself
        started = time.monotonic()
        done = send_in_chunks(stack.base_url, tokens[1], tarball)
        chunked = time.monotonic() - started
        yield (f"{size_gib:g} GiB in one request: {plain.status_code} in {single:.1f} s; in "
               f"{done['chunk_bytes'] // 2**20} MiB chunks: {done['status']} in {chunked:.1f} s "
               f"(ratio {chunked / single:.2f})")
        settle(stack, timeout=600)
        started = time.monotonic()
        done = send_in_chunks(stack.base_url, tokens[2], tarball, cut_at=tarball.stat().st_size
                              // 2)
        took = time.monotonic() - started
        resent = done["bytes_received"] - done["size"]
        yield (f"cut half way through a chunk and resumed: {done['status']} in {took:.1f} s "
               f"(ratio {took / single:.2f} to one request); {resent} bytes sent twice "
               f"({resent / done['chunk_bytes']:.2f} of a chunk; reference: at most 1)")


def send_in_chunks(base: str, token: str, tarball: Path, cut_at: int | None = None) -> dict:
    """Open, send every chunk; at `cut_at` the connection drops half way through the chunk
    (the client then asks where the upload stands and goes on)."""
    auth = {"Authorization": f"Bearer {token}"}
    size = tarball.stat().st_size
    upload = requests.post(f"{base}/api/v1/challenges/lai-liver/phases/development/uploads",
                           json={"size": size}, headers=auth, timeout=60).json()
    with tarball.open("rb") as source:
        while upload["status"] == "receiving":
            source.seek(upload["offset"])
            data = source.read(upload["chunk_bytes"])
            if cut_at is not None and upload["offset"] >= cut_at:
                cut_at = None
                _send_half_then_drop(base + upload["url"], token, upload["offset"], data)
                upload = requests.get(base + upload["url"], headers=auth, timeout=60).json()
                continue
            upload = requests.patch(base + upload["url"], data=data, timeout=600, headers={
                **auth, "Upload-Offset": str(upload["offset"]),
                "Content-Type": "application/offset+octet-stream"}).json()
    return upload


def _send_half_then_drop(url: str, token: str, offset: int, data: bytes) -> None:
    parts = urlparse(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    connection.putrequest("PATCH", parts.path)
    for name, value in {"Authorization": f"Bearer {token}", "Upload-Offset": str(offset),
                        "Content-Type": "application/offset+octet-stream",
                        "Content-Length": str(len(data))}.items():
        connection.putheader(name, value)
    connection.endheaders()
    connection.send(data[: len(data) // 2])
    connection.close()  # the network is gone: the server reads a short body
    time.sleep(1)
