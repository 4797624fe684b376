"""File storage behind one small interface: a local folder, or S3 (any S3-compatible store)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import parse_qs, urlparse

from lai_platform.storage.keys import check_key
from lai_platform.storage.local import LocalStorage
from lai_platform.storage.s3 import S3Storage
from lai_platform.storage.unavailable import StorageUnavailable


class Writer(Protocol):
    def write(self, data: bytes) -> int: ...


class Storage(Protocol):
    def save(self, key: str, stream: BinaryIO) -> int: ...

    def writer(self, key: str) -> AbstractContextManager[Writer]:
        """Write an object piece by piece; it appears whole when the `with` ends without an
        error, and not at all otherwise. Memory stays flat whatever the size."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The object's bytes; the stream can seek (forward seeks skip what is not read)."""
        ...

    def open_range(self, key: str, start: int, end: int) -> BinaryIO:
        """Bytes start..end (inclusive) of the object, fetched as one bounded read (an
        HTTP Range GET on S3), for resumable downloads."""
        ...

    def size(self, key: str) -> int: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...

    def local_path(self, key: str) -> AbstractContextManager[Path]:
        """A readable local file with the object's bytes."""
        ...

    # Parts: an object assembled from numbered pieces sent at different times (resumable
    # uploads; S3 multipart behind it). Nothing is visible under `key` before `finish_parts`.
    min_part_bytes: int

    def start_parts(self, key: str) -> str:
        """Begin; the handle names this set of parts."""
        ...

    def put_part(self, key: str, handle: str, number: int, data: bytes) -> None:
        """Store part `number` (1, 2, ...); sending the same number again replaces it."""
        ...

    def finish_parts(self, key: str, handle: str, count: int) -> None:
        """Join parts 1..count into the object under `key`; the parts are gone after."""
        ...

    def drop_parts(self, key: str, handle: str) -> None: ...


def storage_from_url(url: str) -> Storage:
    """`file:///abs/path` or `s3://bucket/prefix?endpoint_url=http://127.0.0.1:9000`."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(Path(parsed.path))
    if parsed.scheme == "s3":
        endpoint = parse_qs(parsed.query).get("endpoint_url", [None])[0]
        return S3Storage(parsed.netloc, parsed.path, endpoint_url=endpoint)
    raise ValueError(f"LAI_STORAGE_URL must start with file:// or s3://, got {url!r}")


__all__ = ["LocalStorage", "S3Storage", "Storage", "StorageUnavailable", "Writer", "check_key",
           "storage_from_url"]
