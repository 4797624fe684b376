"""One submission's run: claim it, run its container, validate and score its predictions.

Idempotent: every step checks the submission's state first, so a job delivered twice, or
picked up again after a crash, does no harm.
"""

from __future__ import annotations

import io
import logging
import shutil
import threading
from dataclasses import fields
from pathlib import Path

from flask import Flask
from sqlalchemy import update

from evaluator import GroundTruth, PredictionError, parse_predictions, read_ground_truth
from lai_platform import services
from lai_platform.evaluation_container import (
    EvaluationContainerError,
    required_metric_present,
    run_evaluation_container,
)
from lai_platform.extensions import db
from lai_platform.jobs.staging import stage_inputs
from lai_platform.leaderboard import primary_score, recompute_ranks
from lai_platform.models import Result, Submission, SubmissionStatus
from lai_platform.models._time import utcnow
from lai_platform.phase_scoring import Scored, score
from lai_platform.runner import (
    PREDICTIONS_FILE,
    FailureReason,
    ImageLoadError,
    RunLimits,
    RunSpec,
)

log = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 10
EVALUATION_FAILED = "evaluation_failed"


class RunFailed(Exception):
    """A failure the submitter caused and can fix (it counts against the quota)."""

    def __init__(self, reason: str, message: str, logs: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.logs = logs


class EvaluationFailed(Exception):
    """The organizers' evaluation failed: not the submitter's fault."""


def run_submission(app: Flask, submission_id: int) -> None:
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
            _finish_failed(submission_id, EVALUATION_FAILED, str(exc), None, counts=False)
        except Exception:
            log.exception("platform error while running submission %s", submission_id)
            db.session.rollback()
            _finish_failed(
                submission_id,
                FailureReason.PLATFORM_ERROR,
                "The platform failed while running this submission. It does not count "
                "against your quota; the organizers have been notified.",
                None,
                counts=False,
            )
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
    phase = submission.phase
    dataset = phase.dataset
    executor = svc.executor

    with svc.storage.local_path(submission.image.storage_key) as tarball:
        try:
            executor.load_image(tarball, submission.image.image_id)
        except ImageLoadError as exc:  # docker refused it, or it is not what was validated
            log.warning("submission %s: image load failed: %s", submission.id, exc)
            raise RunFailed(
                FailureReason.IMAGE_INVALID,
                "Docker could not load the image: the archive is damaged or its layers do not "
                "match its manifest. Rebuild it and upload a fresh `docker save` file.",
            ) from exc

    inputs = stage_inputs(svc.storage, dataset, svc.settings.data_dir / "cache" / "inputs")
    run_dir = svc.settings.data_dir / "runs" / str(submission.id)
    shutil.rmtree(run_dir, ignore_errors=True)
    try:
        result = executor.run(
            RunSpec(
                image_id=submission.image.image_id,
                input_dir=inputs,
                output_dir=run_dir / "output",
                limits=run_limits(phase.limits),
                name=f"lai-submission-{submission.id}",
                labels={"lai.submission": str(submission.id)},
            )
        )
        if not result.ok:
            if result.reason == FailureReason.PLATFORM_ERROR:
                raise RuntimeError(result.message)
            raise RunFailed(result.reason, result.message, result.logs)
        raw = (run_dir / "output" / PREDICTIONS_FILE).read_bytes()
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)

    # Kept (capped by the runner's output limit) for organizers and per-case analyses.
    svc.storage.save(predictions_key(submission.id), io.BytesIO(raw))
    ground_truth = _ground_truth(dataset.ground_truth_key)
    try:
        predictions = parse_predictions(raw, ground_truth)
    except PredictionError as exc:
        raise RunFailed(
            FailureReason.INVALID_OUTPUT,
            f"/output/{PREDICTIONS_FILE} is not valid: {exc}",
            result.logs,
        ) from exc
    if phase.evaluation_image_id:
        scored = _score_in_container(submission, raw)
    else:
        scored = score(
            predictions,
            ground_truth,
            phase,
            n_bootstrap=svc.settings.bootstrap_resamples,
            training_centres=phase.challenge.training_centres or None,
        )
    record_success(submission, scored, result.logs, result.duration_s)


def _score_in_container(submission: Submission, raw: bytes) -> Scored:
    """The organizer's evaluation image scores the (already validated) predictions."""
    svc = services.get()
    phase = submission.phase
    with svc.storage.local_path(phase.evaluation_image_key) as tarball:
        svc.executor.load_image(tarball, phase.evaluation_image_id)
    work_dir = svc.settings.data_dir / "runs" / f"{submission.id}-evaluation"
    try:
        with svc.storage.local_path(phase.dataset.ground_truth_key) as truth:
            metrics = run_evaluation_container(
                svc.executor, phase.evaluation_image_id, raw, Path(truth), work_dir,
                run_limits(phase.limits), name=f"lai-evaluation-{submission.id}",
            )
        required_metric_present(metrics, phase.primary_metric)
    except EvaluationContainerError as exc:
        # Its logs may echo the ground truth: they go to the server log, never to the page.
        log.error("evaluation of submission %s failed: %s\n%s", submission.id, exc.message,
                  exc.logs)
        raise EvaluationFailed(exc.public_message) from exc
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return Scored(metrics, None, None, resampled={}, case_scores={})


def predictions_key(submission_id: int) -> str:
    return f"predictions/{submission_id}.json"


def run_limits(phase_limits: dict) -> RunLimits:
    known = {f.name for f in fields(RunLimits)}
    return RunLimits(**{k: v for k, v in (phase_limits or {}).items() if k in known})


def _ground_truth(key: str) -> GroundTruth:
    with services.get().storage.local_path(key) as path:
        return read_ground_truth(Path(path))


def record_success(submission: Submission, scored: Scored, logs: str, seconds: float) -> None:
    if submission.status != SubmissionStatus.RUNNING:
        return
    phase = submission.phase
    db.session.add(
        Result(
            submission_id=submission.id,
            phase_id=phase.id,
            metrics=scored.metrics,
            metrics_public=scored.metrics_public,
            metrics_private=scored.metrics_private,
            resampled=scored.resampled,
            case_scores=scored.case_scores,
            curves=scored.curves,
            primary_score=primary_score(scored.metrics, phase.primary_metric),
        )
    )
    submission.status = SubmissionStatus.SUCCEEDED
    submission.logs = logs
    submission.run_seconds = seconds
    submission.finished_at = utcnow()
    db.session.flush()
    recompute_ranks(phase)
    db.session.commit()


def _finish_failed(
    submission_id: int, reason: str, message: str, logs: str | None, counts: bool
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
