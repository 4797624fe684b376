"""Test helpers for algorithm images: tiny busybox images built from tests/containers/,
`docker save` tarballs of them, and synthetic image tarballs in both save layouts.

The static host busybox is copied into a temporary build context at build time; it is
never committed. There is no registry here, so images are built `FROM scratch`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import docker

CONTAINERS_DIR = Path(__file__).resolve().parent / "containers"
BUSYBOX = Path("/bin/busybox")
DEFAULT_ENTRYPOINT = ("/bin/predict",)

_built: dict[str, str] = {}


@cache
def docker_client() -> docker.DockerClient:
    return docker.from_env(timeout=120)


def docker_available() -> bool:
    """True when a Docker Engine answers and the static busybox to build from exists."""
    try:
        docker_client().ping()
    except Exception:  # any failure means "no usable daemon here"
        return False
    return BUSYBOX.is_file()


def build_test_image(name: str, labels: Mapping[str, str] | None = None) -> str:
    """Build tests/containers/<name> as `lai-test-<name>:latest`; return its image ID.

    Built once per session. With `labels`, a distinct image (new ID, untagged) is built
    every call, for tests that must load, remove or retag an image of their own.
    """
    if labels is None and name in _built:
        return _built[name]
    source = CONTAINERS_DIR / name
    if not (source / "run.sh").is_file():
        raise ValueError(f"no test image called {name!r} in {CONTAINERS_DIR}")
    with tempfile.TemporaryDirectory(prefix=f"lai-test-{name}-") as context:
        shutil.copytree(source, context, dirs_exist_ok=True)
        if not (Path(context) / "Dockerfile").exists():  # the shared busybox recipe
            shutil.copy2(CONTAINERS_DIR / "Dockerfile", Path(context) / "Dockerfile")
        shutil.copy2(BUSYBOX, Path(context) / "busybox")
        shutil.copy2(CONTAINERS_DIR / "predict.sh", Path(context) / "predict.sh")
        image, _ = docker_client().images.build(
            path=context,
            tag=None if labels else f"lai-test-{name}:latest",
            labels=dict(labels) if labels else None,
            network_mode="none",  # the daemon has no bridge network
            rm=True,
            forcerm=True,
        )
    if labels is None:
        _built[name] = image.id
    return image.id


def build_unique_image(name: str = "ok") -> str:
    """A fresh image (unique ID, no tag) that only the calling test uses."""
    return build_test_image(name, labels={"lai.test.nonce": uuid.uuid4().hex})


def save_image(image_id_or_tag: str, path: Path) -> Path:
    """`docker save` one image to `path`. Saving by tag records the tag in the tarball."""
    with path.open("wb") as out:
        for chunk in docker_client().api.get_image(image_id_or_tag):
            out.write(chunk)
    return path


# -- synthetic tarballs ---------------------------------------------------------------------


@dataclass(frozen=True)
class Symlink:
    target: str


@dataclass(frozen=True)
class Special:
    """A tar entry of another type (e.g. tarfile.FIFOTYPE)."""

    type: bytes


Member = bytes | Symlink | Special


def layer_tar(files: Mapping[str, bytes]) -> bytes:
    """An uncompressed layer: a tar of the given files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def image_config(
    layers: list[bytes],
    *,
    architecture: str = "amd64",
    os: str = "linux",
    cmd: Sequence[str] | None = None,
    entrypoint: Sequence[str] | None = DEFAULT_ENTRYPOINT,
) -> dict[str, Any]:
    return {
        "architecture": architecture,
        "os": os,
        "config": {
            "Env": ["PATH=/bin"],
            "Cmd": list(cmd) if cmd is not None else None,
            "Entrypoint": list(entrypoint) if entrypoint is not None else None,
        },
        "rootfs": {"type": "layers", "diff_ids": [_digest(layer) for layer in layers]},
        "history": [{"created_by": "synthetic"} for _ in layers],
    }


def synthetic_image(
    layout: str = "classic",
    *,
    layers: list[bytes] | None = None,
    config: dict[str, Any] | None = None,
    repo_tags: list[str] | None = None,
    **config_fields: Any,
) -> tuple[dict[str, Member], str]:
    """The members of a `docker save` tarball of one image, and that image's ID.

    layout "classic" is Docker < 25 (`<hex>.json`, `<id>/layer.tar`); "oci" is what
    Docker >= 25 writes (`blobs/sha256/...`, `index.json`, `oci-layout`, `manifest.json`).
    `config_fields` go to image_config(). Tests edit the returned dict to break things.
    """
    layers = layers if layers is not None else [layer_tar({"bin/predict": b"#!/bin/sh\n"})]
    config = config if config is not None else image_config(layers, **config_fields)
    config_bytes = json.dumps(config).encode()
    config_hex = hashlib.sha256(config_bytes).hexdigest()
    tags = repo_tags if repo_tags is not None else ["lai-test/synthetic:1"]
    if layout == "classic":
        members = _classic_members(config_hex, config_bytes, layers, tags)
    elif layout == "oci":
        members = _oci_members(config_hex, config_bytes, layers, tags)
    else:
        raise ValueError(f"unknown layout {layout!r}")
    return members, f"sha256:{config_hex}"


