"""The platform as processes on loopback, for bench/load.py: the embedded server
(`python app.py`) or the production configuration (gunicorn with gunicorn.conf.py, Celery
workers for runs and for rankings, PostgreSQL, Redis, S3 over HTTP from moto's server).

Everything listens on 127.0.0.1 only and is stopped when the `with` ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import sqlalchemy as sa

from tests.net import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("LAI_TEST_PG_URL", "postgresql+psycopg://lai:lai@127.0.0.1:5432/")
REDIS = os.environ.get("LAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Stack:
    production: bool
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="lai-bench-")))
    env: dict = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)
    base_url: str = ""
    _database: str = ""

    def __enter__(self) -> Stack:
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.env = os.environ | {
            "LAI_DATA_DIR": str(self.data_dir), "LAI_SECRET_KEY": "bench",
            "LAI_LOAD_DEMO": "0", "LAI_BOOTSTRAP_RESAMPLES": "200",
        }
        if self.production:
            self._production_services(port)
        self._migrate()
        return self

    def _production_services(self, port: int) -> None:
        self._database = f"lai_bench_{uuid.uuid4().hex[:10]}"
        self._pg(f'CREATE DATABASE "{self._database}"')
        s3_port = free_port()
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        endpoint = f"http://127.0.0.1:{s3_port}"
        wait_for(endpoint)
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="lai")
        self.env |= {
            "LAI_DATABASE_URL": PG_ADMIN + self._database,
            "LAI_BROKER_URL": REDIS + str(1 + uuid.uuid4().int % 15),
            "LAI_STORAGE_URL": f"s3://lai/platform?endpoint_url={endpoint}",
            "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
            "AWS_DEFAULT_REGION": os.environ["AWS_DEFAULT_REGION"],
            "LAI_BIND": f"127.0.0.1:{port}",
        }

    def _migrate(self) -> None:
        subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
                       cwd=ROOT, env=self.env, check=True, capture_output=True)

    def start_servers(self) -> None:
        """The web server(s) and, in production, the Celery workers."""
        log = open(self.data_dir / "servers.log", "ab")  # noqa: SIM115 (closed with the stack)
        if self.production:
            self._spawn(["-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"], log)
            for queue, extra in (("cpu", ["--concurrency", "2"]),
                                 ("control", ["--concurrency", "2", "-B"])):
                self._spawn(["-m", "celery", "-A", "lai_platform.jobs.celery_worker", "worker",
                             "-Q", queue, "--loglevel", "warning", *extra,
                             "-s", str(self.data_dir / f"beat-{queue}")], log)
        else:
            port = self.base_url.rsplit(":", 1)[1]
            self._spawn(["app.py", "--host", "127.0.0.1", "--port", port], log)
        wait_for(self.base_url + "/scoring")

    def _spawn(self, args: list[str], log) -> None:
        self.processes.append(subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=self.env, stdout=log, stderr=log,
            start_new_session=True))

    def web_pids(self) -> list[int]:
        """The processes that serve requests (gunicorn's workers, or app.py)."""
        web = self.processes[1] if self.production else self.processes[0]
        children = Path(f"/proc/{web.pid}/task/{web.pid}/children")
        kids = [int(p) for p in children.read_text().split()] if children.exists() else []
        return kids or [web.pid]

    def __exit__(self, *exc) -> None:
        for process in reversed(self.processes):
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                process.terminate()
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        if self._database:
            self._pg(f'DROP DATABASE IF EXISTS "{self._database}" WITH (FORCE)')

    @staticmethod
    def _pg(statement: str) -> None:
        engine = sa.create_engine(PG_ADMIN + "postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(statement))
        engine.dispose()
