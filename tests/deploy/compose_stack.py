"""The compose stack (docker-compose.yml + compose.local.yml) brought up for one test: its
own project name, ports and worker folders; always taken down again, volumes included."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import requests

from tests.net import free_port
from tests.paths import ROOT

# docker-compose.yml + compose.local.yml, merged (less the published ports host networking
# refuses): see the script.
COMPOSE = ["bash", str(ROOT / "scripts" / "compose_local.sh")]
SERVICES = ["web", "worker-cpu", "worker-cpu-2", "worker-control"]  # and what they need
WORKERS = ["worker-cpu", "worker-cpu-2", "worker-control"]


def missing() -> str | None:
    """Why the stack cannot run here (None: it can); `make test` installs what is missing."""
    if shutil.which("docker-compose") is None:
        return "docker-compose is not installed (scripts/setup.sh installs it)"
    return None


class Stack:
    def __init__(self, root: Path) -> None:
        self.project = f"laitest{uuid.uuid4().hex[:10]}"
        # One folder per worker, as on machines of their own: nothing shared but the
        # database, the broker and the object store. Same path inside and out.
        self.dirs = {name: root / name for name in WORKERS}
        for folder in self.dirs.values():
            folder.mkdir(parents=True)
        self.port = free_port()
        self.env = os.environ | {
            "LAI_SECRET_KEY": uuid.uuid4().hex,
            "LAI_PG_PORT": str(free_port()), "LAI_REDIS_PORT": str(free_port()),
            "LAI_S3_PORT": str(free_port()), "LAI_WEB_PORT": str(self.port),
            "LAI_CPU_HEALTH_PORT": str(free_port()), "LAI_CPU2_HEALTH_PORT": str(free_port()),
            "LAI_CONTROL_HEALTH_PORT": str(free_port()),
            "LAI_CPU_WORKER_DIR": str(self.dirs["worker-cpu"]),
            "LAI_CPU2_WORKER_DIR": str(self.dirs["worker-cpu-2"]),
            "LAI_CONTROL_WORKER_DIR": str(self.dirs["worker-control"]),
        }
        self.base = f"http://127.0.0.1:{self.port}"

    def compose(self, *args: str, timeout: float = 120, stdin: str | None = None,
                check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([*COMPOSE, "-p", self.project, *args],
                              cwd=ROOT, env=self.env, input=stdin, capture_output=True,
                              text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"docker-compose {' '.join(args)}: {done.returncode}\n"
                                 f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def up(self) -> float:
        """Start everything; seconds until the web answers /healthz."""
        started = time.monotonic()
        # `up -d` returns once PostgreSQL, Redis and S3 are healthy and migrate has finished
        # (depends_on conditions), and the web and workers are started.
        self.compose("up", "-d", *SERVICES, timeout=600)
        self.wait_healthy(deadline=time.monotonic() + 180)
        return time.monotonic() - started

    def wait_healthy(self, deadline: float) -> None:
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                answer = requests.get(self.base + "/healthz", timeout=5)
                if answer.status_code == 200:
                    return
                last = f"{answer.status_code} {answer.text[:300]}"
            except requests.RequestException as exc:
                last = type(exc).__name__
            time.sleep(0.5)
        raise AssertionError(f"web not healthy: {last}\n{self.logs()}")

    def flask(self, *args: str, stdin: str | None = None) -> str:
        """`flask --app app ...` in the running web container."""
        return self.compose("exec", "-T", "web", "flask", "--app", "app", *args,
                            stdin=stdin).stdout

    def load_challenge(self, bundle: Path) -> str:
        """`challenges load` in a one-off container with the bundle mounted read-only."""
        return self.compose("run", "--rm", "--no-deps", "-T", "-v", f"{bundle}:/bundle:ro",
                            "migrate", "flask", "--app", "app", "challenges", "load",
                            "/bundle", timeout=300).stdout

    def logs(self, *services: str) -> str:
        done = self.compose("logs", "--no-color", "--tail", "60", *services, check=False)
        return done.stdout[-12000:]

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans", "--timeout", "20", timeout=300,
                     check=False)
