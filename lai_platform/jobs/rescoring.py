"""A new dataset version on a phase: attach it, then score every submission of the phase
again as a job of its own, with progress on a Rescoring row.

A submission whose container saw the same inputs (same archive, same cases) is re-scored
from its stored predictions against the new ground truth; the others run again (queued,
not counted against the quota). Either way the earlier score moves to the submission's
history first. Idempotent: a submission is pending while its result is on another dataset
version, and each one changes in a transaction that re-checks that under a row lock, so a
job delivered twice (or picked up by the tick after a crash) does no harm.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import or_, select, update

from evaluator import GroundTruth, PredictionError, parse_predictions
from lai_platform import services
from lai_platform.audit import record
from lai_platform.challenges.bundles import public_cases
from lai_platform.challenges.dataset_uploads import inputs_sha256
from lai_platform.challenges.datasets import ground_truth_of
from lai_platform.errors import PlatformError
from lai_platform.extensions import db
from lai_platform.jobs.pipeline import PLATFORM_FAULT, predictions_key, write_result
from lai_platform.leaderboards.ranking_job import request_ranking
from lai_platform.models import (
    Case,
    Challenge,
    Dataset,
    Phase,
    Rescoring,
    Result,
    Submission,
    SubmissionStatus,
    User,
)
from lai_platform.models._time import utcnow
from lai_platform.runner.base import FailureReason
from lai_platform.scoring.builtin import Scored
from lai_platform.scoring.history import archive_result
from lai_platform.scoring.scorers import EvaluationFailed, scorer_for

log = logging.getLogger(__name__)

MAX_PASSES = 3  # results that land during a pass (runs in flight) are taken by the next


def attach_dataset(phase: Phase, dataset: Dataset, actor: User | None) -> Rescoring | None:
    """Make `dataset` the phase's; re-score its scored submissions (the job is queued after
    the commit). Returns the Rescoring, or None when there was nothing to re-score."""
    if dataset.challenge_id != phase.challenge_id:
        raise PlatformError("bad_dataset", "That dataset belongs to another challenge.", 400)
    old = phase.dataset
    if old is not None and old.id == dataset.id:
        raise PlatformError("same_dataset", f"The phase '{phase.title}' already uses "
                            f"{dataset.name} v{dataset.version}.", 400)
    if old is not None:
        # Results from before Result.dataset_id existed were scored on the outgoing version.
        db.session.execute(update(Result).where(Result.phase_id == phase.id,
                                                Result.dataset_id.is_(None))
                           .values(dataset_id=old.id))
    new_cases = sorted(c.case_id for c in dataset.cases)
    if phase.public_case_ids and (old is None or new_cases != _case_ids(old.id)):
        # The public part names cases of the old version: draw it again on the new cases.
        fraction = len(phase.public_case_ids) / max(old.n_cases if old else 1, 1)
        phase.public_case_ids = public_cases(new_cases, min(fraction, 0.99),
                                             f"{phase.challenge.slug}/{phase.slug}")
    phase.dataset = dataset
    record(actor, phase.challenge, "dataset.attach", phase.slug,
           {"dataset_id": old.id, "version": old.version} if old else None,
           {"dataset_id": dataset.id, "version": dataset.version})
    total = len(pending_ids(phase.id, dataset.id))
    rescoring = None
    if total:
        rescoring = Rescoring(phase_id=phase.id, dataset_id=dataset.id, total=total,
                              created_by_id=actor.id if actor is not None else None)
        db.session.add(rescoring)
    db.session.commit()
    if rescoring is not None:
        services.get().jobs.enqueue_rescoring(rescoring.id)
    return rescoring


def pending_ids(phase_id: int, dataset_id: int) -> list[int]:
    """Succeeded submissions of the phase whose result is on another dataset version."""
    return list(db.session.scalars(
        select(Submission.id).join(Result, Result.submission_id == Submission.id)
        .where(Submission.phase_id == phase_id,
               Submission.status == SubmissionStatus.SUCCEEDED,
               or_(Result.dataset_id.is_(None), Result.dataset_id != dataset_id))
        .order_by(Submission.id)))


def rescorings_due() -> list[int]:
    """Unfinished re-scorings: the tick enqueues them again (a lost message, a crash)."""
    return list(db.session.scalars(select(Rescoring.id).where(Rescoring.state != "done")
                                   .order_by(Rescoring.id)))


def rescorings_of(challenge: Challenge, limit: int = 20) -> list[Rescoring]:
    """The challenge's re-scorings, newest first."""
    phase_ids = [phase.id for phase in challenge.phases]
    return list(db.session.scalars(
        select(Rescoring).where(Rescoring.phase_id.in_(phase_ids))
        .order_by(Rescoring.id.desc()).limit(limit)))


