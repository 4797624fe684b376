"""The job queue a deployment uses: Celery when a broker is set, else worker threads.

`create_app` builds it and hands it the handler that runs a submission, so queues know
nothing of the pipeline.
"""

from __future__ import annotations

from flask import Flask

from lai_platform.config import Settings
from lai_platform.jobs.base import Handler, JobQueue
from lai_platform.jobs.celery_queue import CeleryJobQueue
from lai_platform.jobs.thread_queue import ThreadJobQueue


def make_job_queue(app: Flask, settings: Settings, handler: Handler) -> JobQueue:
    if settings.broker_url:
        return CeleryJobQueue(app, settings, handler)
    return ThreadJobQueue(app, settings, handler)
