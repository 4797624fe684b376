"""Test inputs are extracted once per dataset version into a read-only cache."""

from __future__ import annotations

import fcntl
import shutil
import tarfile
import tempfile
from pathlib import Path

from lai_platform.models import Dataset
from lai_platform.storage import Storage


def stage_inputs(storage: Storage, dataset: Dataset, cache_root: Path) -> Path:
    """Return a folder holding the dataset's inputs (never its ground truth)."""
    target = cache_root / dataset.sha256
    # The marker sits beside the folder, not in it: /input shows only the inputs.
    done = cache_root / f"{dataset.sha256}.complete"
    if done.exists():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    # One extraction at a time per cache: workers in other processes wait for it.
    with (cache_root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return target
        shutil.rmtree(target, ignore_errors=True)
        work = Path(tempfile.mkdtemp(dir=cache_root, prefix=".staging-"))
        with storage.local_path(dataset.inputs_key) as archive, tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        for path in [work, *work.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o444)
        work.rename(target)
        done.touch()
    return target
