"""A GPU run with no GPU worker to take it: said on its page, then failed as ours.

With a broker, runs of a phase whose limits ask for a GPU go to the `gpu` queue. If no live
worker serves that queue (none started, or each one's start-up probe found no GPU), the
participant is told the run waits for a GPU worker; after LAI_GPU_WAIT_S with no GPU worker
at all it fails as a platform problem that does not count against the quota. The reaper's
tick calls `fail_overdue_gpu_runs`. A GPU worker that is alive but busy is not a reason to
give up: the run simply waits its turn.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from lai_platform import services
from lai_platform.extensions import db
from lai_platform.models import Phase, Submission, SubmissionStatus
from lai_platform.models._time import utcnow
from lai_platform.ops.workers import last_gpu_worker_seen, live_gpu_workers
from lai_platform.runner.base import FailureReason, RunLimits
from lai_platform.submissions.run_notice import notify_run_ended

log = logging.getLogger(__name__)

WAITING_FOR_GPU = "waiting for a GPU worker"


def needs_gpu(phase: Phase) -> bool:
    return RunLimits.from_mapping(phase.limits).gpu


def waiting_for(sub: Submission) -> str | None:
    """What a queued submission waits for beyond its turn (None: nothing)."""
    settings = services.get().settings
    if (not settings.broker_url or sub.status != SubmissionStatus.QUEUED
            or not needs_gpu(sub.phase)):
        return None  # embedded: the web process runs everything itself
    if live_gpu_workers(settings.heartbeat_timeout_s):
        return None
    return WAITING_FOR_GPU


def no_gpu_message(wait_s: float) -> str:
    return (
        f"No GPU worker was available to run this submission for {wait_s / 60:.0f} minutes. "
        "This is a platform problem: it does not count against your quota, and the "
        "organizers have been notified. Submit again once a GPU worker is back."
    )


def fail_overdue_gpu_runs(now: datetime | None = None) -> list[int]:
    """Fail the GPU runs that have waited LAI_GPU_WAIT_S with no GPU worker; their ids."""
    settings = services.get().settings
    now = now or utcnow()
    if not settings.broker_url or live_gpu_workers(settings.heartbeat_timeout_s, now):
        return []
    # Waiting counts from the submission, or from the last GPU worker seen if later: a GPU
    # worker that just went away gives its queue the whole wait to come back.
    seen = last_gpu_worker_seen()
    queued = db.session.execute(
        select(Submission.id, Submission.created_at, Phase.limits)
        .join(Phase, Phase.id == Submission.phase_id)
        .where(Submission.status == SubmissionStatus.QUEUED)
    ).all()
    wait = timedelta(seconds=settings.gpu_wait_s)
    overdue = [
        sub_id for sub_id, created, limits in queued
        if RunLimits.from_mapping(limits).gpu and now - max(created, seen or created) > wait
    ]
    if overdue:
        db.session.execute(
            update(Submission)
            .where(Submission.id.in_(overdue), Submission.status == SubmissionStatus.QUEUED)
            .values(status=SubmissionStatus.FAILED,
                    failure_reason=str(FailureReason.PLATFORM_ERROR),
                    failure_message=no_gpu_message(settings.gpu_wait_s),
                    counts_against_quota=False, finished_at=now)
        )
        db.session.commit()
        log.error("no GPU worker for %.0f s: failed GPU submissions %s (not counted)",
                  settings.gpu_wait_s, overdue)
        for sub_id in overdue:
            notify_run_ended(sub_id)
    return overdue
