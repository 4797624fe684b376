"""A container submission, end to end through the API with the real Docker Engine: scored and
ranked, its logs shown where the phase allows, gzip accepted. Every other branch of the
pipeline is in test_pipeline.py (fake executor); every way the runner can end a run is in
runner/test_docker_runs.py."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.docker_images import build_test_image, save_image

pytestmark = pytest.mark.docker

TIGHT = {"time_limit_s": 6, "memory_mb": 64, "cpus": 1, "pids": 64,
         "output_max_bytes": 5 * 2**20, "log_max_bytes": 64 * 2**10}


@pytest.fixture(scope="session")
def tarballs(tmp_path_factory):
    """`docker save` files of the busybox test images, made once."""
    folder = tmp_path_factory.mktemp("tarballs")
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = save_image(build_test_image(name), folder / f"{name}.tar")
        return made[name]

    return get


@pytest.fixture
def lab(demo_platform):
    """The demo challenge with tight limits, worker threads running, Ada joined."""
    platform = demo_platform
    platform.set_phase("development", limits=TIGHT, submissions_per_day=None)
    platform.set_phase("final-test", limits=TIGHT)
    platform.start_workers()
    ada = platform.participant("ada@example.org")
    ada.join()
    return platform, ada


def run(ada, tarball, phase="development") -> dict:
    response = ada.submit(tarball, phase=phase)
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "queued"
    return ada.wait_for(response.get_json()["id"], timeout=120)


def test_a_good_submission_is_scored_and_ranked(lab, tarballs):
    platform, ada = lab
    sub = run(ada, tarballs("ok"))
    assert sub["status"] == "succeeded"
    auc = sub["metrics"]["metrics"]["auc"]
    assert auc["value"] == pytest.approx(0.5)  # constant predictions
    assert sub["rank"] == 1
    board = ada.leaderboard()
    assert [e["submission_id"] for e in board["entries"]] == [sub["id"]]
    assert board["entries"][0]["metrics"]["auc"]["ci_low"] is not None
    # A second, identical entry ties: both rank 1.
    second = run(ada, tarballs("ok"))
    assert [e["rank"] for e in ada.leaderboard()["entries"]] == [1, 1]
    assert second["rank"] == 1


def test_logs_follow_the_phase(lab, tarballs):
    platform, ada = lab
    dev = run(ada, tarballs("exit1"))
    assert "something went wrong" in dev["logs"]
    final = run(ada, tarballs("exit1"), phase="final-test")
    assert final["failure_reason"] == "nonzero_exit"
    assert final["logs"] is None and final["logs_visible"] is False
    html = ada.client.get(f"/submissions/{final['id']}").get_data(as_text=True)
    assert "something went wrong" not in html


def test_gzip_compressed_tarballs_are_accepted(lab, tarballs, tmp_path):
    platform, ada = lab
    gz = tmp_path / "ok.tar.gz"
    gz.write_bytes(gzip.compress(tarballs("ok").read_bytes(), compresslevel=1))
    assert run(ada, gz)["status"] == "succeeded"
