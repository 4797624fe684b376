"""The job queue a deployment uses: Celery when a broker is set, else worker threads.

`create_app` builds it and hands it the handlers that run a submission and rank a phase,
so queues know nothing of the pipeline or of ranking.
"""

from __future__ import annotations

from flask import Flask

from lai_platform.config import Settings
from lai_platform.jobs.base import Handler, JobQueue
from lai_platform.jobs.celery_queue import CeleryJobQueue
from lai_platform.jobs.thread_queue import ThreadJobQueue


def make_job_queue(app: Flask, settings: Settings, run: Handler, rank: Handler) -> JobQueue:
    """`run` runs a submission; `rank` ranks a phase."""
    if settings.broker_url:
        return CeleryJobQueue(app, settings, run, rank)
    return ThreadJobQueue(app, settings, run, rank)
