"""One submission's run: claim it, run its container, validate and score its predictions.

Idempotent: every step checks the submission's state first, so a job delivered twice, or
picked up again after a crash, does no harm. Failures split into the submitter's (they
count against the quota and say what to fix) and ours (they do not count).
"""

from __future__ import annotations

import io
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from evaluator import GroundTruth, PredictionError, Predictions, parse_predictions
from lai_platform import services
from lai_platform.challenges.datasets import ground_truth_of
from lai_platform.challenges.tasks import task_of
from lai_platform.extensions import db
from lai_platform.jobs.recovery import retry_delay_s
from lai_platform.jobs.staging import mounted_inputs
from lai_platform.leaderboards.parts import primary_score
from lai_platform.leaderboards.ranking_job import request_ranking
from lai_platform.models import Result, ResultDetail, Submission, SubmissionStatus
from lai_platform.models._time import utcnow
from lai_platform.ops.logcontext import with_submission_id
from lai_platform.ops.workers import worker_name
from lai_platform.runner.base import (
    PREDICTIONS_FILE,
    FailureReason,
    ImageLoadError,
    RunLimits,
    RunResult,
    RunSpec,
    container_identity,
)
from lai_platform.scoring.builtin import Scored
from lai_platform.scoring.scorers import EvaluationFailed, scorer_for
from lai_platform.scoring.vectors import pack
from lai_platform.submissions.run_notice import notify_run_ended

log = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 10
DB_RETRY_S = 60  # a PostgreSQL restart or failover takes seconds
T = TypeVar("T")
# What the submitter is told when Docker refuses the image (`lai try` says it too).
IMAGE_LOAD_FAILED = (
    "Docker could not load the image: the archive is damaged or its layers do not match its "
    "manifest. Rebuild it and upload a fresh `docker save` file."
)
PLATFORM_FAULT = (
    "The platform failed while running this submission. It does not count against your "
    "quota; the organizers have been notified."
)


class RunFailed(Exception):
    """A failure the submitter caused and can fix (it counts against the quota)."""

    def __init__(self, reason: FailureReason, message: str, logs: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.logs = logs


@with_submission_id  # every log line of the run says which submission it is
def run_submission(app: Flask, submission_id: int) -> None:
    """The job queues' handler."""
    with app.app_context():
        attempt = with_db_retry(_claim, submission_id)
        if attempt is None:
            return  # already taken, or finished: nothing to do
        stop = threading.Event()
        beat = threading.Thread(
            target=_heartbeat, args=(app, submission_id, attempt, stop), daemon=True
        )
        beat.start()
        try:
            _execute(db.session.get(Submission, submission_id))
        except RunFailed as exc:
            _rollback()
            with_db_retry(_finish_failed, submission_id, exc.reason, exc.message, exc.logs,
                          True, attempt)
        except EvaluationFailed as exc:
            _rollback()
            with_db_retry(_finish_failed, submission_id, FailureReason.EVALUATION_FAILED,
                          str(exc), None, False, attempt)
        except Exception:
            # Ours (engine restarted, store or database away, a bug): tried again by any
            # worker, up to LAI_MAX_ATTEMPTS, and never counted against the quota.
            log.exception("platform error while running submission %s", submission_id)
            _rollback()
            with_db_retry(_retry_or_fail, submission_id, attempt)
        finally:
            stop.set()
            beat.join()
            notify_run_ended(submission_id, attempt)  # after the final state is committed
            db.session.remove()


def with_db_retry(step: Callable[..., T], *args: object) -> T:
    """`step` again while the database is unreachable (a restart, a failover: seconds),
    for up to DB_RETRY_S; the step must be idempotent (they are conditional UPDATEs)."""
    deadline = time.monotonic() + DB_RETRY_S
    pause = 0.5
    while True:
        try:
            return step(*args)
        except DBAPIError as exc:
            if not (isinstance(exc, OperationalError) or exc.connection_invalidated):
                raise
            _rollback()
            if time.monotonic() + pause > deadline:
                raise
            log.warning("database unreachable (%s); trying again in %.1f s",
                        type(exc.orig).__name__, pause)
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def _rollback() -> None:
    try:
        db.session.rollback()
    except DBAPIError:  # the connection is gone: the pool replaces it
        db.session.remove()


def _retry_or_fail(submission_id: int, attempt: int) -> None:
    """Back to `queued` for another worker's try (the reaper's next tick sends it, which
    also gives a restarting engine or store a few seconds), or failed as ours."""
    if attempt >= services.get().settings.max_attempts:
        _finish_failed(submission_id, FailureReason.PLATFORM_ERROR, PLATFORM_FAULT, None,
                       False, attempt)
        return
    db.session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.status == SubmissionStatus.RUNNING,
               Submission.attempts == attempt)
        .values(status=SubmissionStatus.QUEUED, heartbeat_at=None,
                retry_after=utcnow() + timedelta(seconds=retry_delay_s(attempt)))
    )
    db.session.commit()


