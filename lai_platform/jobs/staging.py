"""Test inputs are staged once per dataset version into a read-only cache: as an ext4 image
mounted read-only for each run where the worker may mount (the container then sees no host
path and no dataset checksum), else as a folder.

The cache is bounded (LAI_INPUT_CACHE_GB): when a new version is staged, the least recently
used others are removed until it fits. A run holds a shared lock on its version's `.use`
file from before it looks for it until its container ends, so a version in use is never
removed (removal takes that lock exclusively, without waiting, and skips a busy one).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lai_platform.models import Dataset
from lai_platform.runner import mounts
from lai_platform.storage import Storage

log = logging.getLogger(__name__)


def stage_inputs(storage: Storage, dataset: Dataset, cache_root: Path,
                 max_bytes: int | None = None) -> Path:
    """The staged inputs (never the ground truth): `<sha>.img` or the folder `<sha>`."""
    image, folder = cache_root / f"{dataset.sha256}.img", cache_root / dataset.sha256
    # The marker sits beside the folder, not in it: /input shows only the inputs.
    done = cache_root / f"{dataset.sha256}.complete"
    if done.exists():
        done.touch()  # its time is the version's last use
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
        if max_bytes is not None:
            bound_cache(cache_root, max_bytes, keep=dataset.sha256)
    return image if image.exists() else folder


def staged_size(cache_root: Path, sha: str) -> int:
    image, folder = cache_root / f"{sha}.img", cache_root / sha
    if image.exists():
        return image.stat().st_blocks * 512  # allocated, not apparent (ext4 images are sparse)
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())


def bound_cache(cache_root: Path, max_bytes: int, keep: str = "") -> list[str]:
    """Remove least recently used staged versions (not `keep`, none in use) until the cache
    holds at most `max_bytes`; the removed checksums. The caller holds the cache's lock."""
    markers = sorted(cache_root.glob("*.complete"), key=lambda m: m.stat().st_mtime)
    sizes = {m.stem: staged_size(cache_root, m.stem) for m in markers}
    total, removed = sum(sizes.values()), []
    for marker in markers:
        sha = marker.stem
        if total <= max_bytes:
            break
        if sha == keep:
            continue
        with (cache_root / f"{sha}.use").open("w") as use:
            try:
                fcntl.flock(use, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a run is using it
            marker.unlink()
            (cache_root / f"{sha}.img").unlink(missing_ok=True)
            shutil.rmtree(cache_root / sha, ignore_errors=True)
        total -= sizes[sha]
        removed.append(sha)
        log.info("input cache over %d bytes: removed dataset version %s", max_bytes, sha)
    return removed


@contextmanager
def _in_use(cache_root: Path, sha: str) -> Iterator[None]:
    cache_root.mkdir(parents=True, exist_ok=True)
    fd = os.open(cache_root / f"{sha}.use", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def mounted_inputs(storage: Storage, dataset: Dataset, cache_root: Path,
                   max_bytes: int | None = None) -> Iterator[Path]:
    """A folder with the dataset's inputs for one run."""
    with _in_use(cache_root, dataset.sha256):
        staged = stage_inputs(storage, dataset, cache_root, max_bytes)
        if staged.is_dir():
            yield staged
            return
        with mounts.read_only(staged) as point:
            if point is None:
                raise RuntimeError(f"could not mount the staged inputs {staged.name}")
            yield point
