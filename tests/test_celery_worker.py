"""Production queue: a real Celery worker process on Redis runs a submission."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from tests.conftest import build_platform, make_settings
from tests.docker_images import build_test_image, save_image
from tests.paths import ROOT

pytestmark = pytest.mark.docker

REDIS = os.environ.get("LAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/")


def redis_up() -> bool:
    import redis

    try:
        return redis.Redis.from_url(REDIS + "0").ping()
    except redis.RedisError:
        return False


def redis_database() -> int:
    """A Redis database of this test's own: parallel test workers take turns."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    slots = max(1, 15 // workers)  # databases 1-15; 0 is left to people
    return 1 + (worker * slots + uuid.uuid4().int % slots) % 15


@pytest.mark.skipif(not redis_up(), reason="Redis is not running (make test starts it)")
def test_celery_worker_runs_a_submission(tmp_path, any_database, demo_bundle):
    broker = REDIS + str(redis_database())
    settings = make_settings(tmp_path, any_database, broker_url=broker)
    platform = build_platform(settings)
    platform.load_challenge(demo_bundle)
    ada = platform.participant()
    ada.join()
    env = os.environ | {
        "LAI_DATA_DIR": str(settings.data_dir), "LAI_DATABASE_URL": settings.database_url,
        "LAI_BROKER_URL": broker, "LAI_SECRET_KEY": settings.secret_key,
        "LAI_BOOTSTRAP_RESAMPLES": "200",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "lai_platform.jobs.celery_worker", "worker",
         "-Q", "cpu,control", "--pool", "solo", "--loglevel", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        tarball = save_image(build_test_image("ok"), tmp_path / "ok.tar")
        submission = ada.submit(tarball).get_json()
        done = ada.wait_for(submission["id"], timeout=180)
        assert done["status"] == "succeeded"
        assert done["rank"] == 1
    finally:
        worker.terminate()
        worker.wait(30)
        platform.close()
