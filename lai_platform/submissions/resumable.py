"""Resumable uploads: an image sent in chunks that survives a dropped connection.

1. `start` runs the early checks of a plain upload (participant, phase open, quota, declared
   size within the limit) and opens a set of parts in storage (S3 multipart behind it).
2. `receive_chunk` stores one chunk as one part, only if its body arrived whole, and moves
   the offset on with a compare-and-set (a chunk sent twice at once is stored once). No
   database connection is held while the body is read. The first chunk must look like a
   tarball: a wrong file is refused after one chunk, not after 4 GB.
3. The last chunk assembles the object, validates it where it lies and registers the
   submission with `admission.register` (quota checked again, atomically): the same path as
   a single-request upload from then on.

A connection that drops loses at most the chunk in flight; `GET` tells the client the offset.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from datetime import datetime, timedelta
from typing import BinaryIO

from sqlalchemy import func, select, update
from werkzeug.exceptions import ClientDisconnected

from lai_platform import services
from lai_platform.challenges.participation import require_approved
from lai_platform.errors import NotFound, PlatformError
from lai_platform.extensions import db
from lai_platform.models import ContainerImage, Phase, Submission, Upload, UploadStatus, User
from lai_platform.models._time import utcnow
from lai_platform.submissions.admission import (
    Ticket,
    check_may_submit,
    inspect_stored,
    register,
    too_large,
)

# An upload left alone this long is dropped (its parts deleted).
IDLE_LIFETIME = timedelta(hours=24)
# An upload begun before its phase closed may finish this long after the close.
GRACE_AFTER_CLOSE = timedelta(hours=1)
MAX_OPEN_PER_PERSON = 5
MAX_CHUNK_BYTES = 64 * 2**20
# A finishing request that has not ended after this long died: another may take over.
FINISHER_GIVEN_UP = timedelta(minutes=15)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_GZIP = b"\x1f\x8b"


def start(user: User, phase: Phase, size: object, filename: str = "",
          sha256: str | None = None, comment: str = "") -> Upload:
    """Open an upload of `size` bytes; refused early exactly as a plain upload would be."""
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise PlatformError("bad_request", 'Send the file\'s size in bytes, e.g. {"size": '
                            '123456}: a whole number above zero.')
    if sha256 is not None and not (isinstance(sha256, str) and _SHA256.match(sha256.lower())):
        raise PlatformError("bad_request", "sha256 must be the file's SHA-256 as 64 hex digits.")
    ticket = check_may_submit(user, phase)
    if size > ticket.max_bytes:
        raise too_large(ticket.max_bytes)
    now = utcnow()
    _expire_stale(user.id, now)
    if _open_uploads(user.id) >= MAX_OPEN_PER_PERSON:
        raise PlatformError(
            "too_many_uploads",
            f"You have {MAX_OPEN_PER_PERSON} unfinished uploads. Finish or cancel one "
            "(DELETE /api/v1/uploads/<id>) before starting another.", 429)
    storage = services.get().storage
    key = ticket.image_key()
    handle = storage.start_parts(key)
    upload = Upload(
        id=secrets.token_hex(16), user_id=user.id, phase_id=phase.id, size=size,
        chunk_bytes=chunk_bytes(), storage_key=key, storage_handle=handle,
        sha256=sha256.lower() if sha256 else None, filename=str(filename or "")[:255],
        comment=str(comment or "")[:500], created_at=now, updated_at=now,
        expires_at=now + IDLE_LIFETIME, offset=0, bytes_received=0,
    )
    db.session.add(upload)
    db.session.commit()
    return upload


def chunk_bytes() -> int:
    """The chunk size clients are told to send: S3 wants parts of at least 5 MiB; a chunk is
    held in memory while it arrives, so never more than MAX_CHUNK_BYTES."""
    found = services.get()
    return max(min(found.settings.upload_chunk_bytes, MAX_CHUNK_BYTES),
               found.storage.min_part_bytes)


def find(upload_id: str, user: User) -> Upload:
    """The user's own upload; anyone else's answers as unknown."""
    upload = db.session.get(Upload, upload_id) if len(upload_id) <= 32 else None
    if upload is None or upload.user_id != user.id:
        raise NotFound("No upload of yours with this id (it may have been cancelled).")
    return upload


def receive_chunk(upload_id: str, user: User, offset: int | None, body: BinaryIO,
                  length: int | None) -> Upload:
    """Store the chunk at `offset` and move on; the last one makes the submission."""
    upload = find(upload_id, user)
    if upload.offset == upload.size and upload.status in (UploadStatus.RECEIVING,
                                                          UploadStatus.FINISHING):
        return _finish(upload)  # every byte is in, but the last request died finishing
    _check_receiving(upload, utcnow())
    if offset is None or offset != upload.offset:
        raise _offset_mismatch(upload)
    expected = min(upload.chunk_bytes, upload.size - upload.offset)
    if length != expected:
        raise PlatformError(
            "bad_chunk", f"Send exactly {expected} bytes from offset {upload.offset} (with "
            f"Content-Length: {expected}); chunks are {upload.chunk_bytes} bytes but the last.",
            400, details={"offset": upload.offset})
    key, handle, number = upload.storage_key, upload.storage_handle, \
        upload.offset // upload.chunk_bytes + 1
    db.session.close()  # no database connection is held while the body streams in
    data = _read_whole(body, expected, upload_id)
    if number == 1 and not looks_like_tarball(data):
        _count_received(upload_id, expected)
        _fail(upload_id, PlatformError(
            "image_not_a_tarball", "This file is not a tarball: upload the file written by "
            "`docker save -o image.tar IMAGE` (or its gzip).", 422))
    services.get().storage.put_part(key, handle, number, data)
    return _advance(upload_id, offset, expected)


def _read_whole(body: BinaryIO, expected: int, upload_id: str) -> bytes:
    """The chunk's bytes, or nothing kept when the connection broke before its end."""
    parts, got = [], 0
    try:
        while got < expected and (piece := body.read(min(2**20, expected - got))):
            parts.append(piece)
            got += len(piece)
    except (ClientDisconnected, OSError):
        pass
    if got < expected:
        _count_received(upload_id, got)
        raise PlatformError("chunk_incomplete", f"Only {got} of {expected} bytes of this "
                            "chunk arrived; none of it was kept. Send it again.", 400)
    return b"".join(parts)


