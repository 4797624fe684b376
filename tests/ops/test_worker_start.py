"""A real Celery worker started with `-Q cpu,gpu` on an engine without a GPU: it refuses the
gpu queue and says why, writes its row in the workers table, keeps it fresh, and answers
/healthz on its loopback port."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from flask_migrate import upgrade

from lai_platform import create_app
from lai_platform.extensions import db
from lai_platform.models import Worker
from tests.conftest import make_settings
from tests.net import free_port

pytestmark = pytest.mark.docker
BROKER = os.environ.get("LAI_TEST_BROKER_URL", "redis://127.0.0.1:6379/13")


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"no {what} within {timeout} s")


def test_a_worker_without_a_gpu_refuses_the_gpu_queue(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'lai.db'}"
    app = create_app(make_settings(tmp_path, url))
    with app.app_context():
        upgrade()
    port = free_port()
    env = {**os.environ, "LAI_DATA_DIR": str(tmp_path / "worker"), "LAI_DATABASE_URL": url,
           "LAI_STORAGE_URL": f"file://{tmp_path / 'store'}", "LAI_BROKER_URL": BROKER,
           "LAI_SECRET_KEY": "x", "LAI_WORKER_NAME": "test-worker-a",
           "LAI_WORKER_HEALTH_PORT": str(port)}
    log = (tmp_path / "worker.log").open("w")
    started = time.monotonic()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "lai_platform.jobs.celery_worker", "worker",
         "-Q", "cpu,gpu", "--pool", "solo", "--without-mingle", "--without-gossip"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def health():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    return json.loads(r.read())
            except OSError:
                return None

        body = wait_for(health, 60, "health answer")
        print(f"worker up and healthy in {time.monotonic() - started:.1f} s")
        assert body["status"] == "ok", body
        assert set(body["checks"]) == {"database", "storage", "broker", "engine"}
        assert body["worker"]["name"] == "test-worker-a"
        assert body["worker"]["queues"] == ["cpu"] and not body["worker"]["gpu_capable"]
        with app.app_context():
            row = db.session.get(Worker, "test-worker-a")
            assert row.queues == ["cpu"] and row.gpu_capable is False
            assert "GPU" in row.gpu_reason or "gpu" in row.gpu_reason
        text = (tmp_path / "worker.log").read_text()
        assert "refuses the gpu queue" in text
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        log.close()
