"""Settings from environment variables; the same code runs embedded and in production."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    storage_url: str
    broker_url: str  # empty: in-process worker threads
    secret_key: str
    worker_threads: int
    bootstrap_resamples: int
    heartbeat_timeout_s: int
    max_attempts: int
    max_upload_bytes: int
    # How long a process trusts the ranking version it read before asking again: a new
    # ranking reaches readers within this many seconds (leaderboard pages are cached).
    leaderboard_ttl_s: float = 0.5
    # Behind HTTPS: cookies only over HTTPS, and the proxy's X-Forwarded-* headers trusted.
    secure_cookies: bool = False
    trusted_proxies: int = 0
    # Operations (issue 10): worker hygiene, the GPU path, health and metrics.
    worker_name: str = ""  # empty: <hostname>-<pid> of the worker process
    image_budget_bytes: int = 50 * 2**30  # images this worker loaded, LRU beyond it
    min_free_disk_bytes: int = 5 * 2**30  # left free after fetching and loading an image
    input_cache_bytes: int = 20 * 2**30  # staged test inputs, LRU beyond it
    gpu_wait_s: float = 3600.0  # a GPU run waits this long for a GPU worker, then fails
    worker_health_port: int = 9101  # 0: no health endpoint on workers
    worker_health_host: str = "127.0.0.1"
    metrics_token: str = ""  # set: /metrics asks for it as a bearer token
    # E-mail when a run ends (issue 11), for those who opt in; off while smtp_host is empty.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = ""
    # Resumable uploads (issue 11): chunk size (S3 raises it to its 5 MiB part minimum).
    upload_chunk_bytes: int = 8 * 2**20

    @property
    def deployment(self) -> str:
        """Names this deployment's containers; deployments differ by their database."""
        return hashlib.sha256(self.database_url.encode()).hexdigest()[:12]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("LAI_DATA_DIR", "instance")).resolve()
        return cls(
            data_dir=data_dir,
            database_url=env.get("LAI_DATABASE_URL") or f"sqlite:///{data_dir / 'lai.db'}",
            storage_url=env.get("LAI_STORAGE_URL") or f"file://{data_dir / 'storage'}",
            broker_url=env.get("LAI_BROKER_URL", ""),
            secret_key=env.get("LAI_SECRET_KEY") or _persistent_secret(data_dir),
            worker_threads=_worker_threads(env.get("LAI_WORKER_THREADS", "auto")),
            bootstrap_resamples=int(env.get("LAI_BOOTSTRAP_RESAMPLES", "1000")),
            heartbeat_timeout_s=int(env.get("LAI_HEARTBEAT_TIMEOUT_S", "120")),
            max_attempts=int(env.get("LAI_MAX_ATTEMPTS", "5")),
            max_upload_bytes=int(env.get("LAI_MAX_UPLOAD_BYTES", str(16 * 2**30))),
            leaderboard_ttl_s=float(env.get("LAI_LEADERBOARD_TTL_S", "0.5")),
            secure_cookies=env.get("LAI_SECURE_COOKIES", "0") == "1",
            trusted_proxies=int(env.get("LAI_TRUSTED_PROXIES", "0")),
            **_operations(env),
        )


def _operations(env: dict[str, str]) -> dict:
    def gib(name: str, default: str) -> int:
        return int(float(env.get(name, default)) * 2**30)

    return {
        "worker_name": env.get("LAI_WORKER_NAME", ""),
        "image_budget_bytes": gib("LAI_IMAGE_BUDGET_GB", "50"),
        "min_free_disk_bytes": gib("LAI_MIN_FREE_DISK_GB", "5"),
        "input_cache_bytes": gib("LAI_INPUT_CACHE_GB", "20"),
        "gpu_wait_s": float(env.get("LAI_GPU_WAIT_S", "3600")),
        "worker_health_port": int(env.get("LAI_WORKER_HEALTH_PORT", "9101")),
        "worker_health_host": env.get("LAI_WORKER_HEALTH_HOST", "127.0.0.1"),
        "metrics_token": env.get("LAI_METRICS_TOKEN", ""),
        "smtp_host": env.get("LAI_SMTP_HOST", ""),
        "smtp_port": int(env.get("LAI_SMTP_PORT", "25")),
        "smtp_from": env.get("LAI_SMTP_FROM", ""),
        "upload_chunk_bytes": int(float(env.get("LAI_UPLOAD_CHUNK_MB", "8")) * 2**20),
    }


def _worker_threads(value: str) -> int:
    """`auto`: two per CPU. Threads also stage, load and score; the containers themselves
    take turns for the host's CPUs and memory (runner.budget)."""
    if value.strip().lower() == "auto":
        return 2 * (os.cpu_count() or 1)
    return max(1, int(value))


def _persistent_secret(data_dir: Path) -> str:
    """A random key kept under the data dir, so sessions survive restarts of the demo."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
