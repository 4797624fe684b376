"""The job queue a deployment uses: Celery when a broker is set, else worker threads.

`create_app` builds it and hands it the handlers that run a submission, rank a phase and
re-score one, so queues know nothing of the pipeline, ranking or re-scoring.
"""

from __future__ import annotations

from flask import Flask

from lai_platform.config import Settings
from lai_platform.jobs.base import Handler, JobQueue
from lai_platform.jobs.celery_queue import CeleryJobQueue
from lai_platform.jobs.thread_queue import ThreadJobQueue


def make_job_queue(app: Flask, settings: Settings, run: Handler, rank: Handler,
                   rescore: Handler) -> JobQueue:
    """`run` runs a submission; `rank` ranks a phase; `rescore` carries out a re-scoring."""
    if settings.broker_url:
        return CeleryJobQueue(app, settings, run, rank, rescore)
    return ThreadJobQueue(app, settings, run, rank, rescore)
