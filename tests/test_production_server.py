"""The production server configuration (gunicorn.conf.py), run for real: an upload slower
than the worker timeout is taken in, and readers are answered meanwhile."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import requests

from tests.docker_images import synthetic_image, write_tarball
from tests.net import free_port, wait_for
from tests.paths import ROOT


def test_a_slow_upload_outlives_the_worker_timeout(demo_platform, tmp_path):
    ada = demo_platform.participant("ada@example.org")
    ada.join()
    settings = demo_platform.services.settings
    image = write_tarball(tmp_path / "algorithm.tar", synthetic_image()[0]).read_bytes()
    port = free_port()
    env = os.environ | {
        "LAI_DATA_DIR": str(settings.data_dir), "LAI_DATABASE_URL": settings.database_url,
        "LAI_SECRET_KEY": "test-secret", "LAI_BIND": f"127.0.0.1:{port}",
        "LAI_WEB_WORKERS": "1", "LAI_WEB_THREADS": "4", "LAI_WEB_TIMEOUT": "2",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/scoring")

        def slowly():  # 5 s for the whole body: more than twice the worker timeout
            for start in range(0, len(image), len(image) // 10 + 1):
                time.sleep(0.5)
                yield image[start:start + len(image) // 10 + 1]

        answers: list[requests.Response] = []
        upload = threading.Thread(target=lambda: answers.append(requests.post(
            f"{base}/api/v1/challenges/lai-liver/phases/development/submissions",
            data=slowly(), timeout=60,
            headers={"Authorization": f"Bearer {ada.token}",
                     "Content-Type": "application/x-tar"})))
        upload.start()
        readers = []
        while upload.is_alive():
            started = time.monotonic()
            page = requests.get(f"{base}/api/v1/challenges/lai-liver/phases/development/"
                                "leaderboard", timeout=10)
            readers.append((page.status_code, time.monotonic() - started))
            assert page.headers.get("Server") == "lai"  # no version banner
            time.sleep(0.3)
        upload.join()
        assert answers[0].status_code == 202, answers[0].text
        assert len(readers) >= 5 and all(status == 200 for status, _ in readers)
    finally:
        server.terminate()
        server.wait(30)
