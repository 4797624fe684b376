"""Storage in an S3 bucket (AWS or any S3-compatible store), streamed both ways.

Writes are multipart uploads of bounded parts; reads are one streamed GET that a forward
seek skips along (or, for a long jump, restarts at the new offset with a range request).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import boto3
from botocore.exceptions import ClientError

from lai_platform.storage.keys import check_key

PART_BYTES = 16 * 2**20  # S3 wants parts of at least 5 MiB (but the last)
_SKIP_BY_READING = 2**20  # a shorter forward seek reads on rather than opening a new GET


class S3Storage:
    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = boto3.client("s3", endpoint_url=endpoint_url)

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def save(self, key: str, stream: BinaryIO) -> int:
        with self.writer(key) as out:
            while chunk := stream.read(PART_BYTES):
                out.write(chunk)
            return out.size

    @contextmanager
    def writer(self, key: str) -> Iterator[_MultipartWriter]:
        out = _MultipartWriter(self.client, self.bucket, self._key(key))
        try:
            yield out
            out.complete()
        except BaseException:
            out.abort()
            raise

    def open(self, key: str) -> BinaryIO:
        return _RangeReader(self.client, self.bucket, self._key(key))  # type: ignore[return-value]

    def size(self, key: str) -> int:
        return self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"]

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError:
            return False
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="lai-s3-") as tmp:
            path = Path(tmp) / Path(key).name
            self.client.download_file(self.bucket, self._key(key), str(path))
            yield path


class _MultipartWriter:
    """Buffers at most one part in memory; nothing is visible until `complete`."""

    def __init__(self, client, bucket: str, key: str) -> None:
        self.client, self.bucket, self.key = client, bucket, key
        self.upload_id: str | None = None
        self.parts: list[dict] = []
        self.buffer = bytearray()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.buffer += data
        self.size += len(data)
        while len(self.buffer) >= PART_BYTES:
            self._send(bytes(self.buffer[:PART_BYTES]))
            del self.buffer[:PART_BYTES]
        return len(data)

    def tell(self) -> int:
        return self.size

    def _send(self, part: bytes) -> None:
        if self.upload_id is None:
            self.upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key)["UploadId"]
        number = len(self.parts) + 1
        answer = self.client.upload_part(Bucket=self.bucket, Key=self.key, PartNumber=number,
                                         UploadId=self.upload_id, Body=part)
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def complete(self) -> None:
        if self.upload_id is None:  # small: one plain PUT
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer))
            return
        if self.buffer:
            self._send(bytes(self.buffer))
            self.buffer.clear()
        self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts})

    def abort(self) -> None:
        if self.upload_id is not None:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key,
                                               UploadId=self.upload_id)


class _RangeReader(io.RawIOBase):
    """A seekable, read-only view of an object over streamed (range) GETs."""

    def __init__(self, client, bucket: str, key: str) -> None:
        self.client, self.bucket, self.key = client, bucket, key
        self.length = client.head_object(Bucket=bucket, Key=key)["ContentLength"]
        self.position = 0
        self._body = None
        self._body_at = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        if self.position >= self.length:
            return b""
        if size < 0:
            size = self.length - self.position
        self._align()
        data = self._body.read(min(size, self.length - self.position))
        self.position += len(data)
        self._body_at = self.position
        return data

    def _align(self) -> None:
        gap = self.position - self._body_at
        if self._body is not None and 0 <= gap <= _SKIP_BY_READING:
            while gap:
                gap -= len(self._body.read(min(gap, 2**16)) or b"\0" * gap)
            return
        if self._body is not None:
            self._body.close()
        self._body = self.client.get_object(Bucket=self.bucket, Key=self.key,
                                            Range=f"bytes={self.position}-")["Body"]
        self._body_at = self.position

    def close(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None
        super().close()