def _release_connection() -> None:
    """End the transaction and hand its connection back before a long step (an image
    fetch, the container's run): a database restart meanwhile then costs nothing, and no
    session sits "idle in transaction" for a whole run. Loaded objects stay readable."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def _claim(submission_id: int) -> int | None:
    """Running, by this worker: the attempt's number, or None if not queued."""
    now = utcnow()
    claimed = db.session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.status == SubmissionStatus.QUEUED)
        .values(
            status=SubmissionStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=Submission.attempts + 1,
            worker=worker_name(),
            retry_after=None,
        )
    ).rowcount
    attempt = db.session.get(Submission, submission_id).attempts if claimed == 1 else None
    db.session.commit()
    return attempt


def _heartbeat(app: Flask, submission_id: int, attempt: int, stop: threading.Event) -> None:
    # Several beats per timeout, so one missed beat (a database restart) is not a death.
    every = min(HEARTBEAT_EVERY_S, services.get(app).settings.heartbeat_timeout_s / 3)
    with app.app_context():
        while not stop.wait(every):
            try:
                db.session.execute(
                    update(Submission)
                    .where(Submission.id == submission_id, Submission.attempts == attempt,
                           Submission.status == SubmissionStatus.RUNNING)
                    .values(heartbeat_at=utcnow())
                )
                db.session.commit()
            except Exception as exc:  # the database is away: beat again next time
                log.warning("heartbeat of submission %s failed: %s", submission_id,
                            type(exc).__name__)
                _rollback()
        db.session.remove()


def _execute(submission: Submission) -> None:
    svc = services.get()
    if submission.phase.dataset is None:  # admission refuses these; a stray one is ours
        raise RuntimeError(f"phase {submission.phase_id} has no dataset")
    dataset_id = submission.phase.dataset_id  # what it runs on, even if replaced meanwhile
    _release_connection()
    _load_image(submission)
    raw, result = _run_container(submission)
    # Kept (capped by the runner's output limit) for organizers and per-case analyses.
    svc.storage.save(predictions_key(submission.id), io.BytesIO(raw))
    ground_truth = ground_truth_of(svc.storage, submission.phase.dataset,
                                   task_of(submission.phase.challenge))
    predictions = _validated(raw, ground_truth, result.logs)
    scored = scorer_for(submission.phase, svc).score(submission, predictions, raw, ground_truth)
    if _still_ours(submission):
        record_success(submission, scored, result.logs, result.duration_s, dataset_id)


def _still_ours(submission: Submission) -> bool:
    """Lock the row and check that the reaper did not give this attempt up for dead (a
    stalled worker) while it ran: then another attempt owns it, and this one records nothing."""
    row = db.session.execute(
        select(Submission.status, Submission.attempts)
        .where(Submission.id == submission.id).with_for_update()
    ).one()
    return row.status == SubmissionStatus.RUNNING and row.attempts == submission.attempts


def _load_image(submission: Submission) -> None:
    svc = services.get()
    if svc.executor.has_image(submission.image.image_id):
        return  # loaded before: the tarball need not even be fetched from storage
    # Room under the image budget and on disk first (a platform error if short: not counted).
    svc.executor.make_room(submission.image.image_id, submission.image.size_bytes)
    with svc.storage.local_path(submission.image.storage_key) as tarball:
        try:
            svc.executor.load_image(tarball, submission.image.image_id)
        except ImageLoadError as exc:  # docker refused it, or it is not what was validated
            log.warning("submission %s: image load failed: %s", submission.id, exc)
            raise RunFailed(FailureReason.IMAGE_INVALID, IMAGE_LOAD_FAILED) from exc


