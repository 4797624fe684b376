"""The host side of /output: created empty, measured while the container runs, checked after.

Everything in /output was written by untrusted code, so nothing here follows a symlink.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

CONTAINER_UID = 65534  # "nobody": the user every participant container runs as
# Many tiny files can exhaust a disk's inodes without adding up to many bytes.
MAX_OUTPUT_ENTRIES = 100_000


class OutputDirError(RuntimeError):
    """The host output folder could not be prepared (a platform problem)."""


def prepare_output_dir(path: Path) -> None:
    """Create `path` empty and writable by the container user, or fail if it holds files."""
    path.mkdir(parents=True, exist_ok=True)
    if any(path.iterdir()):
        # Stale files could pass for this run's output.
        raise OutputDirError(f"output folder {path} is not empty")
    try:
        os.chown(path, CONTAINER_UID, CONTAINER_UID)
        path.chmod(0o755)
    except PermissionError:
        # A non-root worker cannot chown; the folder is private to the job anyway.
        path.chmod(0o777)


@dataclass(frozen=True)
class OutputUsage:
    bytes: int
    entries: int


def measure_output(path: Path) -> OutputUsage:
    """Apparent size of everything under `path`, without following links."""
    total = entries = 0
    pending = [path]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                for entry in listing:
                    entries += 1
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue  # deleted while we looked
                    if stat.S_ISDIR(info.st_mode):
                        pending.append(Path(entry.path))
                    else:
                        # Sparse files count at their apparent size, like the fsize ulimit.
                        total += max(info.st_size, info.st_blocks * 512)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
    return OutputUsage(bytes=total, entries=entries)


def over_limit(usage: OutputUsage, max_bytes: int) -> bool:
    return usage.bytes > max_bytes or usage.entries > MAX_OUTPUT_ENTRIES


def predictions_state(path: Path) -> str:
    """'file', 'missing', or 'not_a_file' (a symlink could point the caller at host files)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "missing"
    return "file" if stat.S_ISREG(info.st_mode) else "not_a_file"


def copy_output(source: Path, target: Path) -> None:
    """Copy what a container left in `source` into `target`: folders and regular files, and
    links as links (never followed; the checks after a run see them as the container left
    them). The size of `source` is already bounded; its depth need not be (no recursion)."""
    pending = [(source, target)]
    while pending:
        here, there = pending.pop()
        there.mkdir(exist_ok=True)
        with os.scandir(here) as listing:
            for entry in listing:
                copy = there / entry.name
                if entry.is_symlink():
                    os.symlink(os.readlink(entry.path), copy)
                elif entry.is_dir(follow_symlinks=False):
                    pending.append((Path(entry.path), copy))
                elif entry.is_file(follow_symlinks=False):
                    shutil.copyfile(entry.path, copy, follow_symlinks=False)
