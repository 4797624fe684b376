"""Load a participant's image into Docker once, and keep its tags from hijacking ours.

`docker load` applies the RepoTags written in the tarball. A participant could name an
image `python:3.11` or an organizer's evaluation image and silently replace it on the
worker. So after a load the image is held by a platform tag, the tarball's tags are
removed, and any tag the load moved is pointed back where it was.
"""

from __future__ import annotations

import gzip
import re
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import docker
from docker.errors import APIError, ImageNotFound

from lai_platform.images.tarball import ImageInfo, ImageRejected, inspect_image_tarball
from lai_platform.runner.base import ImageLoadError

HOLD_REPOSITORY = "lai-image"  # every loaded image is tagged lai-image:<hex of its ID>
_IMAGE_ID = re.compile(r"^sha256:[0-9a-f]{64}$")
_LOADED = re.compile(r"^Loaded image(?: ID)?: (\S+)")


def check_image_id(image_id: str) -> None:
    # Only full IDs: a short ID or a tag could name a different image.
    if not _IMAGE_ID.match(image_id):
        raise ValueError(f"not a full image ID (sha256:<64 hex>): {image_id!r}")


def image_id_of(client: docker.DockerClient, ref: str) -> str | None:
    try:
        return client.images.get(ref).id
    except ImageNotFound:
        return None


def load_image_tarball(client: docker.DockerClient, tar_path: Path, image_id: str) -> None:
    """Load `tar_path`, which must contain exactly the image `image_id`."""
    try:
        info = inspect_image_tarball(tar_path, tar_path.stat().st_size, expansion=False)
    except ImageRejected as exc:
        raise ImageLoadError(f"{tar_path} is not a valid image tarball: {exc.message}") from exc
    if info.image_id != image_id:
        raise ImageLoadError(f"{tar_path} holds image {info.image_id}, expected {image_id}")
    previous = {tag: image_id_of(client, tag) for tag in info.repo_tags}
    try:
        loaded = _docker_load(client, tar_path, info)
        loaded_ids = {image_id_of(client, ref) for ref in loaded}
        if image_id not in loaded_ids:
            raise ImageLoadError(
                f"loading {tar_path} gave {sorted(map(str, loaded_ids))}, expected {image_id}"
            )
        client.api.tag(image_id, HOLD_REPOSITORY, image_id.removeprefix("sha256:"))
    finally:
        _restore_tags(client, previous)


def _docker_load(client: docker.DockerClient, tar_path: Path, info: ImageInfo) -> list[str]:
    """Stream the file to `docker load` (with a manifest.json added to an OCI archive);
    return the references it reports."""
    refs: list[str] = []
    try:
        with _loadable(tar_path, info) as data:
            for message in client.api.load_image(data, quiet=True):
                if "error" in message or "errorDetail" in message:
                    detail = message.get("errorDetail", {}).get("message") or message["error"]
                    raise ImageLoadError(f"docker load of {tar_path} failed: {detail}")
                match = _LOADED.match(message.get("stream", ""))
                if match:
                    refs.append(match.group(1))
    except APIError as exc:
        raise ImageLoadError(f"docker load of {tar_path} failed: {exc}") from exc
    return refs


@contextmanager
def _loadable(tar_path: Path, info: ImageInfo) -> Iterator[IO[bytes] | Iterator[bytes]]:
    if info.docker_manifest is None:
        with tar_path.open("rb") as data:
            yield data
        return
    yield _with_manifest(tar_path, info)


def _with_manifest(tar_path: Path, info: ImageInfo) -> Iterator[bytes]:
    """The archive's entries (expanded, if it is gzip) up to its end-of-archive marker, then
    a manifest.json, then a new marker: what an OCI archive needs for `docker load`."""
    opener = gzip.open if info.compressed else open
    with opener(tar_path, "rb") as source:
        left = info.archive_end
        while left > 0 and (chunk := source.read(min(left, 2**20))):
            left -= len(chunk)
            yield chunk
    entry = tarfile.TarInfo("manifest.json")
    entry.size, entry.mode = len(info.docker_manifest), 0o644
    yield entry.tobuf(format=tarfile.PAX_FORMAT)
    yield info.docker_manifest + b"\0" * (-len(info.docker_manifest) % tarfile.BLOCKSIZE)
    yield b"\0" * (2 * tarfile.BLOCKSIZE)


def _restore_tags(client: docker.DockerClient, previous: dict[str, str | None]) -> None:
    for tag, before in previous.items():
        repository, _, name = _split_tag(tag)
        if before is not None:
            client.api.tag(before, repository, name, force=True)
        elif image_id_of(client, tag) is not None:
            # Untag only: the image itself is held by its lai-image tag.
            client.api.remove_image(tag, noprune=True)


def _split_tag(tag: str) -> tuple[str, str, str]:
    repository, sep, name = tag.rpartition(":")
    if not sep or "/" in name:  # "host:5000/repo" has no tag part
        return tag, "", "latest"
    return repository, sep, name
