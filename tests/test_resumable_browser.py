"""The submit page in Chromium sends a large image in chunks: the connection drops half way
and the upload goes on from where the server stood; after a reload, picking the same file
again resumes it. Runs use the fake executor; the upload path is the real one."""

from __future__ import annotations

import os
import re

import pytest

from lai_platform.extensions import db
from lai_platform.models import Upload
from tests.browsers import chromium, screenshot, serving
from tests.docker_images import layer_tar, synthetic_image, write_tarball
from tests.net import CutUploads
from tests.story import PASSWORD

pytestmark = [pytest.mark.browser]
CHUNK = 256 * 1024


@pytest.fixture
def executor_factory(fake):
    return lambda: fake


@pytest.fixture
def large_image(tmp_path):
    """A valid image of about 8 MB (32 chunks): weights that do not compress."""
    layer = layer_tar({"bin/predict": b"#!/bin/sh\n", "weights.bin": os.urandom(8 * 2**20)})
    return write_tarball(tmp_path / "large.tar", synthetic_image(layers=[layer])[0])


@pytest.fixture
def site(demo_platform):
    demo_platform.set_upload_chunk(CHUNK)
    demo_platform.set_phase("development", submissions_per_day=None)
    ada = demo_platform.participant("ada@example.org")
    ada.join()
    cut = CutUploads(demo_platform.app.wsgi_app, after=0)
    demo_platform.app.wsgi_app = cut
    demo_platform.start_workers()
    with serving(demo_platform.app) as url:
        yield {"url": url, "cut": cut, "platform": demo_platform}


@pytest.fixture
def page(site, tmp_path):
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(f"{site['url']}/auth/login")
        page.fill("input[name=email]", "ada@example.org")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        yield page


def the_upload(platform) -> Upload:
    with platform.app.app_context():
        upload = db.session.scalars(db.select(Upload)).one()
        db.session.expunge(upload)
        return upload


def test_a_dropped_connection_half_way_is_resumed(site, page, large_image, tmp_path):
    size = large_image.stat().st_size
    chunks_sent = []
    page.on("request", lambda r: chunks_sent.append(r) if r.method == "PATCH" else None)
    page.goto(f"{site['url']}/challenges/lai-liver/phases/development/submit")
    page.set_input_files("input[name=image]", str(large_image))
    # Half way, the network drops in the middle of a chunk (the server reads half of it);
    # the page waits and goes on.
    page.route("**/api/v1/uploads/*", lambda route: _cut_at_half(route, site, size))
    page.click("#submit-form button[type=submit]")
    page.wait_for_selector("text=Connection lost", timeout=60_000)
    screenshot(page, tmp_path / "upload-connection-lost.png")
    page.wait_for_url("**/submissions/*", timeout=120_000)
    screenshot(page, tmp_path / "upload-resumed-submission.png")
    upload = the_upload(site["platform"])
    assert upload.status == "complete" and upload.size == size
    resent = upload.bytes_received - size
    assert site["cut"].cut == 1 and 0 < resent <= CHUNK
    print(f"browser resume: {size} bytes in {len(chunks_sent)} chunk requests, "
          f"{resent} bytes re-sent after the drop")
    assert re.search(r"/submissions/\d+$", page.url)


def _cut_at_half(route, site, size: int) -> None:
    """Arm the server-side cut for the first chunk past the middle, once."""
    offset = int(route.request.headers.get("upload-offset", "-1"))
    if route.request.method == "PATCH" and offset >= size // 2 and not site.get("armed"):
        site["armed"] = True
        site["cut"].arm(after=CHUNK // 2)
    route.continue_()


def test_after_a_reload_the_same_file_resumes(site, page, large_image):
    size = large_image.stat().st_size
    page.goto(f"{site['url']}/challenges/lai-liver/phases/development/submit")
    page.set_input_files("input[name=image]", str(large_image))
    # The connection is gone from the middle on: every chunk request fails.
    page.route("**/api/v1/uploads/*", lambda route: route.abort("connectionreset")
               if route.request.method == "PATCH"
               and int(route.request.headers["upload-offset"]) >= size // 2
               else route.continue_())
    page.click("#submit-form button[type=submit]")
    page.wait_for_selector("text=Connection lost", timeout=60_000)
    stopped_at = the_upload(site["platform"]).offset
    assert size // 2 <= stopped_at < size // 2 + CHUNK
    page.unroute("**/api/v1/uploads/*")
    page.goto(f"{site['url']}/challenges/lai-liver/phases/development/submit")
    page.set_input_files("input[name=image]", str(large_image))
    page.click("#submit-form button[type=submit]")
    page.wait_for_url("**/submissions/*", timeout=120_000)
    upload = the_upload(site["platform"])
    assert upload.status == "complete" and upload.bytes_received == size  # nothing twice


def test_a_wrong_file_is_refused_after_one_chunk_with_words(site, page, tmp_path):
    wrong = tmp_path / "notes.zip"
    wrong.write_bytes(b"PK\x03\x04" + os.urandom(3 * CHUNK))
    page.goto(f"{site['url']}/challenges/lai-liver/phases/development/submit")
    page.set_input_files("input[name=image]", str(wrong))
    page.click("#submit-form button[type=submit]")
    page.wait_for_selector("text=This file is not a tarball", timeout=30_000)
    assert the_upload(site["platform"]).bytes_received == CHUNK