def run_rescoring(app: Flask, rescoring_id: int) -> None:
    """The job queues' re-scoring handler."""
    with app.app_context():
        try:
            rescore(rescoring_id)
        finally:
            db.session.remove()


@dataclass
class _Memo:
    """What one job reads once: ground truths and input comparisons."""

    truths: dict[int, GroundTruth] = field(default_factory=dict)
    same: dict[int, bool] = field(default_factory=dict)


def rescore(rescoring_id: int) -> None:
    rescoring = db.session.get(Rescoring, rescoring_id)
    if rescoring is None or rescoring.state == "done":
        return
    phase_id, dataset_id = rescoring.phase_id, rescoring.dataset_id
    db.session.execute(update(Rescoring).where(Rescoring.id == rescoring_id,
                                               Rescoring.state == "queued")
                       .values(state="running"))
    db.session.commit()
    memo = _Memo()
    for _ in range(MAX_PASSES):
        phase = db.session.get(Phase, phase_id, populate_existing=True)
        if phase.dataset_id != dataset_id:
            break  # a newer version was attached: its own re-scoring takes over
        ids = pending_ids(phase_id, dataset_id)
        if not ids:
            break
        for submission_id in ids:
            _redo(rescoring_id, submission_id, memo)
    _finish(rescoring_id)


def _redo(rescoring_id: int, submission_id: int, memo: _Memo) -> None:
    """One submission: scored outside any lock, then written after checking it is still due."""
    sub = db.session.get(Submission, submission_id)
    dataset = db.session.get(Dataset, db.session.get(Rescoring, rescoring_id).dataset_id)
    old_id = sub.result.dataset_id if sub.result is not None else None
    why = f"re-scored on {dataset.name} v{dataset.version}"
    if not _same_inputs(old_id, dataset, memo) or not services.get().storage.exists(
            predictions_key(sub.id)):
        outcome: Scored | tuple[FailureReason, str] | None = None  # the container runs again
    else:
        outcome = _score(sub, dataset, memo)
    db.session.rollback()  # end the read transaction before taking the lock
    if not _lock_if_due(submission_id, dataset.id):
        db.session.rollback()
        return
    sub = db.session.get(Submission, submission_id)
    dataset = db.session.get(Dataset, dataset.id)
    archive_result(sub, why)
    failed = 0
    if outcome is None:
        _requeue(sub)
    elif isinstance(outcome, Scored):
        write_result(sub, outcome, dataset.id)
    else:
        failed = 1
        _fail(sub, *outcome)
    db.session.execute(update(Rescoring).where(Rescoring.id == rescoring_id)
                       .values(done=Rescoring.done + 1, failed=Rescoring.failed + failed))
    db.session.commit()
    if outcome is None:
        services.get().jobs.enqueue(submission_id)


