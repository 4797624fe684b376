"""Production queue: Celery on a Redis broker, queues `cpu` and `gpu`.

Workers start with `celery -A lai_platform.jobs.celery_worker worker -Q cpu` (or `gpu`).
"""

from __future__ import annotations

from celery import Celery

from lai_platform.config import Settings

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
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.celery = make_celery(settings)

    def enqueue(self, submission_id: int) -> None:
        from lai_platform.extensions import db
        from lai_platform.models import Submission

        submission = db.session.get(Submission, submission_id)
        gpu = bool(submission and (submission.phase.limits or {}).get("gpu"))
        self.celery.send_task(TASK_RUN, args=[submission_id], queue="gpu" if gpu else "cpu")

    def start(self) -> None:
        """Celery workers are separate processes; the web process only sends."""

    def stop(self) -> None:
        pass
