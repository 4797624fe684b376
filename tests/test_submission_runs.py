"""A container submission, end to end through the API with the real Docker Engine:
each way a run can end has its own clear reason, and the next submission still works."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.docker_images import build_test_image, save_image, synthetic_image, write_tarball

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
def lab(platform, demo_bundle):
    """The demo challenge with tight limits, worker threads running, Ada joined."""
    platform.load_challenge(demo_bundle)
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


@pytest.mark.parametrize(
    "image, reason, words",
    [
        ("exit1", "nonzero_exit", "exited with code 1"),
        ("sleep", "timeout", "time limit"),
        ("oom", "out_of_memory", "memory"),
        ("no_output", "no_output", "predictions.json"),
        ("malformed", "invalid_output", "not valid"),
        ("network", "network_blocked", "network"),
        ("big_output", "output_too_large", "output"),
    ],
)
def test_each_failure_has_its_own_reason(lab, tarballs, image, reason, words):
    platform, ada = lab
    sub = run(ada, tarballs(image))
    assert sub["status"] == "failed"
    assert sub["failure_reason"] == reason
    assert words.lower() in sub["failure_message"].lower()
    assert sub["counts_against_quota"] is True
    # ...and the next submission still works.
    assert run(ada, tarballs("ok"))["status"] == "succeeded"


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


def test_others_see_neither_failures_nor_logs(lab, tarballs):
    platform, ada = lab
    failed = run(ada, tarballs("exit1"))
    bob = platform.participant("bob@example.org")
    assert bob.get(f"/api/v1/submissions/{failed['id']}").status_code == 404
    good = run(ada, tarballs("ok"))
    public = bob.submission(good["id"])
    assert public["metrics"] is not None
    assert "logs" not in public and "failure_message" not in public


@pytest.mark.parametrize(
    "make, code, words",
    [
        (lambda p: p.write_bytes(b"this is not a tarball at all" * 100), "image_not_tar",
         "not a tar"),
        (lambda p: p.write_bytes(b""), "image_missing", "empty"),
        ("truncated", "image_corrupt_archive", "truncated"),
        ("arm64", "image_wrong_architecture", "arm64"),
        ("nocmd", "image_no_command", "entrypoint"),
        ("two", "image_image_count", "exactly one image"),
    ],
)
def test_bad_uploads_are_refused_with_clear_words(lab, tarballs, tmp_path, make, code, words):
    platform, ada = lab
    path = tmp_path / "upload.tar"
    if make == "truncated":
        data = tarballs("ok").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif make == "arm64":
        write_tarball(path, synthetic_image(architecture="arm64")[0])
    elif make == "nocmd":
        write_tarball(path, synthetic_image(entrypoint=None, cmd=None)[0])
    elif make == "two":
        members, _ = synthetic_image()
        other, _ = synthetic_image(repo_tags=["x:2"], entrypoint=["/bin/other"])
        import json

        manifest = json.loads(members["manifest.json"]) + json.loads(other["manifest.json"])
        members.update(other)
        members["manifest.json"] = json.dumps(manifest).encode()
        write_tarball(path, members)
    else:
        make(path)
    response = ada.submit(path)
    assert response.status_code in (400, 413, 422), response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code, error
    assert words.lower() in error["message"].lower()
    # Nothing was queued, nothing counted, and a good image still goes through.
    assert run(ada, tarballs("ok"))["status"] == "succeeded"


def test_gzip_compressed_tarballs_are_accepted(lab, tarballs, tmp_path):
    platform, ada = lab
    gz = tmp_path / "ok.tar.gz"
    gz.write_bytes(gzip.compress(tarballs("ok").read_bytes(), compresslevel=1))
    assert run(ada, gz)["status"] == "succeeded"


def test_daily_quota_and_platform_faults(lab, tarballs):
    platform, ada = lab
    platform.set_phase("development", submissions_per_day=1)
    assert run(ada, tarballs("ok"))["status"] == "succeeded"
    refused = ada.submit(tarballs("ok"))
    assert refused.status_code == 429
    assert "24 hours" in refused.get_json()["error"]["message"]


def test_an_image_over_the_phase_limit_is_refused(lab, tarballs):
    platform, ada = lab
    platform.set_phase("development", image_max_bytes=1024 * 1024)
    response = ada.submit(tarballs("ok"))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "image_too_large"
    assert "1 MB" in response.get_json()["error"]["message"]
