"""A resumable upload of a packed image (the platform's upload protocol: create, PATCH chunks
at the server's offset, GET to learn the offset after a drop; README "Resumable uploads").

A dropped connection, a time-out or a 5xx answer costs at most the chunk in flight: `lai`
waits (1, 2, 4, 8, then 15 s apart) for up to `retry_for` seconds, asks the platform for its
offset and goes on from there. The upload's id is kept in the cache, keyed by the platform,
challenge, phase and the file's SHA-256, so that running the same `lai submit` again after
the process was killed or gave up resumes the same upload."""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

import requests

from lai_client.api import Api, ApiError, ClientError, raise_for_api
from lai_client.config import cache_dir
from lai_client.output import Progress, note
from lai_client.packing import Packed
from lai_client.transfer import file_sha256

BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0)
RETRY_FOR_S = 120.0
# The last chunk's answer waits while the platform assembles and checks the whole image.
LAST_CHUNK_TIMEOUT = (30, 900)
FINISH_POLL_S, FINISH_WAIT_S = 2.0, 1800.0


class UploadState:
    """The id of an unfinished upload, in $XDG_CACHE_HOME/lai/uploads/<key>.json."""

    def __init__(self, server: str, slug: str, phase: str, sha256: str) -> None:
        key = hashlib.sha256(json.dumps([server, slug, phase, sha256]).encode()).hexdigest()
        self.path = cache_dir() / "uploads" / f"{key[:32]}.json"
        self.fields = {"server": server, "challenge": slug, "phase": phase, "sha256": sha256}

    def load(self) -> str | None:
        try:
            return str(json.loads(self.path.read_text())["id"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, upload_id: str) -> None:
        self.path.parent.mkdir(exist_ok=True)
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}")
        partial.write_text(json.dumps(self.fields | {"id": upload_id}))
        partial.replace(self.path)  # whole or absent, even if killed while writing

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def submit_packed(api: Api, slug: str, phase: str, packed: Packed, comment: str,
                  retry_for: float = RETRY_FOR_S) -> dict:
    """Upload PACKED (resuming an earlier run's upload of the same file); the submission."""
    size, sha256 = packed.path.stat().st_size, file_sha256(packed.path)
    state = UploadState(api.url, slug, phase, sha256)
    upload = _earlier(api, state)
    if upload is None:
        upload = api.post(f"/challenges/{slug}/phases/{phase}/uploads", json={
            "size": size, "sha256": sha256, "filename": packed.filename, "comment": comment})
        state.save(upload["id"])
    sender = Sender(api, packed, upload, retry_for)
    upload = sender.run()
    state.clear()
    if packed.cached:
        packed.path.unlink(missing_ok=True)  # the platform has it now, or refused it
    if upload["status"] != "complete":
        error = upload.get("error") or {}
        raise ClientError(error.get("message") or f"The upload ended {upload['status']}.")
    return {"id": upload["submission_id"], "status": _submission_status(api, upload),
            "upload": sender.summary()}


def _earlier(api: Api, state: UploadState) -> dict | None:
    """The upload an earlier run left unfinished, if the platform still has it going."""
    upload_id = state.load()
    if upload_id is None:
        return None
    try:
        upload = api.get(f"/uploads/{upload_id}")
    except ApiError as exc:
        if exc.status not in (404, 410):  # unknown or expired: start a new one
            raise
        upload = {"status": "gone"}
    if upload["status"] in ("receiving", "finishing", "complete"):
        note(f"resuming upload {upload_id} at byte {upload['offset']} of {upload['size']} "
             "(left by an earlier run)")
        return upload
    state.clear()
    return None


def _submission_status(api: Api, upload: dict) -> str:
    if upload.get("submission_status"):
        return str(upload["submission_status"])
    return str(api.get(f"/submissions/{upload['submission_id']}")["status"])


class _Chunk:
    """A chunk's bytes as a request body, counted on the progress bar as they are sent; its
    length gives the request a Content-Length."""

    def __init__(self, data: bytes, sender: Sender) -> None:
        self.data, self.at, self.sender = data, 0, sender

    def __len__(self) -> int:
        return len(self.data)

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.at + size
        piece, self.at = self.data[self.at:end], min(end, len(self.data))
        self.sender.sent += len(piece)
        self.sender.progress.add(len(piece))
        return piece


