"""Production queue: Celery on a Redis broker. Runs go to the `cpu` or `gpu` queue; rankings,
re-scorings and the reaper's tick to `control`, which a worker of its own serves, so a
leaderboard never waits behind a 30-minute run:

    celery -A lai_platform.jobs.celery_worker worker -Q cpu            (and/or -Q gpu)
    celery -A lai_platform.jobs.celery_worker worker -Q control -B     (one, with beat)

The tasks are registered here, on the queue's own Celery app, around the handlers that
`create_app` hands over.
"""

from __future__ import annotations

from celery import Celery
from flask import Flask

from lai_platform.config import Settings
from lai_platform.extensions import db
from lai_platform.jobs.base import Handler
from lai_platform.jobs.recovery import queued_ids, remove_stray_containers, requeue_stale
from lai_platform.jobs.rescoring import rescorings_due
from lai_platform.leaderboards.ranking_job import phases_due
from lai_platform.models import Submission

TASK_RUN = "lai.run_submission"
TASK_REAP = "lai.reap"
TASK_RANK = "lai.rank_phase"
TASK_RESCORE = "lai.rescore_phase"
CONTROL = "control"
REAP_EVERY_S = 15.0


def make_celery(settings: Settings) -> Celery:
    celery = Celery("lai", broker=settings.broker_url)
    celery.conf.update(
        task_acks_late=True,  # a worker that dies mid-run leaves the message for another
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="cpu",
        broker_connection_retry_on_startup=True,
        beat_schedule={
            "reap": {"task": TASK_REAP, "schedule": REAP_EVERY_S, "options": {"queue": CONTROL}}
        },
    )
    return celery


class CeleryJobQueue:
    def __init__(self, app: Flask, settings: Settings, run: Handler, rank: Handler,
                 rescore: Handler) -> None:
        self.app = app
        self.settings = settings
        self.celery = make_celery(settings)

        @self.celery.task(name=TASK_RUN)
        def run_task(submission_id: int) -> None:
            run(app, submission_id)

        @self.celery.task(name=TASK_RANK)
        def rank_task(phase_id: int) -> None:
            rank(app, phase_id)

        @self.celery.task(name=TASK_RESCORE)
        def rescore_task(rescoring_id: int) -> None:
            rescore(app, rescoring_id)

        @self.celery.task(name=TASK_REAP)
        def reap() -> None:
            self.reap()

    def enqueue(self, submission_id: int) -> None:
        submission = db.session.get(Submission, submission_id)
        gpu = bool(submission and (submission.phase.limits or {}).get("gpu"))
        self.celery.send_task(TASK_RUN, args=[submission_id], queue="gpu" if gpu else "cpu")

    def enqueue_ranking(self, phase_id: int) -> None:
        self.celery.send_task(TASK_RANK, args=[phase_id], queue=CONTROL)

    def enqueue_rescoring(self, rescoring_id: int) -> None:
        self.celery.send_task(TASK_RESCORE, args=[rescoring_id], queue=CONTROL)

    def reap(self) -> None:
        """Retry runs whose worker died; re-send queued submissions whose message was lost;
        request the rankings that are due and unfinished re-scorings (the tick)."""
        with self.app.app_context():
            requeue_stale(self.settings.heartbeat_timeout_s, self.settings.max_attempts)
            for submission_id in queued_ids():
                self.enqueue(submission_id)
            for phase_id in phases_due():
                self.enqueue_ranking(phase_id)
            for rescoring_id in rescorings_due():
                self.enqueue_rescoring(rescoring_id)

    def worker_started(self) -> None:
        """A worker process starts: remove containers that no live run owns any more."""
        with self.app.app_context():
            remove_stray_containers()

    def start(self) -> None:
        """Celery workers are separate processes; the web process only sends."""

    def stop(self) -> None:
        pass
