"""The Celery worker process: `celery -A lai_platform.jobs.celery_worker worker -Q cpu`."""

from __future__ import annotations

from lai_platform import create_app, services
from lai_platform.jobs.celery_queue import TASK_REAP, TASK_RUN
from lai_platform.jobs.pipeline import run_submission
from lai_platform.jobs.recovery import queued_ids, requeue_stale

flask_app = create_app()
celery = services.get(flask_app).jobs.celery  # type: ignore[attr-defined]


@celery.task(name=TASK_RUN)
def run(submission_id: int) -> None:
    run_submission(flask_app, submission_id)


@celery.task(name=TASK_REAP)
def reap() -> None:
    """Retry runs whose worker died; re-send queued submissions whose message was lost."""
    settings = services.get(flask_app).settings
    with flask_app.app_context():
        requeue_stale(settings.heartbeat_timeout_s, settings.max_attempts)
        jobs = services.get(flask_app).jobs
        for submission_id in queued_ids():
            jobs.enqueue(submission_id)
