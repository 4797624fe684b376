"""Storage backends: a local folder, and S3 over real HTTP (moto's S3 server on loopback)."""

from __future__ import annotations

import io
import os
import uuid

import boto3
import pytest

from lai_platform.storage import LocalStorage, S3Storage, storage_from_url


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path, s3_endpoint):
    if request.param == "local":
        return storage_from_url(f"file://{tmp_path / 'store'}")
    bucket = f"lai-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    return storage_from_url(f"s3://{bucket}/prefix?endpoint_url={s3_endpoint}")


def test_round_trip(storage):
    payload = b"x" * (3 * 1024 * 1024 + 17)  # more than one multipart chunk
    assert storage.save("images/1/abc.tar", io.BytesIO(payload)) == len(payload)
    assert storage.exists("images/1/abc.tar")
    with storage.open("images/1/abc.tar") as stream:
        assert stream.read() == payload
    with storage.local_path("images/1/abc.tar") as path:
        assert path.read_bytes() == payload
    storage.delete("images/1/abc.tar")
    assert not storage.exists("images/1/abc.tar")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/./b", ""])
def test_keys_cannot_escape(storage, key):
    with pytest.raises(ValueError):
        storage.save(key, io.BytesIO(b"x"))


def test_storage_urls(tmp_path):
    assert isinstance(storage_from_url(f"file://{tmp_path}"), LocalStorage)
    assert isinstance(storage_from_url("s3://bucket/p?endpoint_url=http://127.0.0.1:1"), S3Storage)
    with pytest.raises(ValueError, match="file:// or s3://"):
        storage_from_url("ftp://x")


def test_a_writer_streams_parts_and_readers_seek(storage):
    payload = os.urandom(3 * 2**20) * 7  # 21 MiB: several parts
    with storage.writer("images/2/big.tar") as out:
        for start in range(0, len(payload), 2**20):
            out.write(payload[start:start + 2**20])
    assert storage.size("images/2/big.tar") == len(payload)
    with storage.open("images/2/big.tar") as stream:
        assert stream.read(10) == payload[:10]
        stream.seek(5 * 2**20)  # a long jump forward
        assert stream.read(100) == payload[5 * 2**20:5 * 2**20 + 100]
        stream.seek(100, io.SEEK_CUR)  # a short one
        assert stream.read(5) == payload[5 * 2**20 + 200:5 * 2**20 + 205]
        stream.seek(0)  # and back
        assert stream.read(4) == payload[:4]
        stream.seek(-3, io.SEEK_END)
        assert stream.read() == payload[-3:]


def test_a_failed_write_leaves_nothing(storage):
    with pytest.raises(RuntimeError), storage.writer("images/3/cut.tar") as out:
        out.write(os.urandom(9 * 2**20))  # a part is already on its way
        raise RuntimeError("the client went away")
    assert not storage.exists("images/3/cut.tar")


def test_parts_sent_at_different_times_join_into_one_object(storage):
    """Resumable uploads: parts in any order, one sent twice, joined in number order."""
    size = storage.min_part_bytes if storage.min_part_bytes > 1 else 4096
    pieces = [os.urandom(size), os.urandom(size), b"tail"]
    handle = storage.start_parts("images/1/parts.tar")
    storage.put_part("images/1/parts.tar", handle, 2, pieces[1])
    storage.put_part("images/1/parts.tar", handle, 1, b"replaced" * 10)
    storage.put_part("images/1/parts.tar", handle, 1, pieces[0])  # sent again: replaces
    storage.put_part("images/1/parts.tar", handle, 3, pieces[2])
    assert not storage.exists("images/1/parts.tar")  # nothing visible before the end
    storage.finish_parts("images/1/parts.tar", handle, 3)
    with storage.open("images/1/parts.tar") as stream:
        assert stream.read() == b"".join(pieces)


def test_dropped_parts_leave_nothing(storage):
    handle = storage.start_parts("images/1/dropped.tar")
    storage.put_part("images/1/dropped.tar", handle, 1, b"x" * 100)
    storage.drop_parts("images/1/dropped.tar", handle)
    storage.drop_parts("images/1/dropped.tar", handle)  # twice: harmless
    assert not storage.exists("images/1/dropped.tar")
    if isinstance(storage, S3Storage):
        pending = storage.client.list_multipart_uploads(Bucket=storage.bucket)
        assert pending.get("Uploads", []) == []
    else:
        assert not any((storage.root / ".parts").iterdir())
        with pytest.raises(ValueError):  # a handle never names a path outside the parts
            storage.put_part("images/1/dropped.tar", "../../etc", 1, b"x")
