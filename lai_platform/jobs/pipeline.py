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
import uuid

from flask import Flask
from sqlalchemy import update

from evaluator import GroundTruth, PredictionError, Predictions, parse_predictions
from lai_platform import services
from lai_platform.challenges.datasets import ground_truth_of
from lai_platform.challenges.tasks import task_of
from lai_platform.extensions import db
from lai_platform.jobs.staging import mounted_inputs
from lai_platform.leaderboards.parts import primary_score
from lai_platform.leaderboards.ranking_job import request_ranking
from lai_platform.models import Result, ResultDetail, Submission, SubmissionStatus
from lai_platform.models._time import utcnow
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

log = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 10
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


def run_submission(app: Flask, submission_id: int) -> None:
    """The job queues' handler."""
    with app.app_context():
        if not _claim(submission_id):
            return  # already taken, or finished: nothing to do
        stop = threading.Event()
        beat = threading.Thread(
            target=_heartbeat, args=(app, submission_id, stop), daemon=True
        )
        beat.start()
        try:
            _execute(db.session.get(Submission, submission_id))
        except RunFailed as exc:
            db.session.rollback()
            _finish_failed(submission_id, exc.reason, exc.message, exc.logs, counts=True)
        except EvaluationFailed as exc:
            db.session.rollback()
            _finish_failed(submission_id, FailureReason.EVALUATION_FAILED, str(exc), None,
                           counts=False)
        except Exception:
            log.exception("platform error while running submission %s", submission_id)
            db.session.rollback()
            _finish_failed(submission_id, FailureReason.PLATFORM_ERROR, PLATFORM_FAULT, None,
                           counts=False)
        finally:
            stop.set()
            beat.join()
            db.session.remove()


def _claim(submission_id: int) -> bool:
    now = utcnow()
    claimed = db.session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.status == SubmissionStatus.QUEUED)
        .values(
            status=SubmissionStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=Submission.attempts + 1,
        )
    ).rowcount
    db.session.commit()
    return claimed == 1


def _heartbeat(app: Flask, submission_id: int, stop: threading.Event) -> None:
    with app.app_context():
        while not stop.wait(HEARTBEAT_EVERY_S):
            db.session.execute(
                update(Submission)
                .where(Submission.id == submission_id)
                .values(heartbeat_at=utcnow())
            )
            db.session.commit()
        db.session.remove()


def _execute(submission: Submission) -> None:
    svc = services.get()
    if submission.phase.dataset is None:  # admission refuses these; a stray one is ours
        raise RuntimeError(f"phase {submission.phase_id} has no dataset")
    dataset_id = submission.phase.dataset_id  # what it runs on, even if replaced meanwhile
    _load_image(submission)
    raw, result = _run_container(submission)
    # Kept (capped by the runner's output limit) for organizers and per-case analyses.
    svc.storage.save(predictions_key(submission.id), io.BytesIO(raw))
    ground_truth = ground_truth_of(svc.storage, submission.phase.dataset,
                                   task_of(submission.phase.challenge))
    predictions = _validated(raw, ground_truth, result.logs)
    scored = scorer_for(submission.phase, svc).score(submission, predictions, raw, ground_truth)
    record_success(submission, scored, result.logs, result.duration_s, dataset_id)


def _load_image(submission: Submission) -> None:
    svc = services.get()
    if svc.executor.has_image(submission.image.image_id):
        return  # loaded before: the tarball need not even be fetched from storage
    with svc.storage.local_path(submission.image.storage_key) as tarball:
        try:
            svc.executor.load_image(tarball, submission.image.image_id)
        except ImageLoadError as exc:  # docker refused it, or it is not what was validated
            log.warning("submission %s: image load failed: %s", submission.id, exc)
            raise RunFailed(
                FailureReason.IMAGE_INVALID,
                "Docker could not load the image: the archive is damaged or its layers do not "
                "match its manifest. Rebuild it and upload a fresh `docker save` file.",
            ) from exc


def _run_container(submission: Submission) -> tuple[bytes, RunResult]:
    """Run the submission on the phase's test inputs; return predictions.json's bytes."""
    svc = services.get()
    run_dir = svc.settings.data_dir / "runs" / uuid.uuid4().hex  # no id in a host path
    name, labels = container_identity(svc.settings.deployment, submission.id, "submission")
    try:
        with mounted_inputs(svc.storage, submission.phase.dataset,
                            svc.settings.data_dir / "cache" / "inputs") as inputs:
            result = svc.executor.run(
                RunSpec(
                    image_id=submission.image.image_id,
                    input_dir=inputs,
                    output_dir=run_dir / "output",
                    limits=RunLimits.from_mapping(submission.phase.limits),
                    name=name,
                    labels=labels,
                )
            )
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
        raise RunFailed(
            FailureReason.INVALID_OUTPUT, f"/output/{PREDICTIONS_FILE} is not valid: {exc}", logs
        ) from exc


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
    submission_id: int, reason: FailureReason, message: str, logs: str | None, counts: bool
) -> None:
    db.session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.status == SubmissionStatus.RUNNING)
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
