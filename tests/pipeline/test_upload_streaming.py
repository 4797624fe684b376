"""Uploads for a crowd: refused before the body is read, no database connection held while
it streams, cut off at the phase's limit, stored once, nothing left behind when refused."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

import pytest

from lai_platform.extensions import db
from lai_platform.models import ContainerImage, Submission
from tests.docker_images import layer_tar, synthetic_image, write_tarball
from tests.story import Browser, together


class Body(io.RawIOBase):
    """A request body that records how much of it was read (`offset`) and, if asked, how
    many database connections were checked out each time it was read."""

    def __init__(self, data: bytes, watch_pool: bool = False) -> None:
        self.data, self.offset, self.position = data, 0, 0
        self.watch_pool = watch_pool
        self.checked_out: list[int] = []

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures the body this way
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position,
                         io.SEEK_END: len(self.data)}[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        if self.watch_pool:
            self.checked_out.append(db.engine.pool.checkedout())
        chunk = self.data[self.position:self.position + len(buffer)]
        buffer[: len(chunk)] = chunk
        self.position += len(chunk)
        self.offset = max(self.offset, self.position)
        return len(chunk)


def post_raw(ada, body: Body, phase: str = "development", length: int | str | None = None):
    """The bare tarball as the body; `length` declares another Content-Length ("" none)."""
    headers = {"Authorization": f"Bearer {ada.token}", "Content-Type": "application/x-tar"}
    environ = {"wsgi.input_terminated": True}
    if length is not None:
        environ["CONTENT_LENGTH"] = str(length)
    return ada.client.post(f"/api/v1/challenges/lai-liver/phases/{phase}/submissions",
                           input_stream=body, headers=headers, environ_overrides=environ)


def stored_images(platform) -> list[Path]:
    root = platform.services.settings.data_dir / "storage" / "images"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize("who, setup, status, code", [
    ("stranger", None, 403, "not_a_participant"),
    ("ada", "quota", 429, "quota_exceeded"),
    ("ada", "closed", 403, "phase_closed"),
    ("ada", "declared too large", 413, "image_too_large"),
])
def test_refused_before_a_byte_of_the_body_is_read(ada, image, who, setup, status, code):
    platform = ada.platform
    person = platform.participant("stranger@example.org") if who == "stranger" else ada
    length = None
    if setup == "quota":
        platform.set_phase("development", submissions_total=0)
    elif setup == "closed":
        platform.set_phase("development", closes_at=datetime(2000, 1, 1))
    elif setup == "declared too large":
        platform.set_phase("development", image_max_bytes=2**20)
        length = 50 * 2**20
    body = Body(image.read_bytes())
    response = post_raw(person, body, length=length)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert body.offset == 0
    assert stored_images(platform) == []


def test_no_token_is_refused_before_the_body(ada, image):
    body = Body(image.read_bytes())
    response = ada.client.post("/api/v1/challenges/lai-liver/phases/development/submissions",
                               input_stream=body, content_type="application/x-tar",
                               environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 401 and body.offset == 0


def test_no_database_connection_is_held_while_the_body_streams(ada, image):
    body = Body(image.read_bytes(), watch_pool=True)
    response = post_raw(ada, body)
    assert response.status_code == 202, response.get_json()
    assert body.checked_out and max(body.checked_out) == 0


def test_a_body_over_the_limit_is_cut_off_and_nothing_kept(ada, tmp_path):
    ada.platform.set_phase("development", image_max_bytes=2**20)
    big = write_tarball(tmp_path / "big.tar", synthetic_image(
        layers=[layer_tar({"bin/predict": b"x" * (20 * 2**20)})])[0])
    body = Body(big.read_bytes())
    response = post_raw(ada, body, length="")  # no Content-Length: only counting stops it
    assert response.status_code == 413
    assert "limit of 1 MB" in response.get_json()["error"]["message"]
    assert body.offset <= 3 * 2**20  # read up to the limit, plus a chunk
    assert stored_images(ada.platform) == []


def test_a_refused_image_is_not_kept(ada, tmp_path):
    bad = write_tarball(tmp_path / "arm.tar", synthetic_image(architecture="arm64")[0])
    response = ada.submit(bad)
    assert response.status_code == 422
    assert stored_images(ada.platform) == []


def test_the_same_image_twice_is_stored_once(ada, image):
    first = ada.submit(image).get_json()["id"]
    second = post_raw(ada, Body(image.read_bytes())).get_json()["id"]  # the bare-body form
    assert stored_images(ada.platform) and len(stored_images(ada.platform)) == 1
    with ada.platform.app.app_context():
        keys = {db.session.get(Submission, i).image.storage_key for i in (first, second)}
        assert len(keys) == 1
        assert db.session.query(ContainerImage).count() == 2


def test_the_browser_form_needs_its_token_before_the_image(ada, image):
    browser = Browser(ada.platform.app)
    browser.client.post("/auth/login", data={
        "email": "ada@example.org", "password": "correct horse battery",
        "csrf_token": browser.csrf("/auth/login")})
    page = "/challenges/lai-liver/phases/development/submit"
    refused = browser.client.post(page, data={"image": (image.open("rb"), "a.tar")},
                                  content_type="multipart/form-data", follow_redirects=True)
    assert "reload the page" in refused.get_data(as_text=True)
    assert stored_images(ada.platform) == []
    token = browser.csrf(page)
    accepted = browser.client.post(
        page, data={"csrf_token": token, "comment": "first try",
                    "image": (image.open("rb"), "a.tar")},
        content_type="multipart/form-data")
    assert accepted.status_code == 302
    number = int(re.search(r"/submissions/(\d+)", accepted.headers["Location"]).group(1))
    assert ada.submission(number)["comment"] == "first try"


def test_twenty_uploads_at_once_take_exactly_the_quota(demo_platform_any_db, image):
    platform = demo_platform_any_db
    platform.set_phase("development", submissions_per_day=None, submissions_total=15)
    ada = platform.participant("ada@example.org")
    ada.join()
    statuses = [r.status_code for r in together(
        [lambda: post_raw(ada, Body(image.read_bytes())) for _ in range(20)])]
    assert sorted(statuses) == [202] * 15 + [429] * 5
    with platform.app.app_context():
        assert db.session.query(Submission).count() == 15
    assert len(stored_images(platform)) == 1  # one tarball, fifteen submissions