def _advance(upload_id: str, offset: int, length: int) -> Upload:
    now = utcnow()
    moved = db.session.execute(
        update(Upload)
        .where(Upload.id == upload_id, Upload.offset == offset,
               Upload.status == UploadStatus.RECEIVING)
        .values(offset=offset + length, bytes_received=Upload.bytes_received + length,
                updated_at=now, expires_at=now + IDLE_LIFETIME)
    ).rowcount
    db.session.commit()
    upload = db.session.get(Upload, upload_id)
    if not moved:  # the same chunk sent twice at once: the other request moved it
        _count_received(upload_id, length)
        raise _offset_mismatch(upload)
    return _finish(upload) if upload.offset == upload.size else upload


def _finish(upload: Upload) -> Upload:
    """Assemble, validate and register; a refusal marks the upload failed, with why."""
    if not _claim(upload.id):
        raise PlatformError("upload_finishing", "Every byte has arrived; the image is being "
                            "assembled and checked. Ask for the upload again in a moment.",
                            409, details=upload_json(db.session.get(Upload, upload.id)))
    upload = db.session.get(Upload, upload.id)
    # A finisher that died after registering but before saying so made it already.
    made = _registered(upload.storage_key)
    submission_id = made if made is not None else _make_submission(upload)
    db.session.execute(update(Upload).where(Upload.id == upload.id).values(
        status=UploadStatus.COMPLETE, submission_id=submission_id, updated_at=utcnow()))
    db.session.commit()
    return db.session.get(Upload, upload.id)


def _make_submission(upload: Upload) -> int:
    storage = services.get().storage
    try:
        if not storage.exists(upload.storage_key):
            count = math.ceil(upload.size / upload.chunk_bytes)
            storage.finish_parts(upload.storage_key, upload.storage_handle, count)
        sha256 = _sha256_of(upload.storage_key)
        if upload.sha256 and sha256 != upload.sha256:
            storage.delete(upload.storage_key)
            raise PlatformError("upload_corrupted", "The file that arrived does not have the "
                                "SHA-256 you declared: it changed on the way or on your disk. "
                                "Start the upload again.", 422)
        ticket = _ticket(upload)
        info = inspect_stored(storage, upload.storage_key, upload.size, ticket.max_bytes)
        return register(ticket, upload.storage_key, sha256, info, upload.comment).id
    except PlatformError as error:
        if error.status < 500:
            _fail(upload.id, error)
        _release(upload.id)  # the store is away: the client asks again with an empty chunk
        raise
    except BaseException:
        _release(upload.id)
        raise


def _registered(key: str) -> int | None:
    return db.session.scalar(
        select(Submission.id).join(ContainerImage, Submission.image_id == ContainerImage.id)
        .where(ContainerImage.storage_key == key).limit(1))


def _claim(upload_id: str) -> bool:
    """One request finishes an upload: the one that moves it to `finishing` (or takes over
    one whose finisher died long ago)."""
    now = utcnow()
    claimed = db.session.execute(
        update(Upload)
        .where(Upload.id == upload_id, Upload.offset == Upload.size,
               (Upload.status == UploadStatus.RECEIVING)
               | ((Upload.status == UploadStatus.FINISHING)
                  & (Upload.updated_at < now - FINISHER_GIVEN_UP)))
        .values(status=UploadStatus.FINISHING, updated_at=now)
    ).rowcount
    db.session.commit()
    db.session.expire_all()
    return bool(claimed)


def _release(upload_id: str) -> None:
    """A finish that failed for a reason of ours: back to receiving, to be finished again."""
    db.session.rollback()
    db.session.execute(update(Upload).where(
        Upload.id == upload_id, Upload.status == UploadStatus.FINISHING).values(
        status=UploadStatus.RECEIVING))
    db.session.commit()


