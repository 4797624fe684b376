"""The hidden ground truth is in no path a participant's container can read."""

from __future__ import annotations

import io

import pytest

from lai_platform.extensions import db
from lai_platform.jobs.staging import mounted_inputs
from lai_platform.models import Phase
from lai_platform.runner import RunLimits, RunSpec
from tests.docker_images import build_test_image

pytestmark = pytest.mark.docker

MARKER = "LAI_SECRET_" + "MARKER"  # split so this file itself holds no marker


def test_container_cannot_read_the_ground_truth(demo_platform, tmp_path):
    platform = demo_platform
    svc = platform.services
    with platform.app.app_context():
        phase = db.session.scalar(db.select(Phase).where(Phase.slug == "final-test"))
        dataset = phase.dataset
        # Plant the marker in every place the platform keeps the labels.
        with svc.storage.open(dataset.ground_truth_key) as stream:
            truth = stream.read()
        svc.storage.save(dataset.ground_truth_key, io.BytesIO(truth + f"# {MARKER}\n".encode()))
        sha = dataset.sha256
    (svc.settings.data_dir / f"{MARKER}.csv").write_text(MARKER)
    output = svc.settings.data_dir / "runs" / "snoop" / "output"

    with mounted_inputs(svc.storage, dataset, svc.settings.data_dir / "cache" / "inputs") as inputs:
        result = svc.executor.run(
            RunSpec(
                image_id=build_test_image("snoop"),
                input_dir=inputs,
                output_dir=output,
                limits=RunLimits(time_limit_s=60, memory_mb=128),
            )
        )
    found = (output / "found.txt").read_text()
    files, _, rest = found.partition("== marker")
    marker_hits = rest.split("== end")[0].strip()
    mounts = found.split("== mounts")[1]
    # Where the worker keeps things, and which dataset this is, are not visible inside.
    assert str(svc.settings.data_dir) not in mounts and sha not in mounts
    assert " /input " in mounts and " /output " in mounts
    assert "/input/cases.json" in files  # the snoop did look around
    assert marker_hits == ""
    assert "ground_truth" not in files
    assert "diagnosis" not in found
    assert result.reason in (None, "no_output")
