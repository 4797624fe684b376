"""Scoring library for the LAI challenge: validation, metrics, bootstrap CIs, ranking.

Pure Python + numpy; it must not import Flask or the web platform, so workers and organizers
can run it on its own (``python -m evaluator``).
"""

from evaluator.bootstrap import Interval, bootstrap_intervals
from evaluator.cases import MALIGNANT_THRESHOLD, Cases, cases_from
from evaluator.ground_truth import GroundTruth, GroundTruthError, read_ground_truth
from evaluator.metrics import METRICS, Metric, MetricValue, compute_metrics
from evaluator.per_case import PER_CASE_SCORES, per_case_scores
from evaluator.rank_methods import (
    RANKING_METHODS,
    UNDEFINED_RANKS_LAST,
    RankingMethod,
    RankingSettings,
    rank,
    rank_entries,
    ranking_method,
)
from evaluator.scoring import evaluate, evaluate_files
from evaluator.stability import RankStability, rank_stability, resampled_scores
from evaluator.task import Task, TaskError, read_task, task_from_mapping
from evaluator.validation import PredictionError, Predictions, parse_predictions

__all__ = [
    "MALIGNANT_THRESHOLD",
    "METRICS",
    "Cases",
    "GroundTruth",
    "GroundTruthError",
    "Interval",
    "Metric",
    "MetricValue",
    "PredictionError",
    "Predictions",
    "PER_CASE_SCORES",
    "RANKING_METHODS",
    "UNDEFINED_RANKS_LAST",
    "RankStability",
    "RankingMethod",
    "RankingSettings",
    "Task",
    "TaskError",
    "bootstrap_intervals",
    "cases_from",
    "compute_metrics",
    "evaluate",
    "evaluate_files",
    "parse_predictions",
    "rank",
    "rank_entries",
    "ranking_method",
    "per_case_scores",
    "rank_stability",
    "read_ground_truth",
    "read_task",
    "resampled_scores",
    "task_from_mapping",
]
