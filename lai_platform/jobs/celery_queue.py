"""Production queue: Celery on a Redis broker. Runs go to the `cpu` or `gpu` queue; rankings
and re-scorings to `control`, which a worker of its own serves, so a leaderboard never waits
behind a 30-minute run:

    celery -A lai_platform.jobs.celery_worker worker -Q cpu            (and/or -Q gpu)
    celery -A lai_platform.jobs.celery_worker worker -Q control

Reaping needs no beat and no particular worker: every worker process runs a reaper thread
(`start_reaper`) beside its pool, so it never waits behind a run and stops with no single
worker. Every step of a tick is idempotent (conditional UPDATEs; a run delivered twice runs
once), and a Redis key per submission keeps N reapers from sending N copies. A beat (`-B`)
left in an old command line only adds a harmless extra tick.

The broker may be down: a send that fails is logged, never raised — the submission row is
the truth and stays `queued`, and the next tick after the broker is back sends it.
"""

from __future__ import annotations

import logging
import os
import threading

import redis
from celery import Celery
from flask import Flask
from sqlalchemy import select

from lai_platform.config import Settings
from lai_platform.extensions import db
from lai_platform.jobs.base import Handler
from lai_platform.jobs.gpu_wait import fail_overdue_gpu_runs
from lai_platform.jobs.recovery import due_to_run, remove_stray_containers, requeue_stale
from lai_platform.jobs.rescoring import rescorings_due
from lai_platform.leaderboards.ranking_job import phases_due
from lai_platform.models import Phase, Submission
from lai_platform.submissions.resumable import expire_stale_uploads

log = logging.getLogger(__name__)

TASK_RUN = "lai.run_submission"
TASK_REAP = "lai.reap"
TASK_RANK = "lai.rank_phase"
TASK_RESCORE = "lai.rescore_phase"
CONTROL = "control"
REAP_EVERY_S = float(os.environ.get("LAI_REAP_EVERY_S", "15"))
# A queued submission's message is sent again after this long even if Redis says it was
# sent (a message lost some other way); a duplicate is harmless, only wasteful.
SENT_TTL_S = 600
BROKER_TIMEOUT_S = 2.0


def make_celery(settings: Settings) -> Celery:
    celery = Celery("lai", broker=settings.broker_url)
    celery.conf.update(
        task_acks_late=True,  # a worker that dies mid-run leaves the message for another
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="cpu",
        broker_connection_retry_on_startup=True,
        # A broker that is down answers within seconds: a participant's upload must not
        # wait on it (the row is queued; the reaper sends it later).
        broker_connection_timeout=BROKER_TIMEOUT_S,
        broker_transport_options={"socket_connect_timeout": BROKER_TIMEOUT_S,
                                  "socket_timeout": 10},
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0.2,
                                   "interval_step": 0.5, "interval_max": 0.5},
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
        self._redis: redis.Redis | None = None
        self._stopping = threading.Event()
        self._reaper: threading.Thread | None = None

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

    # -- sending --------------------------------------------------------------------------

    def enqueue(self, submission_id: int) -> None:
        submission = db.session.get(Submission, submission_id)
        if submission is not None:
            self._send_run(submission.id, submission.attempts, submission.phase.limits)

    def _send_run(self, submission_id: int, attempts: int, limits: dict | None) -> bool:
        queue = "gpu" if (limits or {}).get("gpu") else "cpu"
        if not self._send(TASK_RUN, submission_id, queue):
            return False
        self._mark_sent(submission_id, attempts)
        return True

    def _send(self, task: str, arg: int, queue: str) -> bool:
        try:
            self.celery.send_task(task, args=[arg], queue=queue)
            return True
        except Exception as exc:  # the broker is down: the reaper sends it when it is back
            log.warning("broker unreachable, %s(%s) not sent now (%s); the reaper sends it "
                        "when the broker is back", task, arg, type(exc).__name__)
            return False

    def enqueue_ranking(self, phase_id: int) -> None:
        self._send(TASK_RANK, phase_id, CONTROL)

    def enqueue_rescoring(self, rescoring_id: int) -> None:
        self._send(TASK_RESCORE, rescoring_id, CONTROL)

    # -- what was sent (in Redis, beside the queues: both are lost together) ---------------

    def _client(self) -> redis.Redis | None:
        if not self.settings.broker_url.startswith(("redis://", "rediss://")):
            return None
        if self._redis is None:
            self._redis = redis.Redis.from_url(
                self.settings.broker_url, socket_timeout=BROKER_TIMEOUT_S,
                socket_connect_timeout=BROKER_TIMEOUT_S)
        return self._redis

    def _key(self, name: str) -> str:
        return f"lai:{self.settings.deployment}:{name}"  # deployments may share a Redis

    def _mark_sent(self, submission_id: int, attempts: int) -> None:
        try:
            if client := self._client():
                client.set(self._key(f"sent:{submission_id}"), attempts, ex=SENT_TTL_S)
        except redis.RedisError:
            pass  # only means one more send by a reaper later

    def _was_sent(self, submission_id: int, attempts: int) -> bool:
        """Sent for this attempt already (a retried run has a new attempt number)."""
        client = self._client()
        if client is None:
            return False
        value = client.get(self._key(f"sent:{submission_id}"))
        return value is not None and int(value) == attempts

    def _take_tick(self) -> bool:
        """One reaper in all the workers sends the rankings and re-scorings of a tick."""
        client = self._client()
        if client is None:
            return True
        return bool(client.set(self._key("tick"), 1, nx=True, px=int(REAP_EVERY_S * 900)))

    # -- reaping --------------------------------------------------------------------------

    def reap(self) -> None:
        """Retry runs whose worker died; send queued submissions whose message was lost or
        never sent (broker down); request due rankings and unfinished re-scorings."""
        with self.app.app_context():
            requeue_stale(self.settings.heartbeat_timeout_s, self.settings.max_attempts)
            fail_overdue_gpu_runs()  # GPU runs with no GPU worker (conditional)
            remove_stray_containers()  # this worker's engine: no container outlives its run
            rows = db.session.execute(
                select(Submission.id, Submission.attempts, Phase.limits)
                .join(Phase, Phase.id == Submission.phase_id)
                .where(*due_to_run())
                .order_by(Submission.created_at, Submission.id)
            ).all()
            db.session.commit()  # no transaction held while talking to the broker
            for submission_id, attempts, limits in rows:
                if not self._was_sent(submission_id, attempts):
                    self._send_run(submission_id, attempts, limits)
            if self._take_tick():
                for phase_id in phases_due():
                    self.enqueue_ranking(phase_id)
                for rescoring_id in rescorings_due():
                    self.enqueue_rescoring(rescoring_id)
                expire_stale_uploads()  # unfinished for a day: their parts dropped

    def start_reaper(self) -> None:
        """A worker process starts its reaper thread (beside the pool, never behind a run)."""
        if self._reaper is None:
            self._reaper = threading.Thread(target=self._reap_forever, name="lai-reaper",
                                            daemon=True)
            self._reaper.start()

    def _reap_forever(self) -> None:
        while not self._stopping.wait(REAP_EVERY_S):
            try:
                self.reap()
            except Exception as exc:  # database or broker down: try again next tick
                log.warning("reaper tick failed (%s: %s); next in %.0f s",
                            type(exc).__name__, exc, REAP_EVERY_S)

    def worker_started(self) -> None:
        """A worker process starts: remove containers that no live run owns any more."""
        with self.app.app_context():
            remove_stray_containers()

    def start(self) -> None:
        """Celery workers are separate processes; the web process only sends."""

    def stop(self) -> None:
        self._stopping.set()
