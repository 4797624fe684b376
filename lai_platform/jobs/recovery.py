"""Nothing stays "running" forever: stale runs are retried, then failed with a reason."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select, update

from lai_platform import services
from lai_platform.extensions import db
from lai_platform.models import Submission, SubmissionStatus
from lai_platform.models._time import utcnow
from lai_platform.runner.base import DEPLOYMENT_LABEL, SUBMISSION_LABEL, FailureReason
from lai_platform.submissions.run_notice import notify_run_ended

log = logging.getLogger(__name__)

RETRY_BASE_S = 20.0
RETRY_MAX_S = 300.0


def requeue_stale(heartbeat_timeout_s: float, max_attempts: int, everything: bool = False) -> None:
    """Put runs whose worker stopped heart-beating back in the queue, or fail them.

    `everything` treats every running submission as stale: used when the only worker
    process (the embedded server) starts, since no run of a previous process survives it.
    """
    query = Submission.status == SubmissionStatus.RUNNING
    if not everything:
        cutoff = utcnow() - timedelta(seconds=heartbeat_timeout_s)
        query = query & or_(Submission.heartbeat_at.is_(None), Submission.heartbeat_at < cutoff)
    given_up = db.session.scalars(
        update(Submission)
        .where(query, Submission.attempts >= max_attempts)
        .returning(Submission.id)
        .values(
            status=SubmissionStatus.FAILED,
            failure_reason=str(FailureReason.PLATFORM_ERROR),
            failure_message=(
                f"The worker running this submission stopped responding {max_attempts} times. "
                "It does not count against your quota; the organizers have been notified."
            ),
            counts_against_quota=False,
            finished_at=utcnow(),
        )
    ).all()
    db.session.execute(
        update(Submission)
        .where(query, Submission.attempts < max_attempts)
        .values(status=SubmissionStatus.QUEUED, heartbeat_at=None)
    )
    db.session.commit()
    for submission_id in given_up:  # those who asked hear of it, as of any other end
        notify_run_ended(submission_id)


def queued_ids() -> list[int]:
    """Queued submissions due to run (a retry after a platform fault waits its turn)."""
    return list(db.session.scalars(
        select(Submission.id).where(*due_to_run()).order_by(Submission.created_at, Submission.id)
    ))


def due_to_run() -> tuple:
    """The conditions of a queued submission that may be sent to a worker now."""
    return (Submission.status == SubmissionStatus.QUEUED,
            or_(Submission.retry_after.is_(None), Submission.retry_after <= utcnow()))


def retry_delay_s(attempt: int) -> float:
    """20 s after the first platform fault, doubling, at most 5 minutes."""
    return min(RETRY_BASE_S * 2 ** max(attempt - 1, 0), RETRY_MAX_S)


def remove_stray_containers() -> int:
    """Remove this deployment's containers whose run no live worker owns (their worker died
    mid-run); a worker calls it when it starts. Returns how many were removed."""
    svc = services.get()
    cutoff = utcnow() - timedelta(seconds=svc.settings.heartbeat_timeout_s)
    live = {
        str(i)
        for i in db.session.scalars(
            select(Submission.id).where(
                Submission.status == SubmissionStatus.RUNNING, Submission.heartbeat_at >= cutoff
            )
        )
    }
    try:
        return svc.executor.remove_containers(
            {DEPLOYMENT_LABEL: svc.settings.deployment},
            keep=lambda labels: labels.get(SUBMISSION_LABEL) in live,
        )
    except Exception:  # housekeeping must not keep a worker from starting
        log.warning("could not look for stray containers", exc_info=True)
        return 0
