"""The production compose file, run here (with compose.local.yml: images built without a
registry, host networking on loopback): web under gunicorn, migrate, two CPU workers each
with its own data folder, the control worker, PostgreSQL, Redis and S3. Two submissions sent
over HTTP are scored on different workers and ranked.

The bring-up time is printed (run with -s), not asserted.
"""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.deploy.compose_stack import Stack, missing
from tests.docker_images import build_test_image, docker_available, save_image
from tests.paths import ROOT

pytestmark = [pytest.mark.deploy, pytest.mark.docker, pytest.mark.timeout(1500),
              pytest.mark.skipif(not docker_available(), reason="no Docker Engine")]

PHASE = "/api/v1/challenges/lai-liver/phases/development"


@pytest.fixture
def stack(tmp_path):
    if missing():
        pytest.fail(missing())
    # Cached: only what changed since the last build (the platform layer: seconds).
    subprocess.run(["bash", "scripts/build_stack_images.sh"], cwd=ROOT, check=True,
                   timeout=1200)
    running = Stack(tmp_path / "workers")
    try:
        yield running
    finally:
        print(running.logs())  # shown when the test fails
        running.down()


def _account(stack: Stack, email: str, admin: bool = False) -> str:
    """An account and its API token, through the flask CLI in the web container."""
    stack.flask("users", "create", email, *(["--admin"] if admin else []),
                stdin="a long enough password 17\n")
    return stack.flask("tokens", "create", email).strip().splitlines()[-1]


def _submit(base: str, token: str, tarball) -> int:
    with tarball.open("rb") as stream:
        answer = requests.post(f"{base}{PHASE}/submissions", timeout=120,
                               headers={"Authorization": f"Bearer {token}"},
                               files={"image": ("algorithm.tar", stream)})
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def _until_ranked(base: str, token: str, ids: list[int], timeout: float = 400) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        subs = [requests.get(f"{base}/api/v1/submissions/{i}", timeout=10,
                             headers={"Authorization": f"Bearer {token}"}).json() for i in ids]
        if all(s["status"] == "failed" or s.get("rank") is not None for s in subs):
            return subs
        time.sleep(1)
    raise AssertionError(f"not all ranked in {timeout} s: {subs}")


def test_the_stack_scores_and_ranks_on_both_workers(stack, demo_bundle, tmp_path):
    seconds = stack.up()
    print(f"\ncompose bring-up: {seconds:.1f} s (up -d to web /healthz 200)")

    admin = _account(stack, "admin@example.org", admin=True)
    assert "loaded lai-liver" in stack.load_challenge(demo_bundle)
    tarball = save_image(build_test_image("ok"), tmp_path / "ok.tar")
    tokens = []
    for email in ("ada@example.org", "bob@example.org"):
        tokens.append(_account(stack, email))
        joined = requests.post(f"{stack.base}/api/v1/challenges/lai-liver/join", timeout=30,
                               json={"accept_terms": True},
                               headers={"Authorization": f"Bearer {tokens[-1]}"})
        assert joined.status_code in (200, 201), joined.text
    # Both at once: the second is queued while the first worker is busy with the first.
    with ThreadPoolExecutor(2) as pool:
        ids = list(pool.map(lambda token: _submit(stack.base, token, tarball), tokens))

    started = time.monotonic()
    subs = _until_ranked(stack.base, admin, ids)
    print(f"both scored and ranked {time.monotonic() - started:.1f} s after the uploads")
    assert [s["status"] for s in subs] == ["succeeded", "succeeded"], subs
    board = requests.get(f"{stack.base}{PHASE}/leaderboard", timeout=30).json()
    assert sorted(e["submission_id"] for e in board["entries"]) == sorted(ids), board
    # Spread: each CPU worker ran one (concurrency 1, one message prefetched at a time).
    assert {s["worker"] for s in subs} == {"worker-cpu", "worker-cpu-2"}, subs
    # Each worker worked in its own folder only: run folders and staged inputs are there.
    for name in ("worker-cpu", "worker-cpu-2"):
        assert (stack.dirs[name] / "cache").is_dir(), sorted(stack.dirs[name].iterdir())
