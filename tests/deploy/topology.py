"""The production topology as local processes, every one of them private to the test:
PostgreSQL (its own cluster: initdb + pg_ctl as the postgres user), Redis, an S3 store (moto)
behind a switch that can cut it off, a Docker Engine of its own (own data root, exec root,
socket and pid file), gunicorn with the production configuration, two CPU workers and a
control worker started with the README's command — each process with its OWN data
directory: only the database, the broker and the object store are shared, as if each ran on
a machine of its own.

Loopback only, free ports, temporary folders. Every process runs in a session of its own
and is killed (its whole group) at `close`, even when a test failed; every wait is bounded.
The machine's own dockerd, PostgreSQL (5432) and Redis (6379) are never touched.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import boto3
import docker
import redis
import requests

from tests.deploy.processes import Proc, Switch, wait_until
from tests.net import free_port
from tests.paths import ROOT

VENV_BIN = ROOT / ".venv" / "bin"
BUCKET = "lai"
AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
       "AWS_DEFAULT_REGION": "us-east-1"}
HEARTBEAT_TIMEOUT_S = 9  # small: a dead worker's run is retried within seconds


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def missing() -> str | None:
    """Why the topology cannot run here (None: it can)."""
    if os.geteuid() != 0:
        return "needs root (a private dockerd, a PostgreSQL cluster run as postgres)"
    for tool in ("redis-server", "dockerd"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if pg_bin() is None:
        return "PostgreSQL server binaries are not installed"
    if not (VENV_BIN / "celery").exists() or not (VENV_BIN / "gunicorn").exists():
        return "the virtual environment lacks celery or gunicorn"
    return None


def unmount_under(root: Path) -> None:
    """What a killed worker left mounted (input images, output tmpfs) and the engine's
    mounts: lazily, deepest first."""
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for point in sorted((m for m in mounts if m.startswith(f"{root}/")), reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, timeout=30)


class Topology:
    def __init__(self) -> None:
        # Short paths: a unix socket path must stay under 108 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="lai-topo-"))
        self.root.chmod(0o755)
        self.procs: dict[str, Proc] = {}
        self.pg_port, self.redis_port, self.s3_port, self.web_port = (free_port()
                                                                      for _ in range(4))
        self.pg_dir = self.root / "pg"
        self.docker_sock = self.root / "d.sock"
        self.switch = Switch(self.s3_port)
        self.database_url = f"postgresql+psycopg://postgres@127.0.0.1:{self.pg_port}/lai"
        self.broker_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.storage_url = (f"s3://{BUCKET}/data?endpoint_url="
                            f"http://127.0.0.1:{self.switch.port}")
        self.timings: dict[str, float] = {}

    # -- bring-up -------------------------------------------------------------------------

    def start(self) -> Topology:
        started = time.monotonic()
        self.start_postgres(init=True)
        self.start_redis()
        self.start_s3()
        self.start_dockerd()
        self.migrate()
        self.start_web()
        for name in ("worker-1", "worker-2", "control"):
            self.start_worker(name)
        self.timings["bring-up"] = time.monotonic() - started
        return self

    def start_postgres(self, init: bool = False) -> None:
        bindir = pg_bin()
        if init:
            self.pg_dir.mkdir()
            shutil.chown(self.pg_dir, "postgres", "postgres")
            subprocess.run(["runuser", "-u", "postgres", "--", str(bindir / "initdb"), "-D",
                            str(self.pg_dir), "-A", "trust", "-U", "postgres"],
                           check=True, capture_output=True, timeout=120)
        self._pg_ctl("start", "-o", f"-p {self.pg_port} -k {self.pg_dir} "
                     "-c listen_addresses=127.0.0.1 -c fsync=off")
        if init:
            subprocess.run(["runuser", "-u", "postgres", "--", str(bindir / "createdb"), "-h",
                            "127.0.0.1", "-p", str(self.pg_port), "lai"],
                           check=True, capture_output=True, timeout=60)

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(pg_bin() / "pg_ctl"), "-D",
                        str(self.pg_dir), "-l", str(self.pg_dir / "log"), "-w", "-t", "60",
                        *args], check=True, capture_output=True, timeout=90)

    def restart_postgres(self) -> None:
        """Fast restart: every session is terminated, as in a failover."""
        self._pg_ctl("restart", "-m", "fast")

    def start_redis(self) -> None:
        proc = Proc("redis", ["redis-server", "--port", str(self.redis_port), "--bind",
                              "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                              str(self.root)], self.root / "redis.log").start()
        self.procs["redis"] = proc
        client = redis.Redis(port=self.redis_port, socket_connect_timeout=1)
        wait_until(client.ping, 30, "private redis")

    def start_s3(self) -> None:
        self.procs["s3"] = Proc("s3", [str(VENV_BIN / "python"), "-m", "moto.server", "-H",
                                       "127.0.0.1", "-p", str(self.s3_port)],
                                self.root / "s3.log", env=os.environ | AWS).start()
        wait_until(lambda: requests.get(f"http://127.0.0.1:{self.s3_port}", timeout=2), 60,
                   "moto S3 server")
        self.switch.up()
        self.s3().create_bucket(Bucket=BUCKET)

    def s3(self):
        """A client straight to the store (not through the switch)."""
        return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{self.s3_port}", **{
            "aws_access_key_id": "testing", "aws_secret_access_key": "testing",
            "region_name": "us-east-1"})

    def objects(self) -> set[str]:
        listed = self.s3().list_objects_v2(Bucket=BUCKET)
        return {item["Key"] for item in listed.get("Contents", [])}

    def start_dockerd(self) -> None:
        for sub in ("data", "exec"):
            (self.root / sub).mkdir(exist_ok=True)
        self.procs["dockerd"] = Proc("dockerd", [
            "dockerd", "--bridge=none", "--iptables=false", "--ip6tables=false",
            "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "exec"),
            "-H", f"unix://{self.docker_sock}", "--pidfile", str(self.root / "d.pid"),
        ], self.root / "dockerd.log").start()
        wait_until(lambda: self.docker().ping(), 60, "private dockerd")

    def restart_dockerd(self, crash: bool = False) -> None:
        """`crash`: SIGKILL (with its containerd); else a clean stop, as `systemctl restart`."""
        if crash:
            self.procs["dockerd"].kill()
        else:
            self.procs["dockerd"].stop(wait_s=60)
        self.start_dockerd()

    def docker(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=f"unix://{self.docker_sock}", timeout=30)

    def containers(self) -> list:
        return self.docker().containers.list(all=True, filters={"label": "lai.deployment"})

    # -- the platform ---------------------------------------------------------------------

    def env(self, name: str) -> dict[str, str]:
        data_dir = self.root / "home" / name  # nothing shared between processes
        data_dir.mkdir(parents=True, exist_ok=True)
        return os.environ | AWS | {
            "LAI_DATA_DIR": str(data_dir), "LAI_DATABASE_URL": self.database_url,
            "LAI_BROKER_URL": self.broker_url, "LAI_STORAGE_URL": self.storage_url,
            "LAI_SECRET_KEY": "topology-secret", "LAI_BOOTSTRAP_RESAMPLES": "50",
            "LAI_LEADERBOARD_TTL_S": "0", "LAI_HEARTBEAT_TIMEOUT_S": str(HEARTBEAT_TIMEOUT_S),
            "LAI_REAP_EVERY_S": "2", "LAI_MAX_ATTEMPTS": "5", "LAI_WORKER_NAME": name,
            "LAI_WORKER_HEALTH_PORT": "0", "DOCKER_HOST": f"unix://{self.docker_sock}",
            "PYTHONUNBUFFERED": "1",
        }

    def data_dir(self, name: str) -> Path:
        return self.root / "home" / name

    def migrate(self) -> None:
        subprocess.run([str(VENV_BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=ROOT,
                       env=self.env("migrate"), check=True, capture_output=True, timeout=300)

    def start_web(self) -> None:
        env = self.env("web") | {"LAI_BIND": f"127.0.0.1:{self.web_port}",
                                 "LAI_WEB_WORKERS": "2", "LAI_WEB_THREADS": "8"}
        self.procs["web"] = Proc("web", [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py",
                                         "app:app"], self.root / "web.log", env=env).start()
        wait_until(lambda: requests.get(f"{self.web}/api/v1/challenges", timeout=5).ok, 90,
                   "gunicorn web")

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_worker(self, name: str) -> None:
        """The README's worker command, with a data directory of its own."""
        queue = "control" if name == "control" else "cpu"
        log = self.root / f"{name}.log"
        proc = Proc(name, [str(VENV_BIN / "celery"), "-A", "lai_platform.jobs.celery_worker",
                           "worker", "-Q", queue, "-c", "1", "-n", f"{name}@%h",
                           "--loglevel", "info"], log, env=self.env(name))
        size = log.stat().st_size if log.exists() else 0
        self.procs[name] = proc.start()
        wait_until(lambda: " ready." in log.read_text(errors="replace")[size:], 120,
                   f"celery {name}")

    # -- tear-down ------------------------------------------------------------------------

    def close(self) -> None:
        """Everything killed, whatever state the test left it in; then the folders."""
        for name, proc in reversed(list(self.procs.items())):
            if name == "dockerd":
                self._remove_containers()
                proc.stop(wait_s=60)
            else:
                proc.kill()
        self.switch.down()
        try:
            self._pg_ctl("stop", "-m", "immediate")
        except Exception:  # not started, or already gone
            pass
        self._kill_leftovers()
        unmount_under(self.root)
        shutil.rmtree(self.root, ignore_errors=True)

    def _kill_leftovers(self) -> None:
        """Container shims (and their containers) of the private engine that outlived it:
        found by this topology's folder in their command line, killed by id."""
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if str(self.root).encode() in (proc / "cmdline").read_bytes():
                    children = (proc / "task" / proc.name / "children").read_text().split()
                    for pid in [*children, proc.name]:
                        os.kill(int(pid), 9)
            except (OSError, ValueError):
                continue

    def _remove_containers(self) -> None:
        try:
            for container in self.docker().containers.list(all=True):
                container.remove(force=True)
        except Exception:  # the engine is down: its folders go anyway
            pass

    def logs(self) -> str:
        """The last lines of every log, for a failing test's report."""
        return "\n".join(f"--- {name}\n" + "\n".join(proc.log_text().splitlines()[-40:])
                         for name, proc in self.procs.items())
