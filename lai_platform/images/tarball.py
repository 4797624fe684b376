"""Validate a submitted `docker save` tarball by reading it in Python, before Docker sees it.

Docker is never asked: an upload is untrusted bytes, and a broken or hostile one must be
rejected with words a researcher can act on, without handing it to the daemon first.

Two layouts are accepted, both with a top-level `manifest.json` (which is what
`docker load` reads):

* classic (Docker < 25): `<hex>.json` config and `<layer-id>/layer.tar` layers;
* OCI (Docker >= 25): `index.json`, `oci-layout` and `blobs/sha256/<hex>`, with
  `manifest.json` pointing into `blobs/`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from lai_platform.images.archive import (
    SAVE_HINT,
    Expansion,
    ImageRejected,
    Members,
    clean_name,
    corrupt,
    mb,
    scanned_archive,
)
from lai_platform.images.oci import oci_manifest

MAX_LAYERS = 125
_DIGEST_NAME = re.compile(r"(?:^|/)(?:sha256/)?([0-9a-f]{64})(?:\.json)?$")


@dataclass(frozen=True)
class ImageInfo:
    image_id: str  # "sha256:<hex of the config blob>", the ID Docker gives it after a load
    architecture: str
    os: str
    cmd: list[str] | None  # None when the image has none (an empty list counts as none)
    entrypoint: list[str] | None
    repo_tags: list[str]
    size_bytes: int  # size of the tarball as uploaded (compressed, if it is gzip)
    # An OCI archive (podman, skopeo) has no manifest.json, which `docker load` reads: the
    # one to add when loading, and where the archive's end-of-archive marker starts.
    docker_manifest: bytes | None = None
    archive_end: int = 0
    compressed: bool = False


def inspect_image_tarball(path: Path, max_bytes: int, *, expansion: bool = True) -> ImageInfo:
    """Check the tarball at `path`; raise ImageRejected with a clear reason if unusable."""
    with path.open("rb") as stream:
        return inspect_image_stream(stream, path.stat().st_size, max_bytes, expansion=expansion)


def inspect_image_stream(stream: IO[bytes], size: int, max_bytes: int, *,
                         expansion: bool = True) -> ImageInfo:
    """Check a tarball of `size` bytes read from a seekable `stream` (a local file, or an
    object in storage); raise ImageRejected with a clear reason if unusable. With
    `expansion`, compressed data may expand to `max_bytes` at most (a tarball that passed
    that once need not be expanded again to be loaded)."""
    if size > max_bytes:
        raise ImageRejected(
            "too_large",
            f"The image file is {mb(size)}, over this phase's limit of {mb(max_bytes)}. "
            "Make the image smaller (e.g. a slim base image, no build tools or caches).",
        )
    with scanned_archive(stream, Expansion(max_bytes, size) if expansion else None) as members:
        return _inspect(members, size)


def _inspect(members: Members, size: int) -> ImageInfo:
    manifest, added = _read_manifest(members)
    entry = manifest[0]
    config_name = _manifest_path(entry.get("Config"), "Config")
    if members.resolve(config_name) is None:
        raise ImageRejected(
            "config_missing",
            f"The image configuration {config_name!r} named in manifest.json is not in the "
            f"archive. {SAVE_HINT}",
        )
    config_bytes = members.read(config_name, "config_invalid", "image configuration")
    config = _parse_json(config_bytes, "config_invalid", "image configuration")
    if not isinstance(config, dict):
        raise ImageRejected("config_invalid", "The image configuration is not a JSON object.")
    image_id = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    _check_digest_name(config_name, image_id)
    _check_layers(members, entry, config)
    arch = _text(config.get("architecture"))
    if arch != "amd64":
        raise ImageRejected(
            "wrong_architecture",
            f"The image is built for the {arch or 'unknown'!r} architecture, but the platform "
            "runs amd64 machines. Rebuild it with `docker build --platform linux/amd64 ...` "
            "and save it again.",
        )
    os_name = _text(config.get("os"))
    if os_name != "linux":
        raise ImageRejected(
            "wrong_os",
            f"The image is built for the {os_name or 'unknown'!r} operating system; only "
            "linux images can run. Rebuild it with `--platform linux/amd64`.",
        )
    run_config = config.get("config") if isinstance(config.get("config"), dict) else {}
    cmd = _command(run_config.get("Cmd"))
    entrypoint = _command(run_config.get("Entrypoint"))
    if cmd is None and entrypoint is None:
        raise ImageRejected(
            "no_command",
            "The image has neither an ENTRYPOINT nor a CMD, so there is nothing to run. "
            'Add e.g. `ENTRYPOINT ["python", "/app/predict.py"]` to the Dockerfile.',
        )
    tags = entry.get("RepoTags") or []
    return ImageInfo(
        image_id=image_id,
        architecture=arch,
        os=os_name,
        cmd=cmd,
        entrypoint=entrypoint,
        repo_tags=[tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else [],
        size_bytes=size,
        docker_manifest=json.dumps(manifest).encode() if added else None,
        archive_end=members.end_offset,
        compressed=members.is_gzip,
    )


def _read_manifest(members: Members) -> tuple[list[dict[str, Any]], bool]:
    """The docker manifest, and whether it was made here from an OCI index."""
    if members.resolve("manifest.json") is None:
        if members.resolve("index.json") is not None:
            return [oci_manifest(members)], True
        raise ImageRejected(
            "no_manifest",
            "The archive has neither manifest.json (`docker save`) nor index.json (an OCI "
            f"archive, e.g. `podman save --format oci-archive`). {SAVE_HINT}",
        )
    raw = members.read("manifest.json", "manifest_invalid", "manifest.json")
    manifest = _parse_json(raw, "manifest_invalid", "manifest.json")
    if not isinstance(manifest, list) or not all(isinstance(e, dict) for e in manifest):
        raise ImageRejected("manifest_invalid", "manifest.json is not a list of images.")
    if len(manifest) != 1:
        raise ImageRejected(
            "image_count",
            f"The archive contains {len(manifest)} images; exactly one image per submission "
            "is accepted. Save only your algorithm image: `docker save -o image.tar <image>`.",
        )
    return manifest, False


def _check_layers(members: Members, entry: dict[str, Any], config: dict[str, Any]) -> None:
    layers = entry.get("Layers")
    if not isinstance(layers, list) or not layers:
        raise ImageRejected("manifest_invalid", "manifest.json lists no layers for the image.")
    if len(layers) > MAX_LAYERS:
        raise ImageRejected(
            "too_many_layers",
            f"The image has {len(layers)} layers; at most {MAX_LAYERS} are accepted (the "
            "engine's own limit is 128). Combine RUN steps, or squash the image.",
        )
    names = [_manifest_path(layer, "Layers") for layer in layers]
    missing = [name for name in names if members.resolve(name) is None]
    if missing:
        shown = ", ".join(repr(name) for name in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise ImageRejected(
            "layers_missing",
            f"{len(missing)} of the image's {len(names)} layers are missing from the archive "
            f"({shown}{more}). {SAVE_HINT}",
        )
    rootfs = config.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or len(diff_ids) != len(names):
        raise ImageRejected(
            "config_invalid",
            "The image configuration and manifest.json disagree on the number of layers. "
            + SAVE_HINT,
        )


def _manifest_path(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise ImageRejected("manifest_invalid", f"manifest.json has no valid {field!r} entry.")
    name = clean_name(value, f"manifest.json {field}")
    if not name:
        raise ImageRejected("manifest_invalid", f"manifest.json has no valid {field!r} entry.")
    return name


def _parse_json(raw: bytes, code: str, what: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ImageRejected(code, f"The {what} is not valid JSON. {SAVE_HINT}") from exc


def _check_digest_name(config_name: str, image_id: str) -> None:
    match = _DIGEST_NAME.search(config_name)
    if match and "sha256:" + match.group(1) != image_id:
        raise corrupt("the image configuration does not match its checksum")


def _command(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value] if value else None
    if isinstance(value, list) and value and all(isinstance(part, str) for part in value):
        return list(value)
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""




__all__ = ["ImageInfo", "ImageRejected", "inspect_image_stream", "inspect_image_tarball"]
