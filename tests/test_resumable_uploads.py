"""Resumable uploads: an image sent in chunks survives a dropped connection, is checked as
early as a plain upload, and becomes a submission exactly once (runs: fake executor)."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import boto3
import pytest
import requests

from lai_platform.extensions import db
from lai_platform.models import ContainerImage, Submission, Upload
from lai_platform.models._time import utcnow
from lai_platform.storage import storage_from_url
from lai_platform.submissions.resumable import expire_stale_uploads
from tests.browsers import serving
from tests.docker_images import layer_tar, synthetic_image, write_tarball
from tests.net import CutUploads
from tests.story import Browser

CHUNK = 4096


@pytest.fixture
def executor_factory(fake):
    return lambda: fake


@pytest.fixture
def chunks(demo_platform):
    demo_platform.set_upload_chunk(CHUNK)
    return demo_platform


def parts_left(platform) -> list:
    folder = platform.services.storage.root / ".parts"
    return [p for p in folder.iterdir() if any(p.iterdir())] if folder.exists() else []


def test_an_image_sent_in_chunks_becomes_a_submission(chunks, ada, image):
    data = image.read_bytes()
    answer = ada.upload_in_chunks(data, comment="chunked", filename="algo.tar",
                                  sha256=hashlib.sha256(data).hexdigest())
    upload = answer.get_json()
    assert answer.status_code == 200 and upload["status"] == "complete"
    assert upload["offset"] == upload["size"] == upload["bytes_received"] == len(data)
    chunks.run_queued()
    sub = ada.submission(upload["submission_id"])
    assert sub["status"] == "succeeded" and sub["comment"] == "chunked"
    with chunks.app.app_context():
        stored = db.session.get(Submission, upload["submission_id"]).image
        assert stored.tarball_sha256 == hashlib.sha256(data).hexdigest()
        assert chunks.services.storage.size(stored.storage_key) == len(data)
    assert parts_left(chunks) == []
    assert ada.get(upload["url"]).get_json()["status"] == "complete"


def test_a_dropped_chunk_is_not_kept_and_the_upload_resumes_where_it_stood(chunks, ada, image):
    data = image.read_bytes()
    cut = CutUploads(chunks.app.wsgi_app, after=0)
    chunks.app.wsgi_app = cut
    headers = {"Authorization": f"Bearer {ada.token}"}
    with serving(chunks.app) as url:
        upload = requests.post(f"{url}/api/v1/challenges/lai-liver/phases/development/uploads",
                               json={"size": len(data)}, headers=headers).json()
        send = _sender(url + upload["url"], headers, data)
        assert send(0).json()["offset"] == CHUNK
        cut.arm(after=CHUNK // 2)  # the network drops half way through the second chunk
        with pytest.raises(requests.ConnectionError):
            send(CHUNK)
        where = requests.get(url + upload["url"], headers=headers).json()
        assert where["offset"] == CHUNK and where["bytes_received"] == CHUNK + CHUNK // 2
        offset = where["offset"]
        while offset < len(data):
            answer = send(offset).json()
            offset = answer["offset"]
    assert answer["status"] == "complete"
    resent = answer["bytes_received"] - len(data)
    assert resent == CHUNK // 2  # only the half chunk in flight was sent twice


def _sender(url: str, headers: dict, data: bytes):
    def send(offset: int) -> requests.Response:
        return requests.patch(url, data=data[offset:offset + CHUNK], timeout=30, headers={
            **headers, "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream"})
    return send


def test_a_chunk_at_the_wrong_offset_is_told_where_the_upload_is(chunks, ada, image):
    data = image.read_bytes()
    upload = ada.open_upload(len(data)).get_json()
    ada.send_chunk(upload["id"], 0, data[:CHUNK])
    again = ada.send_chunk(upload["id"], 0, data[:CHUNK])  # the answer was lost: sent twice
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "offset_mismatch"
    assert again.get_json()["offset"] == CHUNK
    short = ada.send_chunk(upload["id"], CHUNK, data[CHUNK:CHUNK + 10])
    assert short.status_code == 400 and "exactly 4096 bytes" in short.get_json()["error"][
        "message"]
    missing = ada.client.patch(upload["url"], data=data[CHUNK:2 * CHUNK],
                               headers={"Authorization": f"Bearer {ada.token}"})
    assert missing.status_code == 409  # no Upload-Offset header: told the offset


def test_refused_before_a_byte_is_sent_as_a_plain_upload_would_be(chunks, image):
    bob = chunks.participant("bob@example.org")
    assert bob.open_upload(1000).get_json()["error"]["code"] == "not_a_participant"
    bob.join()
    big = bob.open_upload(10 * 2**30)
    assert big.status_code == 413 and "larger than this phase's limit" in big.get_json()[
        "error"]["message"]
    assert bob.open_upload(0).status_code == 400
    assert bob.open_upload("12").status_code == 400
    assert bob.open_upload(10, sha256="nothex").status_code == 400
    chunks.set_phase("development", submissions_total=0)
    assert bob.open_upload(1000).get_json()["error"]["code"] == "quota_exceeded"
    chunks.set_phase("development", submissions_total=None, closes_at=utcnow())
    assert bob.open_upload(1000).get_json()["error"]["code"] == "phase_closed"
    anonymous = chunks.anonymous().open_upload(1000)
    assert anonymous.status_code == 401


def test_a_file_that_is_not_a_tarball_is_refused_after_its_first_chunk(chunks, ada):
    data = b"PK\x03\x04" + b"z" * (3 * CHUNK)
    upload = ada.open_upload(len(data)).get_json()
    answer = ada.send_chunk(upload["id"], 0, data[:CHUNK])
    assert answer.status_code == 422
    assert answer.get_json()["status"] == "failed"
    assert answer.get_json()["error"]["code"] == "image_not_a_tarball"
    assert ada.send_chunk(upload["id"], 0, data[:CHUNK]).status_code == 409
    assert parts_left(chunks) == []


def test_an_invalid_image_fails_with_the_platform_reason_and_uses_no_quota(chunks, ada):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    answer = ada.upload_in_chunks(buffer.getvalue())
    upload = answer.get_json()
    assert answer.status_code == 422 and upload["status"] == "failed"
    assert upload["error"]["code"].startswith("image_")
    assert ada.get(upload["url"]).get_json()["error"] == upload["error"]
    with chunks.app.app_context():
        assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0
        assert db.session.scalar(db.select(db.func.count(ContainerImage.id))) == 0


def test_a_changed_file_is_caught_by_its_declared_checksum(chunks, ada, image):
    data = image.read_bytes()
    answer = ada.upload_in_chunks(data, sha256="0" * 64)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "upload_corrupted"


def test_someone_elses_upload_is_unknown_to_them(chunks, ada, image):
    upload = ada.open_upload(image.stat().st_size).get_json()
    eve = chunks.participant("eve@example.org")
    eve.join()
    assert eve.get(upload["url"]).status_code == 404
    assert eve.send_chunk(upload["id"], 0, image.read_bytes()[:CHUNK]).status_code == 404
    assert eve.client.delete(upload["url"], headers={
        "Authorization": f"Bearer {eve.token}"}).status_code == 404
    assert ada.get(upload["url"]).get_json()["status"] == "receiving"


def test_cancelling_drops_what_was_stored(chunks, ada, image):
    data = image.read_bytes()
    upload = ada.open_upload(len(data)).get_json()
    ada.send_chunk(upload["id"], 0, data[:CHUNK])
    assert parts_left(chunks)
    gone = ada.client.delete(upload["url"], headers={"Authorization": f"Bearer {ada.token}"})
    assert gone.get_json()["status"] == "aborted" and parts_left(chunks) == []
    assert ada.send_chunk(upload["id"], CHUNK, data[CHUNK:2 * CHUNK]).status_code == 409


def test_idle_uploads_expire_and_their_parts_are_dropped(chunks, ada, image):
    data = image.read_bytes()
    upload = ada.open_upload(len(data)).get_json()
    ada.send_chunk(upload["id"], 0, data[:CHUNK])
    with chunks.app.app_context():
        db.session.get(Upload, upload["id"]).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert expire_stale_uploads() == 1
    assert parts_left(chunks) == []
    assert ada.get(upload["url"]).get_json()["status"] == "aborted"


def test_an_upload_begun_before_the_close_may_finish_within_the_grace(chunks, ada, image):
    data = image.read_bytes()
    upload = ada.open_upload(len(data)).get_json()
    chunks.set_phase("development", closes_at=utcnow())  # the deadline passes mid-upload
    offset = 0
    while offset < len(data):
        answer = ada.send_chunk(upload["id"], offset, data[offset:offset + CHUNK]).get_json()
        offset = answer["offset"]
    assert answer["status"] == "complete"
    late = ada.open_upload(len(data))
    assert late.get_json()["error"]["code"] == "phase_closed"


def test_too_late_after_the_close_is_refused(chunks, ada, image):
    data = image.read_bytes()
    upload = ada.open_upload(len(data)).get_json()
    chunks.set_phase("development", closes_at=utcnow() - timedelta(hours=2))
    refused = ada.send_chunk(upload["id"], 0, data[:CHUNK])
    assert refused.status_code == 403 and "within an hour" in refused.get_json()["error"][
        "message"]


def test_the_browser_session_needs_the_pages_csrf_token(chunks, ada, image):
    browser = Browser(chunks.app)
    browser.log_in(ada.email)
    url = "/api/v1/challenges/lai-liver/phases/development/uploads"
    refused = browser.client.post(url, json={"size": 1000})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf_failed"
    token = browser.csrf("/challenges/lai-liver/phases/development/submit")
    opened = browser.client.post(url, json={"size": 1000}, headers={"X-CSRFToken": token})
    assert opened.status_code == 201
    assert browser.client.get(opened.get_json()["url"]).get_json()["offset"] == 0


def test_the_same_last_chunk_sent_twice_at_once_makes_one_submission(
        demo_platform_any_db, fake, image):
    platform = demo_platform_any_db
    platform.set_upload_chunk(CHUNK)
    platform.set_phase("development", submissions_per_day=None)
    ada = platform.participant("ada@example.org")
    ada.join()
    data = image.read_bytes()
    upload = ada.open_upload(len(data)).get_json()
    last = (len(data) - 1) // CHUNK * CHUNK
    for offset in range(0, last, CHUNK):
        ada.send_chunk(upload["id"], offset, data[offset:offset + CHUNK])
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: ada.send_chunk(upload["id"], last, data[last:]),
                                range(20)))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) == 1 and set(codes) <= {200, 409}
    with platform.app.app_context():
        assert db.session.scalar(db.select(db.func.count(Submission.id))) == 1


def test_twenty_people_uploading_at_once_and_one_racing_their_quota(
        demo_platform_any_db, fake, image):
    platform = demo_platform_any_db
    platform.set_upload_chunk(CHUNK)
    platform.set_phase("development", submissions_per_day=None, submissions_total=2)
    data = image.read_bytes()
    people = [platform.participant(f"p{i}@example.org") for i in range(20)]
    for person in people:
        person.join()
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda p: p.upload_in_chunks(data), people))
    assert [a.get_json()["status"] for a in answers] == ["complete"] * 20
    racer = people[0]
    opened = [racer.open_upload(len(data)).get_json() for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        ends = list(pool.map(lambda u: _finish(racer, u, data), opened))
    assert sorted(e["status"] for e in ends) == ["complete", "failed", "failed", "failed"]
    assert {e["error"]["code"] for e in ends if e["error"]} == {"quota_exceeded"}


def _finish(person, upload: dict, data: bytes) -> dict:
    offset, answer = 0, None
    while offset < len(data):
        answer = person.send_chunk(upload["id"], offset, data[offset:offset + CHUNK]).get_json()
        if answer["status"] != "receiving":
            return answer
        offset = answer["offset"]
    return answer


def test_on_s3_each_chunk_is_a_multipart_part(demo_platform, ada, tmp_path, s3_endpoint):
    """Over real S3 HTTP (moto): 5 MiB chunks (the store's minimum), three parts, one object;
    a cancelled upload leaves no multipart upload behind."""
    layer = layer_tar({"bin/predict": b"#!/bin/sh\n", "weights.bin": os.urandom(11 * 2**20)})
    data = write_tarball(tmp_path / "big.tar", synthetic_image(layers=[layer])[0]).read_bytes()
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket="lai")
    store = storage_from_url(f"s3://lai/platform?endpoint_url={s3_endpoint}")
    demo_platform.services.storage = store
    demo_platform.set_upload_chunk(CHUNK)  # raised to S3's 5 MiB part minimum
    answer = ada.upload_in_chunks(data).get_json()
    assert answer["chunk_bytes"] == 5 * 2**20 and answer["status"] == "complete"
    with demo_platform.app.app_context():
        key = db.session.get(Submission, answer["submission_id"]).image.storage_key
    assert store.size(key) == len(data)
    cancelled = ada.open_upload(len(data)).get_json()
    ada.send_chunk(cancelled["id"], 0, data[:5 * 2**20])
    assert store.client.list_multipart_uploads(Bucket="lai").get("Uploads")
    ada.client.delete(cancelled["url"], headers={"Authorization": f"Bearer {ada.token}"})
    assert not store.client.list_multipart_uploads(Bucket="lai").get("Uploads")


def test_a_finisher_that_died_after_registering_is_not_registered_twice(chunks, ada, image):
    data = image.read_bytes()
    done = ada.upload_in_chunks(data).get_json()
    with chunks.app.app_context():  # as if its process died before saying "complete"
        row = db.session.get(Upload, done["id"])
        row.status, row.submission_id = "finishing", None
        row.updated_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    again = ada.send_chunk(done["id"], len(data), b"").get_json()
    assert again["status"] == "complete" and again["submission_id"] == done["submission_id"]
    with chunks.app.app_context():
        assert db.session.scalar(db.select(db.func.count(Submission.id))) == 1
        row = db.session.get(Upload, done["id"])
        row.status, row.expires_at = "finishing", utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert expire_stale_uploads() == 1
        assert db.session.get(Upload, done["id"]).status == "complete"  # its image kept
        key = db.session.get(Submission, done["submission_id"]).image.storage_key
        assert chunks.services.storage.exists(key)


def test_a_finish_cut_short_leaves_no_object_once_expired(chunks, ada, image):
    upload = ada.open_upload(image.stat().st_size).get_json()
    with chunks.app.app_context():
        row = db.session.get(Upload, upload["id"])
        chunks.services.storage.save(row.storage_key, io.BytesIO(image.read_bytes()))
        row.status, row.expires_at = "finishing", utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert expire_stale_uploads() == 1
        assert not chunks.services.storage.exists(row.storage_key)
    assert ada.get(upload["url"]).get_json()["status"] == "aborted"