def _ticket(upload: Upload) -> Ticket:
    participation = require_approved(upload.user, upload.phase.challenge)
    return Ticket(upload.user_id, upload.phase_id, participation.id,
                  upload.phase.image_max_bytes)


def _sha256_of(key: str) -> str:
    digest = hashlib.sha256()
    with services.get().storage.open(key) as stream:
        while chunk := stream.read(2**20):
            digest.update(chunk)
    return digest.hexdigest()


def looks_like_tarball(head: bytes) -> bool:
    """A gzip stream, or a tar whose first header carries the ustar magic."""
    return head[:2] == _GZIP or head[257:262] == b"ustar"


def cancel(upload_id: str, user: User) -> Upload:
    upload = find(upload_id, user)
    if upload.status == UploadStatus.RECEIVING:
        _drop(upload, UploadStatus.ABORTED, None)
    return upload


def _check_receiving(upload: Upload, now: datetime) -> None:
    if upload.status != UploadStatus.RECEIVING:
        raise PlatformError("upload_finished", f"This upload is {upload.status}; nothing more "
                            "is taken for it.", 409, details=upload_json(upload))
    if upload.expires_at <= now:
        _drop(upload, UploadStatus.ABORTED, None)
        raise PlatformError("upload_expired", "This upload was left unfinished for more than "
                            "24 hours and was dropped: start it again.", 410)
    closes = upload.phase.closes_at
    if closes is not None and now >= closes and (upload.created_at >= closes
                                                 or now >= closes + GRACE_AFTER_CLOSE):
        _drop(upload, UploadStatus.ABORTED, None)
        raise PlatformError("phase_closed", f"The phase '{upload.phase.title}' closed; an "
                            "upload begun before the close may finish within an hour of it.",
                            403)


def _fail(upload_id: str, error: PlatformError) -> None:
    """Mark the upload failed with the error, drop its bytes, and raise the error."""
    db.session.rollback()
    upload = db.session.get(Upload, upload_id)
    _drop(upload, UploadStatus.FAILED, error)
    error.details = upload_json(upload)
    raise error


def _drop(upload: Upload, status: str, error: PlatformError | None) -> None:
    storage = services.get().storage
    storage.drop_parts(upload.storage_key, upload.storage_handle)
    if _registered(upload.storage_key) is None:  # a finish cut short may have joined them
        storage.delete(upload.storage_key)
    upload.status, upload.updated_at = status, utcnow()
    if error is not None:
        upload.error_code, upload.error_message = error.code, error.message
    db.session.commit()


def _count_received(upload_id: str, count: int) -> None:
    if count:
        db.session.execute(update(Upload).where(Upload.id == upload_id).values(
            bytes_received=Upload.bytes_received + count))
        db.session.commit()


def _offset_mismatch(upload: Upload) -> PlatformError:
    return PlatformError("offset_mismatch", f"The upload is at byte {upload.offset}: send the "
                         "chunk that starts there.", 409, details=upload_json(upload))


def _open_uploads(user_id: int) -> int:
    return db.session.scalar(select(func.count(Upload.id)).where(
        Upload.user_id == user_id, Upload.status == UploadStatus.RECEIVING)) or 0


def _expire_stale(user_id: int | None, now: datetime) -> int:
    """Drop uploads idle past their lifetime (one person's, or everyone's with None)."""
    # A finishing one past its lifetime lost its finisher and its client.
    query = select(Upload).where(Upload.status.in_((UploadStatus.RECEIVING,
                                                    UploadStatus.FINISHING)),
                                 Upload.expires_at <= now)
    if user_id is not None:
        query = query.where(Upload.user_id == user_id)
    stale = db.session.scalars(query).all()
    for upload in stale:
        made = _registered(upload.storage_key)
        if made is None:
            _drop(upload, UploadStatus.ABORTED, None)
            continue
        upload.status, upload.submission_id = UploadStatus.COMPLETE, made
        db.session.commit()
    return len(stale)


def expire_stale_uploads() -> int:
    """For the reaper: every upload left idle past its lifetime, dropped."""
    return _expire_stale(None, utcnow())


def upload_json(upload: Upload) -> dict:
    error = ({"code": upload.error_code, "message": upload.error_message}
             if upload.error_code else None)
    return {
        "id": upload.id,
        "challenge": upload.phase.challenge.slug,
        "phase": upload.phase.slug,
        "size": upload.size,
        "offset": upload.offset,
        "chunk_bytes": upload.chunk_bytes,
        "bytes_received": upload.bytes_received,
        "status": upload.status,
        "submission_id": upload.submission_id,
        # The submission's state when this answer was made (queued, as a rule).
        "submission_status": (db.session.get(Submission, upload.submission_id).status
                              if upload.submission_id else None),
        "error": error,
        "expires_at": upload.expires_at.isoformat() + "Z",
        "url": f"/api/v1/uploads/{upload.id}",
    }
