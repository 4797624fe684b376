"""Test inputs are staged once per dataset version into a read-only cache: as an ext4 image
mounted read-only for each run where the worker may mount (the container then sees no host
path and no dataset checksum), else as a folder."""

from __future__ import annotations

import fcntl
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lai_platform.models import Dataset
from lai_platform.runner import mounts
from lai_platform.storage import Storage


def stage_inputs(storage: Storage, dataset: Dataset, cache_root: Path) -> Path:
    """The staged inputs (never the ground truth): `<sha>.img` or the folder `<sha>`."""
    image, folder = cache_root / f"{dataset.sha256}.img", cache_root / dataset.sha256
    # The marker sits beside the folder, not in it: /input shows only the inputs.
    done = cache_root / f"{dataset.sha256}.complete"
    if done.exists():
        return image if image.exists() else folder
    cache_root.mkdir(parents=True, exist_ok=True)
    # One extraction at a time per cache: workers in other processes wait for it.
    with (cache_root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return image if image.exists() else folder
        shutil.rmtree(folder, ignore_errors=True)
        work = Path(tempfile.mkdtemp(dir=cache_root, prefix=".staging-"))
        with storage.local_path(dataset.inputs_key) as archive, tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        for path in [work, *work.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o444)
        if mounts.build_image(work, image):
            shutil.rmtree(work)
        else:
            work.rename(folder)
        done.touch()
    return image if image.exists() else folder


@contextmanager
def mounted_inputs(storage: Storage, dataset: Dataset, cache_root: Path) -> Iterator[Path]:
    """A folder with the dataset's inputs for one run."""
    staged = stage_inputs(storage, dataset, cache_root)
    if staged.is_dir():
        yield staged
        return
    with mounts.read_only(staged) as point:
        if point is None:
            raise RuntimeError(f"could not mount the staged inputs {staged.name}")
        yield point
