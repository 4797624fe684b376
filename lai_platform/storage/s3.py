"""Storage in an S3 bucket (AWS or any S3-compatible store), streamed both ways.

Writes are multipart uploads of bounded parts; reads are one streamed GET that a forward
seek skips along (or, for a long jump, restarts at the new offset with a range request).
"""

from __future__ import annotations

import io
import queue
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import boto3
from botocore.exceptions import ClientError

from lai_platform.storage.keys import check_key
from lai_platform.storage.unavailable import CLIENT_CONFIG, Translating

PART_BYTES = 5 * 2**20  # S3 wants parts of at least 5 MiB (but the last)
_SKIP_BY_READING = 2**20  # a shorter forward seek reads on rather than opening a new GET


class S3Storage:
    min_part_bytes = PART_BYTES

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        # Checksums only where S3 requires them (the platform hashes every upload itself);
        # short time-outs and a store that is down answered as StorageUnavailable (a 503).
        self.client = Translating(
            boto3.client("s3", endpoint_url=endpoint_url, config=CLIENT_CONFIG))

    def ensure_bucket(self) -> bool:
        """Create the bucket when the store has none of that name (a fresh deployment);
        True when it was created. `flask --app app storage init` calls this."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return False
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
                raise  # e.g. 403: the bucket exists but belongs to someone else
        region = self.client.meta.region_name
        # Outside us-east-1, S3 wants the region named again at creation.
        where = ({} if region in (None, "us-east-1")
                 else {"CreateBucketConfiguration": {"LocationConstraint": region}})
        try:
            self.client.create_bucket(Bucket=self.bucket, **where)
        except ClientError as exc:  # another process made it meanwhile
            if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                raise
            return False
        return True

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

    def open_range(self, key: str, start: int, end: int) -> BinaryIO:
        # One bounded GET: the store sends just these bytes, however large the object.
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key),
                                      Range=f"bytes={start}-{end}")["Body"]

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

    def start_parts(self, key: str) -> str:
        return self.client.create_multipart_upload(Bucket=self.bucket,
                                                   Key=self._key(key))["UploadId"]

    def put_part(self, key: str, handle: str, number: int, data: bytes) -> None:
        self.client.upload_part(Bucket=self.bucket, Key=self._key(key), PartNumber=number,
                                UploadId=handle, Body=data)

    def finish_parts(self, key: str, handle: str, count: int) -> None:
        # The store knows each part's ETag: no need to keep them between requests.
        etags: dict[int, str] = {}
        marker = 0
        while True:
            page = self.client.list_parts(Bucket=self.bucket, Key=self._key(key),
                                          UploadId=handle, PartNumberMarker=marker)
            etags |= {p["PartNumber"]: p["ETag"] for p in page.get("Parts", [])}
            if not page.get("IsTruncated"):
                break
            marker = page["NextPartNumberMarker"]
        missing = [n for n in range(1, count + 1) if n not in etags]
        if missing:
            raise ValueError(f"parts missing from the store: {missing[:5]}")
        self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=self._key(key), UploadId=handle,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]}
                                       for n in range(1, count + 1)]})

    def drop_parts(self, key: str, handle: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self._key(key),
                                               UploadId=handle)
        except ClientError:  # already completed or aborted: nothing left to drop
            pass


class _MultipartWriter:
    """Sends each full part from a thread of its own while the next one fills, so a body
    streams in and out at once; at most three parts are in memory. Nothing is visible until
    `complete`."""

    def __init__(self, client, bucket: str, key: str) -> None:
        self.client, self.bucket, self.key = client, bucket, key
        self.upload_id: str | None = None
        self.parts: list[dict] = []
        self.buffer = bytearray()
        self.size = 0
        self._outbox: queue.Queue[tuple[int, bytes | bytearray] | None] = queue.Queue(maxsize=1)
        self._sender: threading.Thread | None = None
        self._error: BaseException | None = None

    def write(self, data: bytes) -> int:
        self.buffer += data
        self.size += len(data)
        if len(self.buffer) >= PART_BYTES:
            part, self.buffer = self.buffer, bytearray()
            self._queue(part)  # handed over, not copied
        return len(data)

    def tell(self) -> int:
        return self.size

    def _queue(self, part: bytes | bytearray) -> None:
        if self._error is not None:
            raise self._error
        if self._sender is None:
            self.upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key)["UploadId"]
            self._sender = threading.Thread(target=self._send_all, daemon=True)
            self._sender.start()
        self._outbox.put((len(self.parts) + 1, part))
        self.parts.append({"PartNumber": len(self.parts) + 1})

    def _send_all(self) -> None:
        while (item := self._outbox.get()) is not None:
            number, part = item
            if self._error is not None:
                continue  # drain: the writer will raise
            try:
                answer = self.client.upload_part(Bucket=self.bucket, Key=self.key,
                                                 PartNumber=number, UploadId=self.upload_id,
                                                 Body=part)
                self.parts[number - 1]["ETag"] = answer["ETag"]
            except BaseException as error:  # handed to the writer's thread
                self._error = error

    def _finish_sending(self) -> None:
        if self._sender is not None:
            self._outbox.put(None)
            self._sender.join()
        if self._error is not None:
            raise self._error

    def complete(self) -> None:
        if self._sender is None:  # small: one plain PUT
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer))
            return
        if self.buffer:
            part, self.buffer = self.buffer, bytearray()
            self._queue(part)
        self._finish_sending()
        self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts})

    def abort(self) -> None:
        if self._sender is not None:
            try:
                self._finish_sending()
            except BaseException:  # the upload is being thrown away anyway
                pass
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key,
                                                   UploadId=self.upload_id)
            except Exception:  # a store that is down: the parts are never an object anyway
                pass


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
