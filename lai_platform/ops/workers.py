"""Who a worker is, and its row in the workers table: written at start, then every few
seconds by a heartbeat thread of the worker's main process.

The name is fixed once per worker: Celery's pool processes are forked from the main process
after `set_name` ran, so the run a pool process claims carries its worker's name.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import func, select

from lai_platform.extensions import db
from lai_platform.models import Worker
from lai_platform.models._time import utcnow

log = logging.getLogger(__name__)

BEAT_EVERY_S = 10.0
_name: str | None = None


def set_name(configured: str = "") -> str:
    """Fix this process's (and its forked children's) worker name."""
    global _name
    _name = configured or f"{socket.gethostname()}-{os.getpid()}"
    return _name


def worker_name() -> str:
    return _name or set_name(os.environ.get("LAI_WORKER_NAME", ""))


def register(queues: list[str], gpu_capable: bool, gpu_reason: str) -> None:
    """Write (or rewrite, after a restart under the same name) this worker's row."""
    now = utcnow()
    row = db.session.get(Worker, worker_name())
    if row is None:
        row = Worker(name=worker_name())
        db.session.add(row)
    row.queues, row.gpu_capable, row.gpu_reason = sorted(queues), gpu_capable, gpu_reason
    row.started_at = row.last_seen = now
    db.session.commit()


def beat() -> None:
    row = db.session.get(Worker, worker_name())
    if row is not None:
        row.last_seen = utcnow()
        db.session.commit()


def start_heartbeat(app: Flask, stop: threading.Event,
                    every_s: float = BEAT_EVERY_S) -> threading.Thread:
    def loop() -> None:
        while not stop.wait(every_s):
            with app.app_context():
                try:
                    beat()
                except Exception:  # the database may be restarting: beat again later
                    log.warning("worker heartbeat failed", exc_info=True)
                    db.session.rollback()
                finally:
                    db.session.remove()

    thread = threading.Thread(target=loop, name="lai-worker-heartbeat", daemon=True)
    thread.start()
    return thread


def live_gpu_workers(timeout_s: float, now: datetime | None = None) -> int:
    """GPU workers seen within `timeout_s` (of `now`): they consume the gpu queue."""
    cutoff = (now or utcnow()) - timedelta(seconds=timeout_s)
    return db.session.scalar(
        select(func.count()).select_from(Worker)
        .where(Worker.gpu_capable.is_(True), Worker.last_seen >= cutoff)
    ) or 0


def last_gpu_worker_seen():
    """When a GPU worker was last seen (None: never)."""
    return db.session.scalar(
        select(func.max(Worker.last_seen)).where(Worker.gpu_capable.is_(True))
    )
