"""The Celery worker process: `celery -A lai_platform.jobs.celery_worker worker -Q cpu`.

No beat is needed: each worker process runs its own reaper thread (see celery_queue).
"""

from __future__ import annotations

from celery.signals import worker_process_init, worker_ready, worker_shutdown

from lai_platform import create_app, services
from lai_platform.extensions import db
from lai_platform.ops import worker_start

flask_app = create_app()
queue = services.get(flask_app).jobs
celery = queue.celery  # type: ignore[attr-defined]
worker_start.install(flask_app)  # name, GPU probe (or refusing -Q gpu), workers row, /healthz


@worker_process_init.connect
def _fresh_connections(**_) -> None:
    # A pool process is a fork: database connections of the parent must not be shared.
    with flask_app.app_context():
        db.engine.dispose(close=False)


@worker_ready.connect
def _clean_up(**_) -> None:
    queue.worker_started()  # type: ignore[attr-defined]
    queue.start_reaper()  # type: ignore[attr-defined]


@worker_shutdown.connect
def _stop(**_) -> None:
    queue.stop()
