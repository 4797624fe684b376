"""Scoring as a strategy: the built-in evaluator or the organizers' evaluation container.

The pipeline asks `scorer_for(phase)` once and calls `score`; settings ask `scorer_class`
whether the phase's scores carry the per-case and resampled vectors some ranking methods
read.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import ClassVar, Protocol

from evaluator import GroundTruth, Predictions, RankingMethod
from lai_platform.models import Phase, Submission
from lai_platform.runner.base import RunLimits, container_identity
from lai_platform.scoring.builtin import Scored, score
from lai_platform.scoring.evaluation_container import (
    EvaluationContainerError,
    required_metric_present,
    run_evaluation_container,
)
from lai_platform.services import Services

log = logging.getLogger(__name__)


class EvaluationFailed(Exception):
    """The organizers' evaluation failed: not the submitter's fault. The message is safe to
    show the submitter."""


class Scorer(Protocol):
    # Stores every metric on the shared resamples and per-case scores (see RankingMethod).
    writes_vectors: ClassVar[bool]

    def score(self, submission: Submission, predictions: Predictions, raw: bytes,
              ground_truth: GroundTruth) -> Scored:
        """Score validated predictions (`raw`: the file as the container wrote it)."""
        ...


class BuiltinScorer:
    writes_vectors = True

    def __init__(self, services: Services) -> None:
        self.settings = services.settings

    def score(self, submission: Submission, predictions: Predictions, raw: bytes,
              ground_truth: GroundTruth) -> Scored:
        phase = submission.phase
        return score(
            predictions,
            ground_truth,
            phase,
            n_bootstrap=self.settings.bootstrap_resamples,
            training_centres=phase.challenge.training_centres or None,
        )


class ContainerScorer:
    """The organizer's evaluation image scores the (already validated) predictions."""

    writes_vectors = False

    def __init__(self, services: Services) -> None:
        self.services = services

    def score(self, submission: Submission, predictions: Predictions, raw: bytes,
              ground_truth: GroundTruth) -> Scored:
        svc, phase = self.services, submission.phase
        if not svc.executor.has_image(phase.evaluation_image_id):  # else no fetch at all
            with svc.storage.local_path(phase.evaluation_image_key) as tarball:
                svc.executor.load_image(tarball, phase.evaluation_image_id)
        work_dir = svc.settings.data_dir / "runs" / f"{submission.id}-evaluation"
        name, labels = container_identity(svc.settings.deployment, submission.id, "evaluation")
        try:
            with svc.storage.local_path(phase.dataset.ground_truth_key) as truth:
                metrics = run_evaluation_container(
                    svc.executor, phase.evaluation_image_id, raw, Path(truth), work_dir,
                    RunLimits.from_mapping(phase.limits), name=name, labels=labels,
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


def scorer_class(phase: Phase) -> type[BuiltinScorer] | type[ContainerScorer]:
    return ContainerScorer if phase.evaluation_image_id else BuiltinScorer


def scorer_for(phase: Phase, services: Services) -> Scorer:
    return scorer_class(phase)(services)


def check_method_fits(method: RankingMethod, scorer: type[Scorer]) -> None:
    """Raise ValueError if `method` reads vectors that `scorer` does not write."""
    if method.needs_vectors and not scorer.writes_vectors:
        raise ValueError(
            f"ranking method {method.name} needs the built-in evaluator: an evaluation "
            "container reports no per-case or resampled scores"
        )
