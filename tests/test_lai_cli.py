"""`lai`, the installed console script, end to end against a platform served on loopback
(the demo challenge, runs by the fake executor): login, challenges, join, a download dropped
half way and resumed with its checksum checked, a damaged partial caught, submit (a tarball,
and an image name through `docker save`), status --wait, logs, leaderboard, --json."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.browsers import serving
from tests.paths import ROOT

LAI = Path(sys.executable).with_name("lai")
# What `lai submit` reports: the submission's state once the upload is in (a worker may
# already have taken it).
ACCEPTED = ("queued", "running", "succeeded")


@pytest.fixture
def executor_factory(fake):
    return lambda: fake


class DropOnce:
    """WSGI middleware: the first training-data response stops after `after` bytes and the
    connection is cut, as a flaky network would."""

    def __init__(self, app, after: int) -> None:
        self.app, self.after, self.armed = app, after, False

    def __call__(self, environ, start_response):
        body = self.app(environ, start_response)
        if not (self.armed and environ["PATH_INFO"].endswith("/training-data")):
            return body
        self.armed = False
        return self._cut(body, environ["werkzeug.socket"])

    def _cut(self, body, sock):
        sent = 0
        for chunk in body:
            piece = chunk[: self.after - sent]
            sent += len(piece)
            yield piece
            if sent >= self.after:
                sock.shutdown(socket.SHUT_RDWR)
                raise ConnectionAbortedError("dropped by the test")


@pytest.fixture
def site(demo_platform, tmp_path):
    demo_platform.set_phase("development", submissions_per_day=None, logs_visible=True)
    ada = demo_platform.participant("ada@example.org")
    drop = DropOnce(demo_platform.app.wsgi_app, 0)
    demo_platform.app.wsgi_app = drop
    demo_platform.start_workers()
    with serving(demo_platform.app) as url:
        yield {"url": url, "token": ada.token, "drop": drop, "home": tmp_path / "home"}


def lai_env(site, columns: int = 200) -> dict[str, str]:
    """A `lai` user of their own: config (the login) and cache (images, uploads) in HOME."""
    return {**os.environ, "XDG_CONFIG_HOME": str(site["home"]), "NO_COLOR": "1",
            "XDG_CACHE_HOME": str(site["home"] / "cache"), "COLUMNS": str(columns)}


def lai(site, *args: str, stdin: str = "", path: str | None = None, columns: int = 200):
    env = lai_env(site, columns)
    if path is not None:
        env["PATH"] = path
    return subprocess.run([str(LAI), *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)


def lai_json(site, *args: str) -> dict | list:
    done = lai(site, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def logged_in(site) -> dict:
    done = lai(site, "login", site["url"], "--token", site["token"])
    assert done.returncode == 0, done.stderr
    return site


def test_login_verifies_and_keeps_the_token_private(site):
    refused = lai(site, "login", site["url"], "--token", "wrong")
    assert refused.returncode == 1
    assert "unknown or revoked" in refused.stderr
    assert not (site["home"] / "lai" / "config.json").exists()
    done = lai(site, "login", site["url"], stdin=site["token"] + "\n")  # piped, not typed
    assert done.returncode == 0, done.stderr
    config = site["home"] / "lai" / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert json.loads(config.read_text()) == {"url": site["url"], "token": site["token"]}


def test_errors_are_explained_with_a_nonzero_exit(site):
    assert "lai login URL" in lai(site, "challenges").stderr
    down = lai(site, "login", "http://127.0.0.1:9", "--token", "x")
    assert down.returncode == 1 and "Cannot reach the platform" in down.stderr
    logged_in(site)
    missing = lai(site, "status", "999")
    assert missing.returncode == 1 and "No submission 999" in missing.stderr
    unjoined = lai(site, "download", "lai-liver", str(site["home"]))
    assert unjoined.returncode == 1 and "lai: " in unjoined.stderr


def test_challenges_and_join(site):
    logged_in(site)
    listed = lai(site, "challenges")
    assert listed.stdout.splitlines()[0].split() == ["SLUG", "TITLE", "ACCESS", "SUMMARY"]
    assert "lai-liver" in listed.stdout and "\033[" not in listed.stdout
    assert [c["slug"] for c in lai_json(site, "challenges")] == ["lai-liver"]
    no_terms = lai(site, "join", "lai-liver")  # no terminal to ask on: refused
    assert no_terms.returncode == 2 and "--accept-terms" in no_terms.stderr
    assert lai_json(site, "join", "lai-liver", "--accept-terms") == {
        "challenge": "lai-liver", "status": "approved"}


def test_a_dropped_download_resumes_and_is_verified(site, tmp_path):
    logged_in(site)
    lai(site, "join", "lai-liver", "--accept-terms")
    truth = requests.get(f"{site['url']}/api/v1/challenges/lai-liver/training-data",
                         headers={"Authorization": f"Bearer {site['token']}"}).content
    site["drop"].after, site["drop"].armed = len(truth) // 2, True
    summary = lai_json(site, "download", "lai-liver", str(tmp_path / "download"))
    saved = Path(summary["path"])
    assert saved.read_bytes() == truth
    assert summary["sha256"] == hashlib.sha256(truth).hexdigest() and summary["verified"]
    # The second request asked for the rest only: what had arrived (all but the last
    # network read in flight) was not sent again.
    [resumed_at] = summary["resumed_at"]
    assert len(truth) // 2 - 64 * 1024 <= resumed_at <= len(truth) // 2
    assert summary["received_bytes"] == len(truth)
    assert not list(saved.parent.glob("*.part*"))
    again = lai_json(site, "download", "lai-liver", str(tmp_path / "download"))
    assert again["already_there"] and again["received_bytes"] == 0


def test_a_damaged_partial_is_caught_and_not_resumed(site, tmp_path):
    logged_in(site)
    lai(site, "join", "lai-liver", "--accept-terms")
    auth = {"Authorization": f"Bearer {site['token']}"}
    head = requests.get(f"{site['url']}/api/v1/challenges/lai-liver/training-data",
                        headers=auth | {"Range": "bytes=0-999"})
    assert head.status_code == 206
    folder = tmp_path / "download"
    folder.mkdir()
    # A partial download from the same archive (same ETag) whose bytes went bad on disk.
    (folder / "lai-liver-training.tar.part").write_bytes(b"\0" * 1000)
    (folder / "lai-liver-training.tar.part.json").write_text(
        json.dumps({"etag": head.headers["ETag"]}))
    damaged = lai(site, "download", "lai-liver", str(folder))
    assert damaged.returncode == 1 and "Checksum mismatch" in damaged.stderr
    assert list(folder.iterdir()) == []
    summary = lai_json(site, "download", "lai-liver", str(folder))
    assert summary["resumed_at"] == []
    assert hashlib.sha256(Path(summary["path"]).read_bytes()).hexdigest() == summary["sha256"]


def test_submit_follow_and_read_the_leaderboard(site, image):
    logged_in(site)
    lai(site, "join", "lai-liver", "--accept-terms")
    submitted = lai_json(site, "submit", "lai-liver", "development", str(image),
                         "--comment", "from lai")
    assert submitted["status"] in ACCEPTED
    done = lai(site, "status", str(submitted["id"]), "--wait", "--interval", "0.2")
    assert done.returncode == 0, done.stderr
    assert "succeeded" in done.stdout and "metrics:" in done.stdout
    final = lai_json(site, "status", str(submitted["id"]))
    assert final["status"] == "succeeded" and final["comment"] == "from lai"
    logs = lai(site, "logs", str(submitted["id"]))
    assert logs.returncode == 0 and "fake run" in logs.stdout
    assert lai_json(site, "logs", str(submitted["id"]))["logs"].startswith("fake run")
    board = lai_json(site, "leaderboard", "lai-liver", "development")
    assert submitted["id"] in [e["submission_id"] for e in board["entries"]]
    table = lai(site, "leaderboard", "lai-liver", "development").stdout
    assert table.splitlines()[0].split()[:3] == ["RANK", "PARTICIPANT", "ID"]
    narrow = lai(site, "leaderboard", "lai-liver", "development", columns=60).stdout
    assert max(len(line) for line in narrow.splitlines()[:-1]) <= 60  # fits the terminal


def test_a_failed_run_gives_its_reason_and_exit_code_3(site, image, fake):
    from lai_platform.runner import FailureReason  # only this test scripts a failure
    from tests.fakes import fails

    fake.script = fails(FailureReason.TIMEOUT, "ran past the 600 s limit")
    logged_in(site)
    lai(site, "join", "lai-liver", "--accept-terms")
    sub = lai_json(site, "submit", "lai-liver", "development", str(image))
    done = lai(site, "status", str(sub["id"]), "--wait", "--interval", "0.2")
    assert done.returncode == 3
    assert "timeout" in done.stdout and "ran past the 600 s limit" in done.stdout


STAND_IN_DOCKER = """#!/bin/sh
case "$1 $2 $5" in
  "image inspect ada/algo:1") echo sha256:{algo} ;;
  "image inspect ada/broken:1") echo sha256:{broken} ;;
  "save ada/algo:1 ") cat {tarball} ;;
  "save ada/broken:1 ") head -c 5000 {tarball}; echo "write /dev/stdout: no space" >&2; exit 1 ;;
  *) echo "Error: No such image: $5" >&2; exit 1 ;;