def _score(sub: Submission, dataset: Dataset, memo: _Memo) -> Scored | tuple[FailureReason, str]:
    svc = services.get()
    try:
        if dataset.id not in memo.truths:
            memo.truths[dataset.id] = ground_truth_of(svc.storage, dataset)
        truth = memo.truths[dataset.id]
        with svc.storage.open(predictions_key(sub.id)) as stream:
            raw = stream.read()
        predictions = parse_predictions(raw, truth)
        return scorer_for(sub.phase, svc).score(sub, predictions, raw, truth)
    except PredictionError as exc:
        return FailureReason.INVALID_OUTPUT, (
            f"Re-scored on {dataset.name} v{dataset.version}, a new version of this phase's "
            f"dataset: the stored predictions do not fit it ({exc}). This does not count "
            "against your quota; submit again, or ask the organizers to rerun it.")
    except EvaluationFailed as exc:
        return FailureReason.EVALUATION_FAILED, str(exc)
    except Exception:
        log.exception("re-scoring submission %s on dataset %s", sub.id, dataset.id)
        return FailureReason.PLATFORM_ERROR, PLATFORM_FAULT


def _lock_if_due(submission_id: int, dataset_id: int) -> bool:
    """Lock the submission's row (an UPDATE locks in PostgreSQL and SQLite), then check it
    still has a result on another version: a second delivery finds it done and skips."""
    locked = db.session.execute(
        update(Submission).where(Submission.id == submission_id,
                                 Submission.status == SubmissionStatus.SUCCEEDED)
        .values(status=SubmissionStatus.SUCCEEDED)).rowcount
    if not locked or db.session.scalar(
            select(Phase.dataset_id).join(Submission, Submission.phase_id == Phase.id)
            .where(Submission.id == submission_id)) != dataset_id:
        return False  # no longer scored, or the phase has moved on to a newer version
    result = db.session.get(Result, submission_id, populate_existing=True)
    return result is not None and result.dataset_id != dataset_id


def _requeue(sub: Submission) -> None:
    sub.status = SubmissionStatus.QUEUED
    sub.counts_against_quota = False  # the organizers changed the data, not the submitter
    sub.failure_reason = sub.failure_message = None
    sub.started_at = sub.finished_at = sub.heartbeat_at = None
    sub.attempts = 0
    sub.logs = None


def _fail(sub: Submission, reason: FailureReason, message: str) -> None:
    sub.status = SubmissionStatus.FAILED
    sub.failure_reason = str(reason)
    sub.failure_message = message
    sub.counts_against_quota = False
    sub.finished_at = utcnow()


def _same_inputs(old_id: int | None, new: Dataset, memo: _Memo) -> bool:
    """Whether a container run on version `old_id` saw exactly the inputs of `new`."""
    if old_id is None:
        return False
    if old_id not in memo.same:
        old = db.session.get(Dataset, old_id)
        memo.same[old_id] = old is not None and (
            old.inputs_key == new.inputs_key or inputs_sha256(old) == inputs_sha256(new)
        ) and _case_ids(old.id) == _case_ids(new.id)
    return memo.same[old_id]


def _case_ids(dataset_id: int) -> list[str]:
    return sorted(db.session.scalars(select(Case.case_id).where(Case.dataset_id == dataset_id)))


def _finish(rescoring_id: int) -> None:
    """Done: once (the state changes under a condition), audited; one ranking request."""
    rescoring = db.session.get(Rescoring, rescoring_id, populate_existing=True)
    finished = db.session.execute(
        update(Rescoring).where(Rescoring.id == rescoring_id, Rescoring.state != "done")
        .values(state="done", finished_at=utcnow())).rowcount
    if finished:
        phase = db.session.get(Phase, rescoring.phase_id)
        actor = db.session.get(User, rescoring.created_by_id) if rescoring.created_by_id else None
        record(actor, phase.challenge, "rescoring.finish", phase.slug, None,
               {"rescoring_id": rescoring.id, "dataset_id": rescoring.dataset_id,
                "total": rescoring.total, "done": rescoring.done, "failed": rescoring.failed})
    db.session.commit()
    if finished:
        request_ranking(rescoring.phase_id)
        services.get().jobs.enqueue_ranking(rescoring.phase_id)
