"""The training-data download serves byte ranges (206, 416, If-Range) and publishes the
archive's SHA-256 (ETag, Digest, X-Content-SHA256, the challenge JSON); storage reads a
bounded range on both backends."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid

import boto3
import pytest

from lai_platform.extensions import db
from lai_platform.models import Challenge
from lai_platform.storage import storage_from_url

URL = "/api/v1/challenges/lai-liver/training-data"


@pytest.fixture
def ada(demo_platform):
    person = demo_platform.participant("ada@example.org")
    person.join()
    return person


def whole(ada) -> bytes:
    response = ada.get(URL)
    assert response.status_code == 200
    return response.get_data()


def ranged(ada, headers: dict):
    return ada.client.get(URL, headers=ada._headers() | headers)


def test_the_published_sha256_is_the_archives(ada):
    body = whole(ada)
    sha = hashlib.sha256(body).hexdigest()
    response = ada.get(URL)
    assert response.headers["X-Content-SHA256"] == sha
    assert response.headers["ETag"] == f'"sha256-{sha}"'
    assert response.headers["Digest"] == "sha-256=" + base64.b64encode(
        hashlib.sha256(body).digest()).decode()
    assert response.headers["Accept-Ranges"] == "bytes"
    assert ada.get("/api/v1/challenges/lai-liver").get_json()["training_data"] == {
        "size": len(body), "sha256": sha}


def test_a_range_is_served_as_206(ada):
    body = whole(ada)
    etag = ada.get(URL).headers["ETag"]
    response = ranged(ada, {"Range": "bytes=100-", "If-Range": etag})
    assert response.status_code == 206
    assert response.get_data() == body[100:]
    assert response.headers["Content-Range"] == f"bytes 100-{len(body) - 1}/{len(body)}"
    assert response.headers["Content-Length"] == str(len(body) - 100)
    middle = ranged(ada, {"Range": "bytes=10-19"})
    assert (middle.status_code, middle.get_data()) == (206, body[10:20])
    suffix = ranged(ada, {"Range": "bytes=-5"})
    assert (suffix.status_code, suffix.get_data()) == (206, body[-5:])


def test_a_range_past_the_end_is_416(ada):
    size = len(whole(ada))
    response = ranged(ada, {"Range": f"bytes={size}-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{size}"
    assert response.get_json()["error"]["code"] == "range_not_satisfiable"


def test_a_stale_if_range_gets_the_whole_archive(ada):
    body = whole(ada)
    response = ranged(ada, {"Range": "bytes=100-", "If-Range": '"sha256-another"'})
    assert (response.status_code, response.get_data()) == (200, body)
    several = ranged(ada, {"Range": "bytes=0-1,5-6"})  # multi-part ranges: sent whole
    assert (several.status_code, several.get_data()) == (200, body)


def test_ranges_need_the_same_rights(demo_platform, ada):
    outsider = demo_platform.participant("eve@example.org")
    assert ranged(outsider, {"Range": "bytes=0-9"}).status_code == 403


def test_an_archive_stored_before_hashes_once(demo_platform, ada):
    body = whole(ada)
    with demo_platform.app.app_context():
        challenge = db.session.scalar(db.select(Challenge))
        challenge.training_data_sha256 = None
        db.session.commit()
    assert ada.get(URL).headers["X-Content-SHA256"] == hashlib.sha256(body).hexdigest()
    with demo_platform.app.app_context():
        assert db.session.scalar(db.select(Challenge)).training_data_sha256 == (
            hashlib.sha256(body).hexdigest())


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_storage_reads_a_bounded_range(backend, tmp_path, s3_endpoint):
    if backend == "local":
        store = storage_from_url(f"file://{tmp_path / 'store'}")
    else:
        bucket = f"lai-test-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
        store = storage_from_url(f"s3://{bucket}/p?endpoint_url={s3_endpoint}")
    payload = bytes(range(256)) * 1000
    store.save("a/b.tar", io.BytesIO(payload))
    with store.open_range("a/b.tar", 1000, 2999) as stream:
        assert stream.read() == payload[1000:3000]
    with store.open_range("a/b.tar", 255_990, 255_999) as stream:
        assert stream.read(4) + stream.read() == payload[-10:]
