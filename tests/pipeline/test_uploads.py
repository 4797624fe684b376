"""Taking a submission in (fake executor): bad uploads refused in words the uploader can act
on with nothing queued or counted, quotas and image limits, and who sees what of a run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lai_platform.runner.base import FailureReason
from tests.docker_images import layer_tar, synthetic_image, write_tarball
from tests.fakes import fails, predicts


def run(ada, image: Path) -> dict:
    response = ada.submit(image)
    assert response.status_code == 202, response.get_json()
    ada.platform.run_queued()
    return ada.submission(response.get_json()["id"])


def two_images(path: Path) -> None:
    members, _ = synthetic_image()
    other, _ = synthetic_image(repo_tags=["x:2"], entrypoint=["/bin/other"])
    manifest = json.loads(members["manifest.json"]) + json.loads(other["manifest.json"])
    members.update(other)
    members["manifest.json"] = json.dumps(manifest).encode()
    write_tarball(path, members)


def truncated(path: Path) -> None:
    write_tarball(path, synthetic_image()[0])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "make, code, words",
    [
        (lambda p: p.write_bytes(b"this is not a tarball at all" * 100), "image_not_tar",
         "not a tar"),
        (lambda p: p.write_bytes(b""), "image_missing", "empty"),
        (truncated, "image_corrupt_archive", "truncated"),
        (lambda p: write_tarball(p, synthetic_image(architecture="arm64")[0]),
         "image_wrong_architecture", "arm64"),
        (lambda p: write_tarball(p, synthetic_image(entrypoint=None, cmd=None)[0]),
         "image_no_command", "entrypoint"),
        (two_images, "image_image_count", "exactly one image"),
    ],
    ids=["not a tar", "empty", "truncated", "arm64", "no command", "two images"],
)
def test_bad_uploads_are_refused_with_clear_words(ada, image, fake, tmp_path, make, code, words):
    path = tmp_path / "upload.tar"
    make(path)
    response = ada.submit(path)
    assert response.status_code in (400, 413, 422), response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code, error
    assert words.lower() in error["message"].lower()
    # Nothing was queued, nothing counted, and a good image still goes through.
    assert ada.platform.run_queued() == []
    assert run(ada, image)["status"] == "succeeded"


def test_the_daily_quota_counts_the_submitters_runs(ada, image, fake):
    ada.platform.set_phase("development", submissions_per_day=1)
    fake.script = fails(FailureReason.NONZERO_EXIT, "exited with code 1")
    assert run(ada, image)["counts_against_quota"] is True
    refused = ada.submit(image)
    assert refused.status_code == 429
    assert "24 hours" in refused.get_json()["error"]["message"]


def test_an_image_over_the_phase_limit_is_refused(ada, tmp_path):
    ada.platform.set_phase("development", image_max_bytes=2**20)
    big = synthetic_image(layers=[layer_tar({"bin/predict": os.urandom(2 * 2**20)})])[0]
    response = ada.submit(write_tarball(tmp_path / "big.tar", big))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "image_too_large"
    assert "limit of 1 MB" in response.get_json()["error"]["message"]
    assert ada.platform.run_queued() == []


def test_others_see_neither_failures_nor_logs(ada, image, fake):
    fake.script = fails(FailureReason.NONZERO_EXIT, "exited with code 1", logs="case_001 HCC")
    failed = run(ada, image)
    assert failed["logs"] == "case_001 HCC"  # the development phase shows the owner logs
    bob = ada.platform.participant("bob@example.org")
    assert bob.get(f"/api/v1/submissions/{failed['id']}").status_code == 404
    fake.script = predicts(logs="case_002 FNH")
    good = run(ada, image)
    public = bob.submission(good["id"])
    assert public["metrics"] is not None
    assert "logs" not in public and "failure_message" not in public
    assert "case_002" not in bob.client.get(f"/submissions/{good['id']}").get_data(as_text=True)
