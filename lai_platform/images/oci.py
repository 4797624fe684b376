"""OCI image archives (`podman save --format oci-archive`, `skopeo copy ... oci-archive:`):
an `index.json` and content-addressed blobs, without the `manifest.json` that `docker load`
(before Docker 25) reads. The image's docker manifest is made from the index, and added to
the archive when the engine loads it (runner.image_loading)."""

from __future__ import annotations

import json
import re
from typing import Any

from lai_platform.images.archive import SAVE_HINT, ImageRejected, Members

_DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")
_INDEX = ("application/vnd.oci.image.index.v1+json",
          "application/vnd.docker.distribution.manifest.list.v2+json")
_REF_NAMES = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


def oci_manifest(members: Members) -> dict[str, Any]:
    """{"Config", "Layers", "RepoTags"} of the one linux/amd64 image in the OCI index."""
    index = _json(members, "index.json", "index.json")
    descriptor = _one_image(index, "index.json")
    if descriptor.get("mediaType") in _INDEX:  # a multi-platform index: pick linux/amd64
        nested = _json(members, _blob(descriptor, "index.json"), "the image index")
        descriptor = _one_image(nested, "the image index", amd64_only=True)
    manifest = _json(members, _blob(descriptor, "index.json"), "the image manifest")
    config = manifest.get("config")
    layers = manifest.get("layers")
    if not isinstance(config, dict) or not isinstance(layers, list) or not layers:
        raise _invalid("the image manifest names no configuration or no layers")
    return {
        "Config": _blob(config, "the image manifest"),
        "Layers": [_blob(layer, "the image manifest") for layer in layers],
        "RepoTags": _tags(descriptor),
    }


def _one_image(index: Any, what: str, amd64_only: bool = False) -> dict[str, Any]:
    manifests = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(manifests, list) or not all(isinstance(m, dict) for m in manifests):
        raise _invalid(f"{what} lists no images")
    if amd64_only:
        manifests = [m for m in manifests if (m.get("platform") or {}).get("architecture")
                     == "amd64" and (m.get("platform") or {}).get("os") == "linux"]
    if len(manifests) != 1:
        raise ImageRejected(
            "image_count",
            f"{what} holds {len(manifests)} images for linux/amd64; exactly one image per "
            "submission is accepted. Save only your algorithm image.",
        )
    return manifests[0]


def _blob(descriptor: Any, what: str) -> str:
    digest = descriptor.get("digest") if isinstance(descriptor, dict) else None
    match = _DIGEST.match(digest) if isinstance(digest, str) else None
    if match is None:
        raise _invalid(f"{what} has a descriptor without a sha256 digest")
    return f"blobs/sha256/{match.group(1)}"


def _json(members: Members, name: str, what: str) -> Any:
    if members.resolve(name) is None:
        raise _invalid(f"{what} ({name}) is not in the archive")
    try:
        return json.loads(members.read(name, "manifest_invalid", what))
    except (ValueError, RecursionError):
        raise _invalid(f"{what} is not valid JSON") from None


def _tags(descriptor: dict[str, Any]) -> list[str]:
    annotations = descriptor.get("annotations")
    if not isinstance(annotations, dict):
        return []
    names = [annotations.get(key) for key in _REF_NAMES]
    # A full "repository:tag" can be applied after loading; a bare tag ("latest") cannot.
    return [n for n in names if isinstance(n, str) and ":" in n.rsplit("/", 1)[-1]][:1]


def _invalid(problem: str) -> ImageRejected:
    return ImageRejected("manifest_invalid", f"The OCI archive is not usable: {problem}. "
                         + SAVE_HINT)
