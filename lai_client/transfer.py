"""The training-data download: resumed from a partial file with Range/If-Range, checked
against the published SHA-256. (The image upload, resumable too, is uploading.py.)"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import BinaryIO

import requests

from lai_client.api import Api, ClientError
from lai_client.output import Progress

CHUNK = 1024 * 1024
NETWORK_CHUNK = 64 * 1024  # what a dropped connection can lose of what was in flight


class Dropped(Exception):
    """The connection ended before the whole body arrived (what is written is kept)."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def download_training(api: Api, slug: str, directory: Path, retries: int = 3) -> dict:
    """The training archive in DIRECTORY, resuming a partial file; a summary of the run."""
    published = api.get(f"/challenges/{slug}").get("training_data")
    if not published:
        raise ClientError(f"Challenge '{slug}' publishes no training data.")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{slug}-training.tar"
    summary = {"path": str(target), "size": published["size"], "sha256": published["sha256"],
               "received_bytes": 0, "resumed_at": [], "verified": True}
    if target.exists() and file_sha256(target) == published["sha256"]:
        return summary | {"already_there": True}
    part = Partial(target)
    for attempt in range(retries + 1):
        try:
            _fetch(api, slug, part, published["size"], summary)
            break
        except Dropped as exc:
            if attempt == retries:
                raise ClientError(f"The connection dropped ({exc}); {part.size()} bytes are "
                                  f"kept in {part.path}. Run the same command to resume.") from None
    if file_sha256(part.path) != summary["sha256"]:
        part.discard()  # a damaged partial must not be resumed again
        raise ClientError(f"Checksum mismatch: the downloaded archive is not the one the "
                          f"platform published (sha256 {summary['sha256']}). The damaged "
                          "partial file was removed; run the same command to download again.")
    part.path.replace(target)
    part.discard()
    return summary


class Partial:
    """TARGET.part and, beside it, the ETag of the archive its bytes came from (a partial
    without one is never resumed: its origin is unknown)."""

    def __init__(self, target: Path) -> None:
        self.path = target.with_name(target.name + ".part")
        self.meta = target.with_name(target.name + ".part.json")

    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def etag(self) -> str | None:
        try:
            return str(json.loads(self.meta.read_text())["etag"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def restart(self, etag: str | None) -> BinaryIO:
        self.meta.write_text(json.dumps({"etag": etag}))
        return self.path.open("wb")

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        self.meta.unlink(missing_ok=True)


def _fetch(api: Api, slug: str, part: Partial, size: int, summary: dict) -> None:
    offset, etag = part.size(), part.etag()
    if etag is None or offset > size:
        offset = 0
    if offset and offset == size:
        return  # all there already: only the check is left
    headers = {"Range": f"bytes={offset}-", "If-Range": etag} if offset else {}
    response = api.request("GET", f"/challenges/{slug}/training-data", stream=True,
                           headers=headers)
    summary["sha256"] = response.headers.get("X-Content-SHA256", summary["sha256"])
    with response:
        if response.status_code == 206:
            summary["resumed_at"].append(offset)
            out = part.path.open("ab")
        else:  # 200: the whole archive (first try, or the archive changed since)
            offset, out = 0, part.restart(response.headers.get("ETag"))
        progress = Progress(f"{slug} training data", size, offset)
        with out:
            try:
                for chunk in response.iter_content(NETWORK_CHUNK):
                    out.write(chunk)
                    summary["received_bytes"] += len(chunk)
                    progress.add(len(chunk))
            except (requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ConnectionError) as exc:
                raise Dropped(type(exc).__name__) from None
            finally:
                progress.close()
    if part.size() < size:
        raise Dropped(f"{part.size()} of {size} bytes")