esac
"""


def test_an_image_name_is_saved_and_gzipped_on_the_fly(site, image, tmp_path):
    """`docker save NAME` gzipped into the cache, named by the image ID (a stand-in `docker`
    on PATH prints the tarball, so this runs without a Docker Engine)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(STAND_IN_DOCKER.format(algo="a" * 64, broken="b" * 64, tarball=image))
    docker.chmod(0o755)
    path = f"{bin_dir}:{os.environ['PATH']}"
    logged_in(site)
    lai(site, "join", "lai-liver", "--accept-terms")
    done = lai(site, "submit", "lai-liver", "development", "ada/algo:1", "--json", path=path)
    assert done.returncode == 0, done.stderr
    submitted = json.loads(done.stdout)
    assert submitted["status"] in ACCEPTED
    assert f"compressed ada/algo:1: {image.stat().st_size} -> " in done.stderr
    assert submitted["upload"]["size"] < image.stat().st_size  # sent gzipped
    images = site["home"] / "cache" / "lai" / "images"
    assert list(images.iterdir()) == []  # the platform has it: the cached copy is gone
    missing = lai(site, "submit", "lai-liver", "development", "ada/none:1", path=path)
    assert missing.returncode == 1 and "No such image: ada/none:1" in missing.stderr
    broken = lai(site, "submit", "lai-liver", "development", "ada/broken:1", path=path)
    assert broken.returncode == 1 and "no space" in broken.stderr
    assert list(images.iterdir()) == []  # a failed save leaves no half image behind


