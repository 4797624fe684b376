"""The Celery worker process: `celery -A lai_platform.jobs.celery_worker worker -Q cpu`."""

from __future__ import annotations

from celery.signals import worker_ready

from lai_platform import create_app, services

flask_app = create_app()
queue = services.get(flask_app).jobs
celery = queue.celery  # type: ignore[attr-defined]


@worker_ready.connect
def _clean_up(**_) -> None:
    queue.worker_started()  # type: ignore[attr-defined]
