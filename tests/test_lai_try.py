"""`lai try`: an image run here with the platform's own runner on the downloaded training data,
its predictions checked and scored as the platform would; a failing image gets the reason and
message the platform's runner gives, a slow one the timeout of its phase (read from the API)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from lai_platform.runner import DockerExecutor, RunLimits, RunSpec
from tests import test_lai_cli
from tests.conftest import docker_available
from tests.docker_images import build_test_image, docker_client
from tests.paths import ROOT
from tests.test_lai_cli import logged_in

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(not docker_available(), reason="needs a Docker Engine and /bin/busybox"),
]
LAI = Path(sys.executable).with_name("lai")
# The platform served on loopback (fake executor) that the `lai` tests log in to.
site, executor_factory = test_lai_cli.site, test_lai_cli.executor_factory


def lai_try(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CONFIG_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run([str(LAI), "try", *args], capture_output=True, text=True, env=env,
                          timeout=180)


@pytest.fixture
def training(demo_bundle) -> Path:
    return demo_bundle / "data" / "training"


def test_a_good_image_passes_the_checks_and_is_scored(training, tmp_path):
    build_test_image("ok")  # tagged lai-test-ok:latest: tried by name
    done = lai_try("lai-test-ok:latest", "--data", str(training), "--bootstrap", "50",
                   "--json", home=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    n_cases = len(json.loads((training / "inputs" / "cases.json").read_text()))
    assert (report["ok"], report["validated"], report["n_cases"]) == (True, True, n_cases)
    assert report["image_id"] == build_test_image("ok")
    assert report["limits"] == json.loads(json.dumps(RunLimits().__dict__))  # the defaults
    auc = report["metrics"]["auc"]
    assert auc["value"] == pytest.approx(0.5) and auc["ci_low"] is not None
    text = lai_try("lai-test-ok:latest", "--data", str(training / "inputs"), "--bootstrap",
                   "50", home=tmp_path).stdout
    assert "succeeded" in text and "metrics (95% CI)" in text and "auc" in text


def test_a_saved_tarball_is_loaded_and_the_archive_itself_is_read(training, tmp_path):
    image = tmp_path / "ok.tar"
    with image.open("wb") as out:
        for chunk in docker_client().images.get(build_test_image("ok")).save():
            out.write(chunk)
    archive = tmp_path / "training.tar"  # what `lai download` saves
    with tarfile.open(archive, "w") as tar:
        for path in sorted(training.iterdir()):
            tar.add(path, arcname=path.name)
    done = lai_try(str(image), "--data", str(archive), "--bootstrap", "20", "--json",
                   home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["validated"] is True


@pytest.mark.parametrize("name", ["exit1", "no_output", "network"])
def test_a_failing_image_gets_the_platforms_reason(name, training, tmp_path):
    image_id = build_test_image(name)
    expected = DockerExecutor(docker_client()).run(RunSpec(
        image_id=image_id, input_dir=training / "inputs", output_dir=tmp_path / "out",
        limits=RunLimits()))
    done = lai_try(image_id, "--data", str(training), "--json", home=tmp_path)
    assert done.returncode == 3, done.stderr
    report = json.loads(done.stdout)
    assert (report["reason"], report["message"]) == (str(expected.reason), expected.message)
    text = lai_try(image_id, "--data", str(training), home=tmp_path).stdout
    assert f"reason:   {expected.reason}" in text and expected.message in text


def test_invalid_predictions_are_worded_as_the_pipeline_words_them(training, tmp_path):
    done = lai_try(build_test_image("malformed"), "--data", str(training), "--json",
                   home=tmp_path)
    report = json.loads(done.stdout)
    assert (done.returncode, report["reason"], report["validated"]) == (3, "invalid_output", False)
    assert report["message"].startswith("/output/predictions.json is not valid: predictions "
                                        "are invalid")


def test_a_time_limit_override_times_out(training, tmp_path):
    done = lai_try(build_test_image("sleep"), "--data", str(training), "--time-limit", "2",
                   home=tmp_path)
    assert done.returncode == 3
    assert "reason:   timeout" in done.stdout and "time limit of 2 s" in done.stdout


def test_the_phase_settings_and_task_come_from_the_api(site, demo_platform, training, tmp_path):
    demo_platform.set_phase("development", limits={"time_limit_s": 3, "memory_mb": 256})
    logged_in(site)
    slow = lai_try(build_test_image("sleep"), "--phase", "lai-liver/development", "--data",
                   str(training), home=site["home"])
    assert slow.returncode == 3, slow.stderr
    assert "time limit of 3 s" in slow.stdout and "phase lai-liver/development" in slow.stdout
    # Without the labels, the predictions are still checked against the challenge's task.
    unlabelled = shutil.copytree(training / "inputs", tmp_path / "unlabelled" / "inputs")
    ok = lai_try(build_test_image("ok"), "--phase", "development", "--challenge", "lai-liver",
                 "--data", str(unlabelled), "--json", home=site["home"])
    report = json.loads(ok.stdout)
    assert (ok.returncode, report["validated"], report["metrics"]) == (0, True, None), ok.stderr
    assert report["limits"]["memory_mb"] == 256


def test_without_login_a_phase_is_refused_and_the_defaults_offered(training, tmp_path):
    done = lai_try("lai-test-ok:latest", "--phase", "lai-liver/development", "--data",
                   str(training), home=tmp_path)
    assert done.returncode == 1 and "lai login URL" in done.stderr
    assert "default limits" in done.stderr


def test_only_the_try_module_imports_the_platform():
    """Every `lai` module but lai_client.trying (imported lazily by `lai try`) needs no Flask."""
    modules = sorted(f"lai_client.{p.stem}" for p in (ROOT / "lai_client").glob("*.py")
                     if p.stem not in ("trying", "__main__"))
    done = subprocess.run([sys.executable, "-c", f"import sys; [__import__(m) for m in "
                           f"{modules!r}]; print(sorted(m for m in sys.modules if m.split('.')[0] "
                           "in ('flask', 'lai_platform', 'sqlalchemy', 'werkzeug')))"],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"