def write_tarball(path: Path, members: Mapping[str, Member], *, compress: bool = False) -> Path:
    """Write members (bytes, Symlink or Special) as a tar archive, gzip-compressed if asked."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, member in members.items():
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if isinstance(member, Symlink):
                info.type = tarfile.SYMTYPE
                info.linkname = member.target
                tar.addfile(info)
            elif isinstance(member, Special):
                info.type = member.type
                tar.addfile(info)
            elif name.endswith("/"):
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(member)
                tar.addfile(info, io.BytesIO(member))
    data = buffer.getvalue()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def manifest_of(members: Mapping[str, Member]) -> list[dict[str, Any]]:
    raw = members["manifest.json"]
    assert isinstance(raw, bytes)
    return json.loads(raw)


def set_manifest(members: dict[str, Member], manifest: Any) -> None:
    members["manifest.json"] = json.dumps(manifest).encode()


def to_oci_layout(classic_tar: Path, out: Path) -> Path:
    """Rewrite a real classic `docker save` tarball in the layout Docker >= 25 writes."""
    with tarfile.open(classic_tar) as tar:
        manifest = json.load(_member(tar, "manifest.json"))[0]
        config_bytes = _member(tar, manifest["Config"]).read()
        layers = [_member(tar, name).read() for name in manifest["Layers"]]
    config_hex = hashlib.sha256(config_bytes).hexdigest()
    members = _oci_members(config_hex, config_bytes, layers, manifest.get("RepoTags") or [])
    return write_tarball(out, members)


def oci_members(config_bytes: bytes, layers: list[bytes],
                tags: list[str] | None = None) -> dict[str, Member]:
    """The members of an OCI archive of this image (with a manifest.json, as Docker >= 25
    writes; delete it for what podman and skopeo write)."""
    return _oci_members(hashlib.sha256(config_bytes).hexdigest(), config_bytes, layers,
                        tags or [])


def _member(tar: tarfile.TarFile, name: str) -> io.BufferedReader:
    handle = tar.extractfile(name)
    assert handle is not None
    return handle  # type: ignore[return-value]


def _classic_members(
    config_hex: str, config_bytes: bytes, layers: list[bytes], tags: list[str]
) -> dict[str, Member]:
    members: dict[str, Member] = {f"{config_hex}.json": config_bytes}
    layer_paths = []
    parent = ""
    for layer in layers:
        layer_id = hashlib.sha256((parent + _digest(layer)).encode()).hexdigest()
        members[f"{layer_id}/"] = b""
        members[f"{layer_id}/VERSION"] = b"1.0"
        members[f"{layer_id}/json"] = json.dumps({"id": layer_id}).encode()
        members[f"{layer_id}/layer.tar"] = layer
        layer_paths.append(f"{layer_id}/layer.tar")
        parent = layer_id
    members["manifest.json"] = json.dumps(
        [{"Config": f"{config_hex}.json", "RepoTags": tags or None, "Layers": layer_paths}]
    ).encode()
    return members


def _oci_members(
    config_hex: str, config_bytes: bytes, layers: list[bytes], tags: list[str]
) -> dict[str, Member]:
    blobs: dict[str, bytes] = {config_hex: config_bytes}
    for layer in layers:
        blobs[_digest(layer).removeprefix("sha256:")] = layer
    image_manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": _descriptor("application/vnd.oci.image.config.v1+json", config_bytes),
            "layers": [_descriptor("application/vnd.oci.image.layer.v1.tar", b) for b in layers],
        }
    ).encode()
    manifest_hex = hashlib.sha256(image_manifest).hexdigest()
    blobs[manifest_hex] = image_manifest
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                **_descriptor("application/vnd.oci.image.manifest.v1+json", image_manifest),
                "annotations": {"io.containerd.image.name": tags[0]} if tags else {},
            }
        ],
    }
    members: dict[str, Member] = {"blobs/": b"", "blobs/sha256/": b""}
    members.update({f"blobs/sha256/{hex_}": blob for hex_, blob in sorted(blobs.items())})
    members["index.json"] = json.dumps(index).encode()
    members["manifest.json"] = json.dumps(
        [
            {
                "Config": f"blobs/sha256/{config_hex}",
                "RepoTags": tags or None,
                "Layers": [f"blobs/sha256/{_digest(b).removeprefix('sha256:')}" for b in layers],
            }
        ]
    ).encode()
    members["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
    return members


def _descriptor(media_type: str, blob: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": _digest(blob), "size": len(blob)}


def _digest(blob: bytes) -> str:
    return "sha256:" + hashlib.sha256(blob).hexdigest()