class Sender:
    """Sends one upload's chunks from the platform's offset until it is complete or failed."""

    def __init__(self, api: Api, packed: Packed, upload: dict, retry_for: float) -> None:
        self.api, self.packed, self.upload, self.retry_for = api, packed, upload, retry_for
        self.size, self.path = int(upload["size"]), f"/uploads/{upload['id']}"
        self.sent, self.resumed_at = 0, [] if not upload["offset"] else [upload["offset"]]
        self.started, self.finishing_since = time.monotonic(), None
        self.progress = Progress(f"uploading {packed.filename}", self.size, upload["offset"])

    def run(self) -> dict:
        if not self.upload["offset"]:  # a resumed upload was announced as such
            note(f"uploading {self.packed.path} ({self.size} bytes) as upload "
                 f"{self.upload['id']}, {self.upload['chunk_bytes']} bytes a chunk")
        try:
            with self.packed.path.open("rb") as stream:
                while self.upload["status"] in ("receiving", "finishing"):
                    if self.upload["status"] == "finishing":
                        self._await_finish()
                    else:
                        self._next(stream)
        finally:
            self.progress.close()
        return self.upload

    def summary(self) -> dict:
        return {"id": self.upload["id"], "size": self.size, "sent_bytes": self.sent,
                "resumed_at": self.resumed_at,
                "seconds": round(time.monotonic() - self.started, 2)}

    def _next(self, stream) -> None:
        offset = int(self.upload["offset"])
        stream.seek(offset)
        data = stream.read(int(self.upload["chunk_bytes"]))
        last = {"timeout": LAST_CHUNK_TIMEOUT} if offset + len(data) >= self.size else {}
        try:
            response = self.api.send(
                "PATCH", self.path, data=_Chunk(data, self), **last,
                headers={"Upload-Offset": str(offset),
                         "Content-Type": "application/offset+octet-stream"})
        except requests.RequestException as exc:
            return self._recover(f"the connection failed ({_why(exc)})")
        code = _error_code(response)
        if response.status_code >= 500 or code == "chunk_incomplete":
            return self._recover(f"the platform answered {response.status_code}"
                                 + (f" ({code})" if code else ""))
        body = _maybe_json(response)
        # The Upload JSON comes with 200, and with the 409 (offset_mismatch, upload_finishing,
        # upload_finished) and 422/429 (the image refused: status failed) answers.
        if "status" not in body or "offset" not in body:
            raise_for_api(response)  # gone (404, 410), phase closed: in the API's words
            raise ClientError(f"The platform answered {response.status_code} without the "
                              "upload's state.")
        if code == "offset_mismatch":
            note(f"the platform holds {body['offset']} bytes, not {offset}: going on from there")
        if code == "upload_finishing":
            body["status"] = "finishing"  # another request of ours is finishing it
        self._moved(body)

    def _await_finish(self) -> None:
        """Every byte is there and the platform assembles and checks the image: ask again."""
        if self.finishing_since is None:
            self.finishing_since = time.monotonic()
            note("every byte has arrived; the platform is checking the image")
        elif time.monotonic() - self.finishing_since > FINISH_WAIT_S:
            raise ClientError("The platform is still checking the image; run the same "
                              "command later to learn the outcome.")
        time.sleep(FINISH_POLL_S)
        try:
            response = self.api.send("GET", self.path)
        except requests.RequestException as exc:
            return self._recover(f"the connection failed ({_why(exc)})")
        if response.status_code >= 500:
            return self._recover(f"the platform answered {response.status_code}")
        raise_for_api(response)
        self._moved(_json(response))

    def _moved(self, upload: dict) -> None:
        self.upload = self.upload | upload
        self.progress.move_to(int(self.upload["offset"]))

    def _recover(self, reason: str) -> None:
        """Wait for the platform to answer again, then learn its offset (bounded in time)."""
        outage, attempt = time.monotonic(), 0
        offset = self.upload["offset"]
        while True:
            waited = time.monotonic() - outage
            if waited >= self.retry_for:
                raise ClientError(
                    f"Gave up after {waited:.0f} s: {reason}. {offset} of {self.size} bytes "
                    "are on the platform; run the same command to resume the upload.")
            pause = min(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)], self.retry_for - waited)
            note(f"{reason} at byte {offset} of {self.size}; retrying in {pause:.0f} s")
            time.sleep(pause)
            attempt += 1
            try:
                response = self.api.send("GET", self.path)
            except requests.RequestException as exc:
                reason = f"the connection failed ({_why(exc)})"
                continue
            if response.status_code >= 500:
                reason = f"the platform answered {response.status_code}"
                continue
            raise_for_api(response)
            self._moved(_json(response))
            self.resumed_at.append(self.upload["offset"])
            note(f"resuming at byte {self.upload['offset']} of {self.size}")
            return


def _error_code(response: requests.Response) -> str | None:
    error = _maybe_json(response).get("error") if response.status_code >= 400 else None
    return str(error["code"]) if isinstance(error, dict) and "code" in error else None


def _maybe_json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _json(response: requests.Response) -> dict[str, Any]:
    body = _maybe_json(response)
    if not body:
        raise ClientError(f"The platform answered {response.status_code} without its JSON.")
    return body


def _why(exc: Exception) -> str:
    text = str(exc)
    for hint in ("Connection refused", "Connection reset", "Connection aborted",
                 "Broken pipe", "timed out", "RemoteDisconnected"):
        if hint in text:
            return hint.lower()
    return type(exc).__name__
