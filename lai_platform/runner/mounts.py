"""File systems of their own for a container's /input and /output, where the worker may
mount them (it runs as root, as a worker with the engine's socket effectively does):

* /output on a tmpfs of the output limit's size: a write past the limit fails (ENOSPC)
  instead of filling the worker's disk, and the container sees no host path;
* /input on a read-only loop mount of an ext4 image of the dataset version's inputs, made
  once: the container sees neither a host path nor the dataset's checksum.

Without the right to mount, callers fall back to plain folders (the file-size ulimit and
the output poll still bound /output).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

# Room for the file system's own bookkeeping beyond the limit: the overshoot at most.
TMPFS_SLACK_BYTES = 64 * 2**10


CAP_SYS_ADMIN = 21  # the capability mount(2) needs


def can_mount() -> bool:
    """Root with CAP_SYS_ADMIN (a worker in an unprivileged container is root without it:
    it uses plain folders, quietly, instead of failing a mount at every run)."""
    return (os.geteuid() == 0 and shutil.which("mount") is not None
            and _has_capability(CAP_SYS_ADMIN))


def _has_capability(bit: int) -> bool:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> bit & 1)
    return False


def _run(*command: str) -> bool:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        log.warning("%s failed: %s", " ".join(command[:2]), done.stderr.strip()[:300])
    return done.returncode == 0


@contextmanager
def tmpfs(parent: Path, size_bytes: int, max_entries: int, owner: int) -> Iterator[Path | None]:
    """A fresh tmpfs of `size_bytes` (plus a little) under `parent`, owned by `owner`; None
    when it cannot be mounted. Unmounted and removed afterwards."""
    if not can_mount():
        yield None
        return
    options = (f"size={size_bytes + TMPFS_SLACK_BYTES},nr_inodes={max_entries + 16},"
               f"mode=0755,uid={owner},gid={owner},nosuid,nodev,noexec")
    with _mounted(parent, "-t", "tmpfs", "-o", options, "tmpfs") as point:
        yield point


def build_image(folder: Path, image: Path) -> bool:
    """An ext4 image holding `folder`'s files; False when it cannot be made or mounted."""
    if not can_mount() or shutil.which("mkfs.ext4") is None:
        return False
    used = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    size_mb = max(16, int(used * 1.25 / 2**20) + 16)
    if not _run("mkfs.ext4", "-q", "-F", "-m", "0", "-L", "inputs", "-E", "root_owner=0:0",
                "-d", str(folder), str(image), f"{size_mb}M"):
        image.unlink(missing_ok=True)
        return False
    with read_only(image) as point:  # a worker that cannot loop-mount keeps the folder
        if point is None:
            image.unlink(missing_ok=True)
            return False
    return True


@contextmanager
def read_only(image: Path) -> Iterator[Path | None]:
    """The ext4 `image` mounted read-only for one run; None when it cannot be."""
    with _mounted(image.parent, "-o", "loop,ro,nosuid,nodev,noexec", str(image)) as point:
        yield point


@contextmanager
def _mounted(parent: Path, *mount_arguments: str) -> Iterator[Path | None]:
    """`mount <arguments> <a new folder under parent>`; unmounted (lazily: a container
    still exiting cannot hold it) and removed afterwards. None when mounting fails."""
    point = parent / f".mount-{uuid.uuid4().hex[:12]}"
    point.mkdir(parents=True)
    if not _run("mount", *mount_arguments, str(point)):
        point.rmdir()
        yield None
        return
    try:
        yield point
    finally:
        _run("umount", "-l", str(point))
        point.rmdir()
