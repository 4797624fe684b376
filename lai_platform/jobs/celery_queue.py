"""Production queue: Celery on a Redis broker, queues `cpu` and `gpu`.

Workers start with `celery -A lai_platform.jobs.celery_worker worker -Q cpu` (or `gpu`).
The tasks are registered here, on the queue's own Celery app, around the handler that
`create_app` hands over.
"""

from __future__ import annotations

from celery import Celery
from flask import Flask

from lai_platform.config import Settings
from lai_platform.extensions import db
from lai_platform.jobs.base import Handler
from lai_platform.jobs.recovery import queued_ids, remove_stray_containers, requeue_stale
from lai_platform.models import Submission

TASK_RUN = "lai.run_submission"
TASK_REAP = "lai.reap"


def make_celery(settings: Settings) -> Celery:
    celery = Celery("lai", broker=settings.broker_url)
    celery.conf.update(
        task_acks_late=True,  # a worker that dies mid-run leaves the message for another
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="cpu",
        broker_connection_retry_on_startup=True,
        beat_schedule={"reap": {"task": TASK_REAP, "schedule": 30.0}},
    )
    return celery


class CeleryJobQueue:
    def __init__(
        self, app: Flask, settings: Settings, handler: Handler
    ) -> None:
        self.app = app
        self.settings = settings
        self.celery = make_celery(settings)

        @self.celery.task(name=TASK_RUN)
        def run(submission_id: int) -> None:
            handler(app, submission_id)

        @self.celery.task(name=TASK_REAP)
        def reap() -> None:
            self.reap()

    def enqueue(self, submission_id: int) -> None:
        submission = db.session.get(Submission, submission_id)
        gpu = bool(submission and (submission.phase.limits or {}).get("gpu"))
        self.celery.send_task(TASK_RUN, args=[submission_id], queue="gpu" if gpu else "cpu")

    def reap(self) -> None:
        """Retry runs whose worker died; re-send queued submissions whose message was lost."""
        with self.app.app_context():
            requeue_stale(self.settings.heartbeat_timeout_s, self.settings.max_attempts)
            for submission_id in queued_ids():
                self.enqueue(submission_id)

    def worker_started(self) -> None:
        """A worker process starts: remove containers that no live run owns any more."""
        with self.app.app_context():
            remove_stray_containers()

    def start(self) -> None:
        """Celery workers are separate processes; the web process only sends."""

    def stop(self) -> None:
        pass
