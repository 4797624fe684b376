"""A phase's dataset as stored: its hidden ground truth, read from storage."""

from __future__ import annotations

from evaluator import GroundTruth, read_ground_truth
from lai_platform.models import Dataset
from lai_platform.storage import Storage


def ground_truth_of(storage: Storage, dataset: Dataset) -> GroundTruth:
    with storage.local_path(dataset.ground_truth_key) as path:
        return read_ground_truth(path)
