"""A phase's dataset as stored: its hidden ground truth, read from storage with the task of
the challenge it belongs to (labels, positive group)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from evaluator import GroundTruth, Task, read_ground_truth
from lai_platform.challenges.tasks import task_of
from lai_platform.extensions import db
from lai_platform.models import Challenge, Dataset
from lai_platform.storage import Storage


def ground_truth_of(storage: Storage, dataset: Dataset, task: Task | None = None) -> GroundTruth:
    """``task``: the challenge's (``task_of``); looked up from the dataset when not given, so
    that no caller can read a ground truth without its task."""
    if task is None:
        task = task_of(db.session.get(Challenge, dataset.challenge_id))
    with storage.local_path(dataset.ground_truth_key) as path:
        return read_ground_truth(path, task=task)


def dataset_checksum(inputs_sha256: str, truth_sha256: str) -> str:
    """One checksum for a dataset version: the digest of its two files' digests (the same
    whether the version came from a bundle or an upload)."""
    return hashlib.sha256(f"{inputs_sha256}\n{truth_sha256}\n".encode()).hexdigest()


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            sha.update(chunk)
    return sha.hexdigest()
