"""Images a worker loaded are kept under a disk budget, least recently used removed first,
and free disk is checked before an image is fetched and loaded.

Only images this worker loaded or ran (recorded in its use file, under its data dir) are
ever removed: an engine may be shared with other deployments (staging, tests) or hold the
base images, and those are not ours to prune. An image a container is using, or one used in
the last few minutes (a run may be about to create its container), is never removed.
Sizes are Docker's own per image, layers shared between images counted in each: the budget
errs on the side of removing too much, never too little.
"""

from __future__ import annotations

import fcntl
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import APIError, ImageNotFound

from lai_platform.config import Settings
from lai_platform.runner.image_loading import HOLD_REPOSITORY

log = logging.getLogger(__name__)

BASE_IMAGES = ("lai-base-python:bookworm",)  # never removed, even if recorded
RECENT_S = 600.0  # used this recently: a run may be between loading and starting it


class NoRoomForImage(RuntimeError):
    """Not enough free disk for an image even after removing what may be removed."""


@dataclass(frozen=True)
class StoredImage:
    image_id: str
    size: int
    last_used: float


def evictions(images: Iterable[StoredImage], budget: int, incoming: int,
              protected: set[str]) -> list[str]:
    """Which images to remove, least recently used first, so that they and an incoming
    image of `incoming` bytes fit in `budget` bytes; protected ones are skipped."""
    images = sorted(images, key=lambda i: i.last_used)
    total = sum(i.size for i in images) + incoming
    chosen = []
    for image in images:
        if total <= budget:
            break
        if image.image_id not in protected:
            chosen.append(image.image_id)
            total -= image.size
    return chosen


class UseLog:
    """When each image was last used on this worker: a small JSON file, locked, shared by
    the worker's processes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _update(self, change) -> dict[str, float]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with (self.path.parent / f".{self.path.name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            uses = self.read()
            change(uses)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(uses))
            tmp.replace(self.path)
            return uses

    def read(self) -> dict[str, float]:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def touch(self, image_id: str, when: float | None = None) -> None:
        self._update(lambda uses: uses.__setitem__(image_id, when or time.time()))

    def forget(self, image_ids: Iterable[str]) -> None:
        gone = set(image_ids)
        self._update(lambda uses: [uses.pop(i, None) for i in gone])


class ImageBudget:
    def __init__(self, use_file: Path, budget_bytes: int, min_free_bytes: int,
                 disks: Iterable[Path] = (), recent_s: float = RECENT_S) -> None:
        self.uses = UseLog(use_file)
        self.recent_s = recent_s
        self.budget_bytes = budget_bytes
        self.min_free_bytes = min_free_bytes
        # Where a tarball lands and is unpacked: the data dir, the temp dir (S3 downloads)
        # and Docker's root if this worker can see it.
        self.disks = [*disks, Path(tempfile.gettempdir())]

    def make_room(self, client: docker.DockerClient, image_id: str, size: int) -> list[str]:
        """Before fetching and loading `image_id` (a tarball of `size` bytes): remove least
        recently used images over the budget, then more while a disk lacks room; raise
        NoRoomForImage if it still does. Returns the removed image IDs."""
        stored = self._stored(client)
        protected = self._protected(client) | {image_id}
        removed = self._remove(client, evictions(stored, self.budget_bytes, size, protected))
        left = [i for i in stored if i.image_id not in removed and i.image_id not in protected]
        for image in sorted(left, key=lambda i: i.last_used):
            if not self._short_of_disk(client, size):
                break
            removed += self._remove(client, [image.image_id])
        short = self._short_of_disk(client, size)
        if short:
            raise NoRoomForImage(short)
        return removed

    def _stored(self, client: docker.DockerClient) -> list[StoredImage]:
        found, missing = [], []
        for image_id, used in self.uses.read().items():
            try:
                size = int(client.images.get(image_id).attrs.get("Size") or 0)
            except ImageNotFound:
                missing.append(image_id)
                continue
            found.append(StoredImage(image_id, size, used))
        if missing:
            self.uses.forget(missing)
        return found

    def _protected(self, client: docker.DockerClient) -> set[str]:
        running = {c.get("ImageID") for c in client.api.containers(all=True)}
        recent = {i for i, used in self.uses.read().items() if time.time() - used < self.recent_s}
        base = set()
        for ref in BASE_IMAGES:
            try:
                base.add(client.images.get(ref).id)
            except ImageNotFound:
                pass
        return running | recent | base

    def _remove(self, client: docker.DockerClient, image_ids: list[str]) -> list[str]:
        removed = []
        for image_id in image_ids:
            try:
                # Our hold tag only: an image someone else also tagged stays theirs.
                client.images.remove(f"{HOLD_REPOSITORY}:{image_id.removeprefix('sha256:')}")
                removed.append(image_id)
                log.info("removed image %s (least recently used, over the budget)", image_id)
            except ImageNotFound:
                removed.append(image_id)
            except APIError as exc:  # a stopped container still holds it: next time
                log.warning("could not remove image %s: %s", image_id, exc)
        self.uses.forget(removed)
        return removed

    def _short_of_disk(self, client: docker.DockerClient, size: int) -> str:
        """Why there is not room for a tarball of `size` bytes and its image ('' if there is)."""
        need = size + self.min_free_bytes
        for disk in self._disks(client):
            free = shutil.disk_usage(disk).free
            if free < need:
                return (f"{disk} has {free / 2**30:.1f} GiB free; loading an image of "
                        f"{size / 2**30:.1f} GiB needs {need / 2**30:.1f} GiB")
        return ""

    def _disks(self, client: docker.DockerClient) -> list[Path]:
        root = Path(client.info().get("DockerRootDir") or "/nonexistent")
        return [d for d in {*self.disks, root} if d.exists()]


def image_budget_for(settings: Settings) -> ImageBudget:
    """A worker's budget: LAI_IMAGE_BUDGET_GB, LAI_MIN_FREE_DISK_GB, use file in its data dir."""
    return ImageBudget(settings.data_dir / "cache" / "image-uses.json",
                       settings.image_budget_bytes, settings.min_free_disk_bytes,
                       disks=[settings.data_dir])