def _run_container(submission: Submission) -> tuple[bytes, RunResult]:
    """Run the submission on the phase's test inputs; return predictions.json's bytes."""
    svc = services.get()
    run_dir = svc.settings.data_dir / "runs" / uuid.uuid4().hex  # no id in a host path
    name, labels = container_identity(svc.settings.deployment, submission.id, "submission")
    try:
        with mounted_inputs(svc.storage, submission.phase.dataset,
                            svc.settings.data_dir / "cache" / "inputs",
                            svc.settings.input_cache_bytes) as inputs:
            spec = RunSpec(
                image_id=submission.image.image_id,
                input_dir=inputs,
                output_dir=run_dir / "output",
                limits=RunLimits.from_mapping(submission.phase.limits),
                name=name,
                labels=labels,
            )
            _release_connection()  # no database connection held while the container runs
            result = svc.executor.run(spec)
        if not result.ok:
            if result.reason == FailureReason.PLATFORM_ERROR:
                raise RuntimeError(result.message)
            raise RunFailed(result.reason, result.message, result.logs)
        return (run_dir / "output" / PREDICTIONS_FILE).read_bytes(), result
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _validated(raw: bytes, ground_truth: GroundTruth, logs: str) -> Predictions:
    try:
        return parse_predictions(raw, ground_truth)
    except PredictionError as exc:
        raise RunFailed(FailureReason.INVALID_OUTPUT, invalid_output_message(exc), logs) from exc


def invalid_output_message(exc: PredictionError) -> str:
    """What the submitter is told about predictions that fail the checks (`lai try` too)."""
    return f"/output/{PREDICTIONS_FILE} is not valid: {exc}"


def predictions_key(submission_id: int) -> str:
    return f"predictions/{submission_id}.json"


def write_result(submission: Submission, scored: Scored, dataset_id: int | None) -> Result:
    """The submission's Result (and its detail) from a scoring; the caller commits. Shared by
    a run and a re-scoring on a new dataset version."""
    phase = submission.phase
    result = Result(
        submission_id=submission.id,
        phase_id=phase.id,
        metrics=scored.metrics,
        metrics_public=scored.metrics_public,
        metrics_private=scored.metrics_private,
        part_values=scored.part_values,
        primary_score=primary_score(scored.metrics, phase.primary_metric),
        dataset_id=dataset_id,
        detail=ResultDetail(
            vectors=pack(scored.resampled, scored.case_scores) if scored.resampled else None,
            curves=scored.curves,
        ),
    )
    db.session.add(result)
    return result


def record_success(submission: Submission, scored: Scored, logs: str, seconds: float,
                   dataset_id: int | None = None) -> None:
    """`dataset_id`: the dataset version it was scored on (default: the phase's now)."""
    if submission.status != SubmissionStatus.RUNNING:
        return
    phase = submission.phase
    write_result(submission, scored, dataset_id if dataset_id is not None else phase.dataset_id)
    submission.status = SubmissionStatus.SUCCEEDED
    submission.logs = logs
    submission.run_seconds = seconds
    submission.finished_at = utcnow()
    db.session.commit()
    # Ranking is a job of its own, after this transaction: one for a burst of results.
    request_ranking(phase.id)
    services.get().jobs.enqueue_ranking(phase.id)


def _finish_failed(
    submission_id: int, reason: FailureReason, message: str, logs: str | None, counts: bool,
    attempt: int | None = None,
) -> None:
    """Failed, unless another attempt (this one was given up for dead) has it now."""
    current = Submission.attempts == attempt if attempt is not None else True
    db.session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.status == SubmissionStatus.RUNNING,
               current)
        .values(
            status=SubmissionStatus.FAILED,
            failure_reason=str(reason),
            failure_message=message,
            logs=logs,
            counts_against_quota=counts,
            finished_at=utcnow(),
        )
    )
    db.session.commit()
