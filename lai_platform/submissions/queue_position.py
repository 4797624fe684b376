"""Where a queued submission stands: the runs ahead of it in its queue, and when it should
start.

A run goes to the `gpu` queue when its phase's limits ask for a GPU, else to `cpu` (see
jobs.celery_queue); embedded, one pool of worker threads runs everything, so every run is in
one queue. The runs ahead of a queued submission are the queued ones of its queue created
before it, plus those of its queue running now.

The expected start is an estimate: the median duration of the queue's recent runs, spread
over the workers alive now (their rows in the workers table; embedded, the worker threads).
With no run finished yet, or no worker alive, there is nothing to base it on: None.
"""

from __future__ import annotations

import heapq
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from lai_platform import services
from lai_platform.extensions import db
from lai_platform.models import Phase, Submission, SubmissionStatus, Worker
from lai_platform.models._time import utcnow
from lai_platform.runner.base import RunLimits

RECENT_RUNS = 50  # the median is of this many latest finished runs of the queue
ACTIVE = (SubmissionStatus.QUEUED, SubmissionStatus.RUNNING)


@dataclass(frozen=True)
class QueueStanding:
    position: int | None  # runs ahead of it (0: it is next); None once it runs or ended
    running: int  # runs of its queue running now
    expected_start: datetime | None  # naive UTC; None: not queued, or no basis to estimate


def queue_of(limits: dict | None) -> str:
    return "gpu" if RunLimits.from_mapping(limits).gpu else "cpu"


def standing(sub: Submission, now: datetime | None = None) -> QueueStanding:
    """Its place in its queue and expected start (position None unless it is queued)."""
    if sub.status != SubmissionStatus.QUEUED:
        return QueueStanding(None, 0, None)
    now = now or utcnow()
    queue = _queue_name(sub.phase.limits)
    active = [row for row in db.session.execute(
        select(Submission.id, Submission.status, Submission.created_at, Submission.started_at,
               Phase.limits)
        .join(Phase, Phase.id == Submission.phase_id)
        .where(Submission.status.in_(ACTIVE))
    ) if _queue_name(row.limits) == queue]
    running = [row.started_at or now for row in active
               if row.status == SubmissionStatus.RUNNING]
    queued_ahead = sum(
        1 for row in active if row.status == SubmissionStatus.QUEUED
        and (row.created_at, row.id) < (sub.created_at, sub.id)
    )
    median = median_run_seconds(queue)
    workers = live_workers(queue, now)
    expected = (estimate_start(now, median, workers, running, queued_ahead)
                if median is not None else None)
    return QueueStanding(queued_ahead + len(running), len(running), expected)


def _queue_name(limits: dict | None) -> str:
    # Embedded, the worker threads take every run: one queue.
    return queue_of(limits) if services.get().settings.broker_url else "all"


def median_run_seconds(queue: str) -> float | None:
    """Median start-to-finish time of the queue's latest finished runs (None: none yet)."""
    rows = db.session.execute(
        select(Submission.started_at, Submission.finished_at, Phase.limits)
        .join(Phase, Phase.id == Submission.phase_id)
        .where(Submission.status.in_((SubmissionStatus.SUCCEEDED, SubmissionStatus.FAILED)),
               Submission.started_at.is_not(None), Submission.finished_at.is_not(None))
        .order_by(Submission.finished_at.desc())
        .limit(RECENT_RUNS * 4)  # some may belong to the other queue
    ).all()
    durations = [(row.finished_at - row.started_at).total_seconds()
                 for row in rows if _queue_name(row.limits) == queue][:RECENT_RUNS]
    return max(0.0, statistics.median(durations)) if durations else None


def live_workers(queue: str, now: datetime) -> int:
    """Workers that take runs of the queue: those seen within the heartbeat timeout, or
    embedded, the worker threads."""
    settings = services.get().settings
    if not settings.broker_url:
        return settings.worker_threads
    cutoff = now - timedelta(seconds=settings.heartbeat_timeout_s)
    names = db.session.scalars(select(Worker.queues).where(Worker.last_seen >= cutoff))
    return sum(1 for queues in names if queue in (queues or []))


def estimate_start(now: datetime, median_s: float, workers: int, running: list[datetime],
                   queued_ahead: int) -> datetime | None:
    """When a run with `queued_ahead` queued runs before it starts, if each run takes
    `median_s` and `workers` slots serve the queue, some busy with runs started at
    `running`. None with no worker."""
    if workers <= 0:
        return None
    # Each slot frees at: a running run's expected end (now at the earliest), or now if idle.
    free_at = sorted(max(0.0, median_s - (now - started).total_seconds()) for started in running)
    free_at += [0.0] * max(0, workers - len(free_at))
    heapq.heapify(free_at)
    for _ in range(queued_ahead):  # each run ahead takes the first slot to free up
        heapq.heappush(free_at, heapq.heappop(free_at) + median_s)
    return now + timedelta(seconds=free_at[0])
