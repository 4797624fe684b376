"""`lai submit IMAGE-NAME` end to end against a platform served on loopback: the image is
saved with `docker save` and gzipped on the fly, then sent in chunks; a connection cut half
way costs at most the chunk in flight, inside one run and across runs (a killed `lai`
resumed by running it again). Chunks are 64 KiB here, so a 2 MB test image takes ~16."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from pathlib import Path

import pytest
import requests

from tests import test_lai_cli
from tests.conftest import docker_available
from tests.docker_images import build_test_image
from tests.test_lai_cli import ACCEPTED, LAI, lai, lai_env, lai_json, logged_in

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(not docker_available(), reason="needs a Docker Engine and /bin/busybox"),
]
# The platform served on loopback (fake executor) that the `lai` tests log in to.
site, executor_factory = test_lai_cli.site, test_lai_cli.executor_factory
CHUNK = 64 * 1024
IMAGE = "lai-test-ok:latest"


class CutUpload:
    """WSGI middleware: the first chunk that starts at or past byte `at` of an upload has
    its connection cut after `after` bytes of its body, as a dropped network would. With
    `hold`, that request first waits there (setting `reached`) until the test sets
    `release`: the moment to kill the `lai` process sending it."""

    def __init__(self, app, at: int, after: int, hold: bool = False) -> None:
        self.app, self.at, self.after, self.hold = app, at, after, hold
        self.cut_at: int | None = None
        self.reached, self.release = threading.Event(), threading.Event()

    def __call__(self, environ, start_response):
        offset = environ.get("HTTP_UPLOAD_OFFSET", "")
        if (self.cut_at is None and environ["REQUEST_METHOD"] == "PATCH"
                and offset.isdigit() and int(offset) >= self.at):
            self.cut_at = int(offset)
            environ["wsgi.input"] = _CutBody(environ["wsgi.input"], self,
                                             environ["werkzeug.socket"])
        return self.app(environ, start_response)


class _CutBody:
    def __init__(self, stream, cut: CutUpload, sock: socket.socket) -> None:
        self.stream, self.cut, self.sock, self.left = stream, cut, sock, cut.after

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            if self.cut.hold:
                self.cut.reached.set()
                self.cut.release.wait(60)
            self.sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionResetError("connection cut by the test")
        data = self.stream.read(self.left if size < 0 else min(size, self.left))
        self.left -= len(data)
        return data


@pytest.fixture
def joined(site, demo_platform):
    demo_platform.set_upload_chunk(CHUNK)
    build_test_image("ok")  # tagged lai-test-ok:latest: submitted by name
    logged_in(site)
    lai(site, "join", "lai-liver", "--accept-terms")
    return site


def packed_size(site, monkeypatch, tmp_path) -> int:
    """How large the gzipped image `lai` will send is (packed here the same way, apart)."""
    from lai_client.packing import pack

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "measure"))
    return pack(IMAGE).path.stat().st_size


def cut_uploads(demo_platform, **how) -> CutUpload:
    cut = CutUpload(demo_platform.app.wsgi_app, **how)
    demo_platform.app.wsgi_app = cut
    return cut


def upload(site, upload_id: str) -> dict:
    """The upload as the platform keeps it (bytes_received counts cut-off chunks too)."""
    return requests.get(f"{site['url']}/api/v1/uploads/{upload_id}", timeout=10,
                        headers={"Authorization": f"Bearer {site['token']}"}).json()


def cache(site, folder: str) -> list[Path]:
    return sorted((site["home"] / "cache" / "lai" / folder).glob("*"))


def test_the_whole_story_with_a_dropped_download_and_a_dropped_upload(
        joined, demo_platform, monkeypatch, tmp_path):
    site = joined
    # The training data, its connection cut half way: resumed, then checked.
    size = requests.get(f"{site['url']}/api/v1/challenges/lai-liver", timeout=10).json()[
        "training_data"]["size"]
    site["drop"].after, site["drop"].armed = size // 2, True
    fetched = lai_json(site, "download", "lai-liver", str(tmp_path / "data"))
    assert fetched["verified"] and len(fetched["resumed_at"]) == 1
    # A failing image tried here first: the platform's reason, before any upload.
    tried = lai(site, "try", build_test_image("exit1"), "--phase", "lai-liver/development",
                "--data", fetched["path"], "--bootstrap", "50")
    assert tried.returncode == 3 and "reason:   nonzero_exit" in tried.stdout, tried.stderr
    # The good image by name; its upload is cut half way and resumes by itself.
    image_bytes = packed_size(site, monkeypatch, tmp_path)
    cut = cut_uploads(demo_platform, at=image_bytes // 2, after=CHUNK // 2)
    done = lai(site, "submit", "lai-liver", "development", IMAGE, "--json")
    assert done.returncode == 0, done.stderr
    submitted = json.loads(done.stdout)
    assert submitted["status"] in ACCEPTED
    assert "the connection failed" in done.stderr and "retrying in 1 s" in done.stderr
    assert f"resuming at byte {cut.cut_at} of {image_bytes}" in done.stderr
    kept = upload(site, submitted["upload"]["id"])
    assert (kept["status"], kept["submission_id"], kept["size"]) == (
        "complete", submitted["id"], image_bytes)
    # What the drop cost: the cut-off part of one chunk, sent again.
    assert kept["bytes_received"] - kept["size"] == CHUNK // 2
    assert submitted["upload"]["resumed_at"] == [cut.cut_at]
    assert cache(site, "images") == [] and cache(site, "uploads") == []
    followed = lai(site, "status", str(submitted["id"]), "--wait", "--interval", "0.2")
    assert followed.returncode == 0 and "succeeded" in followed.stdout, followed.stderr
    board = lai_json(site, "leaderboard", "lai-liver", "development")
    assert submitted["id"] in [e["submission_id"] for e in board["entries"]]


def test_a_killed_submit_resumes_where_the_platform_stopped(
        joined, demo_platform, monkeypatch, tmp_path):
    site = joined
    image_bytes = packed_size(site, monkeypatch, tmp_path)
    cut = cut_uploads(demo_platform, at=image_bytes // 2, after=CHUNK // 2, hold=True)
    first = subprocess.Popen([str(LAI), "submit", "lai-liver", "development", IMAGE],
                             env=lai_env(site), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert cut.reached.wait(60), "the upload never got half way"
        [state] = cache(site, "uploads")  # kept from the start, for the next run
        upload_id = json.loads(state.read_text())["id"]
    finally:
        first.kill()  # as a closed laptop, or Ctrl-C twice, would
        first.communicate()
        cut.release.set()
    held = upload(site, upload_id)
    assert (held["status"], held["offset"]) == ("receiving", cut.cut_at)
    # The same command again: the same cached file, the same upload, from the same byte.
    again = lai(site, "submit", "lai-liver", "development", IMAGE, "--json")
    assert again.returncode == 0, again.stderr
    assert "was compressed before: reusing" in again.stderr
    assert f"resuming upload {upload_id} at byte {cut.cut_at}" in again.stderr
    submitted = json.loads(again.stdout)
    assert submitted["upload"]["sent_bytes"] == image_bytes - cut.cut_at
    kept = upload(site, upload_id)
    assert (kept["status"], kept["submission_id"]) == ("complete", submitted["id"])
    assert 0 < kept["bytes_received"] - kept["size"] <= CHUNK
    assert cache(site, "images") == [] and cache(site, "uploads") == []


def test_a_refused_image_gives_the_platforms_reason(joined, tmp_path):
    site = joined
    notes = tmp_path / "notes.txt"  # not a tarball: gzipped and sent, then refused
    notes.write_text("predictions, by hand\n" * 5000)
    done = lai(site, "submit", "lai-liver", "development", str(notes))
    assert done.returncode == 1
    # The platform's words (its archive check), not a traceback.
    assert "is not a tar archive" in done.stderr.splitlines()[-1]
    assert cache(site, "images") == [] and cache(site, "uploads") == []