def test_the_client_needs_no_flask():
    """The `lai` package imports only the standard library and requests."""
    done = subprocess.run([sys.executable, "-c", "import sys, lai_client.cli; "
                           "print(sorted(m for m in sys.modules if m.split('.')[0] in "
                           "('flask', 'lai_platform', 'sqlalchemy', 'werkzeug')))"],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


def test_a_team_is_made_joined_by_link_and_left(site, demo_platform, tmp_path):
    logged_in(site)
    assert lai(site, "join", "lai-liver", "--accept-terms").returncode == 0
    made = lai_json(site, "team", "create", "lai-liver", "Liver Lab")
    bob = demo_platform.participant("bob@example.org")
    bob.join()
    bobs = {**site, "token": bob.token, "home": tmp_path / "bob"}
    logged_in(bobs)
    joined = lai(bobs, "team", "join", made["invite_url"])
    assert joined.returncode == 0, joined.stderr
    assert "Team Liver Lab in lai-liver: ada, bob" in joined.stdout
    assert [m["name"] for m in lai_json(site, "team", "show", "lai-liver")["members"]] == [
        "ada", "bob"]
    renewed = lai_json(site, "team", "renew", "lai-liver")
    assert renewed["invite_token"] != made["invite_token"]
    assert "You left the team." in lai(bobs, "team", "leave", "lai-liver").stdout
    missing = lai(bobs, "team", "show", "lai-liver")
    assert missing.returncode == 1 and "not in a team" in missing.stderr
