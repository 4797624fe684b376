"""Receiving an image: the request body streamed once into storage, hashed and counted on
the way, cut off as soon as it passes the phase's limit. No database connection is held
and nothing is buffered beyond one chunk.

The body is either a multipart form (field `image`, optional `comment`; the browser form
also sends `csrf_token` first) or the bare tarball (`Content-Type: application/x-tar`,
`application/gzip` or `application/octet-stream`; the comment then in `?comment=`).
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import TracebackType
from typing import BinaryIO

from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from lai_platform.errors import PlatformError
from lai_platform.storage import Storage, Writer

CHUNK = 1024 * 1024
MAX_FIELD_BYTES = 8192  # comment, csrf_token: small
# A multipart body carries a few KiB besides the file: headers, boundaries, small fields.
MULTIPART_SLACK = 64 * 1024
RAW_TYPES = ("application/x-tar", "application/gzip", "application/x-gzip",
             "application/octet-stream")


def too_large(limit: int) -> PlatformError:
    return PlatformError(
        "image_too_large",
        f"The image is larger than this phase's limit of {limit / 2**20:.0f} MB. Make it "
        "smaller (a slim base image, no build tools or caches).",
        413,
    )


class ImageSink(AbstractContextManager):
    """Writes an image into storage under `key`, hashing and counting; on any error (the
    limit passed, a broken connection) the object is not kept.

    Storage writes happen on a thread of their own while the caller hashes and reads the next
    chunk (both release the GIL): a large upload costs about one pass over its bytes. At
    most `_AHEAD` chunks wait in memory.
    """

    _AHEAD = 2

    def __init__(self, storage: Storage, key: str, limit: int) -> None:
        self.key, self.limit = key, limit
        self._context = storage.writer(key)
        self._hash = hashlib.sha256()
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=self._AHEAD)
        self._writer: threading.Thread | None = None
        self._error: BaseException | None = None
        self.size = 0

    def __enter__(self) -> ImageSink:
        out = self._context.__enter__()
        self._writer = threading.Thread(target=self._write_all, args=(out,), daemon=True)
        self._writer.start()
        return self

    def _write_all(self, out: Writer) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._error is None:
                try:
                    out.write(chunk)
                except BaseException as error:  # handed to the caller's thread
                    self._error = error

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> bool | None:
        self._chunks.put(None)
        self._writer.join()
        if error is None and self._error is not None:
            kind, error, trace = type(self._error), self._error, self._error.__traceback__
            self._context.__exit__(kind, error, trace)
            raise self._error
        return self._context.__exit__(kind, error, trace)

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise too_large(self.limit)
        if self._error is not None:
            raise self._error
        self._chunks.put(data)
        self._hash.update(data)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


def copy_into(sink: ImageSink, stream: BinaryIO) -> None:
    while chunk := stream.read(CHUNK):
        sink.write(chunk)


@dataclass
class Stored:
    """One file of a form, as stored."""

    key: str
    sha256: str
    size: int


@dataclass
class Received:
    """What a request body held: the stored image (if any) and the small fields; `files`
    holds every stored file by field name (forms with several files)."""

    key: str | None = None
    sha256: str = ""
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, Stored] = field(default_factory=dict)


def receive(stream: BinaryIO, content_type: str | None, storage: Storage, key: str,
            limit: int, check_field: Callable[[str, str | None], None] | None = None) -> Received:
    """Stream the body into storage; `check_field(name, value)` sees each small field as it
    arrives, and ("image", None) as the image begins (it may refuse, which stops the upload
    and keeps nothing)."""
    mimetype, options = parse_options_header(content_type or "")
    if mimetype in RAW_TYPES:
        with ImageSink(storage, key, limit) as sink:
            copy_into(sink, stream)
        return Received(key, sink.sha256, sink.size)
    if mimetype != "multipart/form-data" or "boundary" not in options:
        raise PlatformError(
            "bad_upload",
            "Send the image as the multipart field 'image', or as the request body with "
            "Content-Type: application/x-tar.", 415)
    received = _receive_multipart(stream, options["boundary"].encode(), storage,
                                  {"image": key}, limit, check_field)
    if (image := received.files.get("image")) is not None:
        received.key, received.sha256, received.size = image.key, image.sha256, image.size
    return received


def receive_files(stream: BinaryIO, content_type: str | None, storage: Storage,
                  keys: dict[str, str], limit: int,
                  check_field: Callable[[str, str | None], None] | None = None) -> Received:
    """A multipart form with several files: each field named in `keys` is streamed to its
    key (at most `limit` bytes each); `check_field` as in `receive`."""
    mimetype, options = parse_options_header(content_type or "")
    if mimetype != "multipart/form-data" or "boundary" not in options:
        raise PlatformError("bad_upload", "Send a multipart form with the file fields "
                            f"{', '.join(repr(k) for k in keys)}.", 415)
    return _receive_multipart(stream, options["boundary"].encode(), storage, keys, limit,
                              check_field)


def _receive_multipart(stream: BinaryIO, boundary: bytes, storage: Storage,
                       keys: dict[str, str], limit: int, check_field) -> Received:
    decoder = MultipartDecoder(boundary)  # fields are bounded below, files are streamed
    received, part, value, sink = Received(), None, bytearray(), None
    try:
        while True:
            chunk = stream.read(CHUNK)
            decoder.receive_data(chunk or None)
            event = decoder.next_event()
            while not isinstance(event, NeedData | Epilogue):
                if (isinstance(event, File) and event.name in keys
                        and event.name not in received.files):
                    if check_field is not None:
                        check_field(event.name, None)  # e.g. a CSRF token must come first
                    part = event.name
                    sink = ImageSink(storage, keys[part], limit).__enter__()
                elif isinstance(event, File | Field):
                    part, value = event.name, bytearray()
                elif isinstance(event, Data) and sink is not None:
                    sink.write(event.data)
                    if not event.more_data:
                        sink.__exit__(None, None, None)
                        received.files[part] = Stored(sink.key, sink.sha256, sink.size)
                        part, sink = None, None
                elif isinstance(event, Data) and part is not None:
                    value += event.data
                    if len(value) > MAX_FIELD_BYTES:
                        raise PlatformError("bad_upload", f"The form field {part!r} is too long.")
                    if not event.more_data:
                        received.fields[part] = value.decode("utf-8", "replace")
                        if check_field is not None:
                            check_field(part, received.fields[part])
                event = decoder.next_event()
            if isinstance(event, Epilogue) or not chunk:
                return received
    except BaseException as error:
        if sink is not None:
            sink.__exit__(type(error), error, error.__traceback__)
        for stored in received.files.values():
            storage.delete(stored.key)
        if isinstance(error, ValueError):  # the multipart decoder's word for a broken body
            raise PlatformError("bad_upload", f"The upload is not a valid form: {error}") from None
        raise
