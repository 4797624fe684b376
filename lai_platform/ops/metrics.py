"""Prometheus metrics.

Most are read from the database at scrape time (queue lengths, runs by outcome, run time,
upload bytes, live workers): every web process answers the same, however many gunicorn
workers there are, and nothing is lost when a process restarts. Leaderboard cache hits are
counted in each process; set PROMETHEUS_MULTIPROC_DIR (an empty folder, cleared at start) to
add them up over gunicorn's workers (prometheus-client's multiprocess mode), else a scrape
sees the process that answered it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

import redis
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import case, func, select

from lai_platform import services
from lai_platform.extensions import db
from lai_platform.jobs.gpu_wait import needs_gpu
from lai_platform.models import (
    ContainerImage,
    Phase,
    Submission,
    SubmissionStatus,
    Upload,
    UploadStatus,
    Worker,
)
from lai_platform.models._time import utcnow

RUN_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
BROKER_QUEUES = ("cpu", "gpu", "control")


def _queue_lengths() -> Metric:
    metric = GaugeMetricFamily("lai_queue_length", "Submissions waiting to run, per queue "
                               "(from the database: the broker may hold a message twice)",
                               labels=["queue"])
    counts = {"cpu": 0, "gpu": 0}
    phases = db.session.execute(
        select(Submission.phase_id, func.count()).where(
            Submission.status == SubmissionStatus.QUEUED).group_by(Submission.phase_id)
    ).all()
    for phase_id, count in phases:
        counts["gpu" if needs_gpu(db.session.get(Phase, phase_id)) else "cpu"] += count
    for queue, count in counts.items():
        metric.add_metric([queue], count)
    return metric


def _broker_lengths() -> Metric | None:
    url = services.get().settings.broker_url
    if not url:
        return None
    metric = GaugeMetricFamily("lai_broker_queue_length", "Messages in each broker queue",
                               labels=["queue"])
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        for queue in BROKER_QUEUES:
            metric.add_metric([queue], client.llen(queue))
    except redis.RedisError:
        return None  # /healthz says the broker is down; metrics still answer
    finally:
        client.close()
    return metric


def _runs() -> Iterator[Metric]:
    outcome = case((Submission.status == SubmissionStatus.SUCCEEDED, "succeeded"),
                   else_=func.coalesce(Submission.failure_reason, "failed"))
    runs = CounterMetricFamily("lai_runs", "Finished runs by outcome (succeeded, or the "
                               "failure reason)", labels=["outcome"])
    for name, count in db.session.execute(
        select(outcome, func.count()).where(Submission.status.in_(
            [SubmissionStatus.SUCCEEDED, SubmissionStatus.FAILED])).group_by(outcome)
    ):
        runs.add_metric([name], count)
    yield runs
    timed = Submission.run_seconds.is_not(None)
    row = db.session.execute(select(
        func.count(), func.coalesce(func.sum(Submission.run_seconds), 0.0),
        *[func.sum(case((Submission.run_seconds <= b, 1), else_=0)) for b in RUN_BUCKETS],
    ).where(timed)).one()
    buckets = [(str(float(b)), n or 0) for b, n in zip(RUN_BUCKETS, row[2:], strict=True)]
    yield HistogramMetricFamily("lai_run_seconds", "Container time of succeeded runs",
                                buckets=[*buckets, ("+Inf", row[0])], sum_value=row[1])


def _uploads() -> Metric:
    size = db.session.scalar(select(func.coalesce(func.sum(ContainerImage.size_bytes), 0)))
    metric = CounterMetricFamily("lai_upload_bytes", "Bytes of image uploads stored")
    metric.add_metric([], size)
    return metric


def _resumable_uploads() -> Iterator[Metric]:
    """Unfinished resumable uploads hold parts in storage until they finish or expire."""
    row = db.session.execute(select(func.count(Upload.id), func.coalesce(func.sum(
        Upload.offset), 0)).where(Upload.status == UploadStatus.RECEIVING)).one()
    yield GaugeMetricFamily("lai_uploads_unfinished", "Resumable uploads not finished yet",
                            value=row[0])
    yield GaugeMetricFamily("lai_uploads_unfinished_bytes",
                            "Bytes held in storage by unfinished uploads", value=row[1])


def _workers() -> Metric:
    cutoff = utcnow() - timedelta(seconds=services.get().settings.heartbeat_timeout_s)
    metric = GaugeMetricFamily("lai_workers_live", "Workers seen lately, per queue served",
                               labels=["queue"])
    counts = {"cpu": 0, "gpu": 0, "control": 0}
    for (queues,) in db.session.execute(select(Worker.queues).where(Worker.last_seen >= cutoff)):
        for queue in queues or []:
            counts[queue] = counts.get(queue, 0) + 1
    for queue, count in counts.items():
        metric.add_metric([queue], count)
    return metric


class DatabaseCollector:
    """Read at each scrape, in the request's app context."""

    def collect(self) -> Iterator[Metric]:
        yield _queue_lengths()
        broker = _broker_lengths()
        if broker is not None:
            yield broker
        yield from _runs()
        yield _uploads()
        yield from _resumable_uploads()
        yield _workers()


def exposition() -> bytes:
    """The whole text exposition: this process's (or all processes') counters, then the
    database's figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counters = CollectorRegistry()
        MultiProcessCollector(counters)
    else:
        counters = REGISTRY
    figures = CollectorRegistry(auto_describe=False)
    figures.register(DatabaseCollector())
    return generate_latest(counters) + generate_latest(figures)
