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

import gzip
import hashlib
import json
import posixpath
import re
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

# Caps for the JSON documents read into memory: real ones are a few KiB.
MAX_JSON_BYTES = 16 * 2**20
# Small members that may be the config are kept during the single pass over the archive,
# so a gzip stream need not be decompressed twice; this bounds the memory that costs.
_CAPTURE_BUDGET_BYTES = 64 * 2**20
_MAX_LINK_HOPS = 8
# `docker save` writes a handful of entries per layer; millions of tiny entries would only
# serve to exhaust the memory of whoever lists them.
MAX_ENTRIES = 50_000
# tarfile reads a pax or GNU long-name header into memory whole: refuse absurd ones.
_MAX_SINGLE_READ = 64 * 2**20
_DIGEST_NAME = re.compile(r"(?:^|/)(?:sha256/)?([0-9a-f]{64})(?:\.json)?$")
_OTHER_COMPRESSIONS = {
    b"\x28\xb5\x2f\xfd": "zstd",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
}
_SAVE_HINT = "Create it with `docker save -o image.tar <image>` and upload that file."


class ImageRejected(ValueError):
    """A tarball that cannot be accepted; `message` is meant for the researcher."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ImageInfo:
    image_id: str  # "sha256:<hex of the config blob>", the ID Docker gives it after a load
    architecture: str
    os: str
    cmd: list[str] | None  # None when the image has none (an empty list counts as none)
    entrypoint: list[str] | None
    repo_tags: list[str]
    size_bytes: int  # size of the tarball as uploaded (compressed, if it is gzip)


def inspect_image_tarball(path: Path, max_bytes: int) -> ImageInfo:
    """Check the tarball at `path`; raise ImageRejected with a clear reason if unusable."""
    size = path.stat().st_size
    if size > max_bytes:
        raise ImageRejected(
            "too_large",
            f"The image file is {_mb(size)}, over this phase's limit of {_mb(max_bytes)}. "
            "Make the image smaller (e.g. a slim base image, no build tools or caches).",
        )
    with path.open("rb") as raw:
        is_gzip = _sniff_compression(raw)
        stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if is_gzip else raw
        recorder = _LastReadRecorder(stream)
        try:
            archive = _open_archive(recorder, is_gzip)
            with archive:
                members = _scan(archive, recorder, is_gzip)
                return _inspect(members, size)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise _corrupt(str(exc) or type(exc).__name__) from exc


def _sniff_compression(raw: IO[bytes]) -> bool:
    """True for gzip, False for a plain tar; anything else is rejected by its magic bytes."""
    head = raw.read(8)
    raw.seek(0)
    if not head:
        raise ImageRejected("not_tar", f"The file is empty. {_SAVE_HINT}")
    if head.startswith(b"\x1f\x8b"):
        return True
    for magic, kind in _OTHER_COMPRESSIONS.items():
        if head.startswith(magic):
            raise ImageRejected(
                "unsupported_compression",
                f"The file is a {kind} archive. Upload the tar file from `docker save` as it "
                "is, or compressed with gzip.",
            )
    return False


def _open_archive(recorder: _LastReadRecorder, is_gzip: bool) -> tarfile.TarFile:
    try:
        # Random-access mode: forward seeks skip layer data (cheap for a plain tar) and a
        # read past the end raises "unexpected end of data", which catches truncation.
        return tarfile.open(fileobj=recorder, mode="r:")  # type: ignore[call-overload]
    except tarfile.ReadError as exc:
        inside = " inside the gzip compression" if is_gzip else ""
        raise ImageRejected(
            "not_tar", f"The file is not a tar archive{inside} ({exc}). {_SAVE_HINT}"
        ) from exc


@dataclass
class _Members:
    """What one pass over the archive learnt: entries by clean name, and small contents."""

    entries: dict[str, tarfile.TarInfo]
    links: dict[str, str]  # clean name -> clean target (symlinks and hard links)
    captured: dict[str, bytes]
    archive: tarfile.TarFile  # for reading a member that was not captured


def _scan(archive: tarfile.TarFile, recorder: _LastReadRecorder, is_gzip: bool) -> _Members:
    found = _Members(entries={}, links={}, captured={}, archive=archive)
    budget = _CAPTURE_BUDGET_BYTES
    for count, member in enumerate(archive, start=1):
        if count > MAX_ENTRIES:
            raise ImageRejected(
                "too_many_entries",
                f"The archive has more than {MAX_ENTRIES} entries, far more than an image "
                f"saved by Docker has. {_SAVE_HINT}",
            )
        name = _clean_name(member.name, member.name)
        if not name:
            continue  # the archive's own root, "./"
        if name in found.entries:
            raise ImageRejected("unsafe_path", f"The archive contains {name!r} twice. {_SAVE_HINT}")
        found.entries[name] = member
        if member.issym():
            found.links[name] = _link_target(name, member.linkname, relative=True)
        elif member.islnk():
            found.links[name] = _link_target(name, member.linkname, relative=False)
        elif not (member.isreg() or member.isdir()):
            raise ImageRejected(
                "unsafe_path",
                f"The archive contains {name!r}, which is not a file or folder. {_SAVE_HINT}",
            )
        elif member.size <= min(MAX_JSON_BYTES, budget):
            data = _capture_if_json(archive, member)
            if data is not None:
                found.captured[name] = data
                budget -= len(data)
    _check_end_of_archive(archive, recorder, is_gzip)
    if not found.entries:
        raise ImageRejected("not_tar", f"The archive contains no files. {_SAVE_HINT}")
    return found


def _capture_if_json(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes | None:
    """Read a small member if it looks like JSON (a layer starts with a file name)."""
    handle = archive.extractfile(member)
    if handle is None:
        return None
    first = handle.read(1)
    # Read on rather than seek back: a backward seek restarts a gzip stream from byte 0.
    return first + handle.read() if first in (b"{", b"[") else None


def _check_end_of_archive(
    archive: tarfile.TarFile, recorder: _LastReadRecorder, is_gzip: bool
) -> None:
    """tarfile stops quietly at a damaged or missing header; make that an error."""
    block = recorder.last_read
    if recorder.tell() != archive.offset + len(block) or len(block) < tarfile.BLOCKSIZE:
        raise _corrupt("it ends before the end-of-archive marker; the upload may be cut short")
    if block.strip(b"\0"):
        raise _corrupt(f"a damaged entry header at byte {archive.offset}")
    if is_gzip:
        # Reading to the end makes gzip check its CRC and length trailer.
        while recorder.read(2**20):
            pass


def _inspect(members: _Members, size: int) -> ImageInfo:
    manifest = _read_manifest(members)
    entry = manifest[0]
    config_name = _manifest_path(entry.get("Config"), "Config")
    if _resolve(members, config_name) is None:
        raise ImageRejected(
            "config_missing",
            f"The image configuration {config_name!r} named in manifest.json is not in the "
            f"archive. {_SAVE_HINT}",
        )
    config_bytes = _read_member(members, config_name, "config_invalid", "image configuration")
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
    )


def _read_manifest(members: _Members) -> list[dict[str, Any]]:
    if _resolve(members, "manifest.json") is None:
        oci = _resolve(members, "index.json") is not None
        why = (
            " It looks like an OCI archive from another tool; `docker load` needs the "
            "manifest.json that `docker save` writes."
            if oci
            else ""
        )
        raise ImageRejected(
            "no_manifest",
            f"The archive has no manifest.json, so it is not a `docker save` image.{why} "
            f"{_SAVE_HINT}",
        )
    raw = _read_member(members, "manifest.json", "manifest_invalid", "manifest.json")
    manifest = _parse_json(raw, "manifest_invalid", "manifest.json")
    if not isinstance(manifest, list) or not all(isinstance(e, dict) for e in manifest):
        raise ImageRejected("manifest_invalid", "manifest.json is not a list of images.")
    if len(manifest) != 1:
        raise ImageRejected(
            "image_count",
            f"The archive contains {len(manifest)} images; exactly one image per submission "
            "is accepted. Save only your algorithm image: `docker save -o image.tar <image>`.",
        )
    return manifest


def _check_layers(members: _Members, entry: dict[str, Any], config: dict[str, Any]) -> None:
    layers = entry.get("Layers")
    if not isinstance(layers, list) or not layers:
        raise ImageRejected("manifest_invalid", "manifest.json lists no layers for the image.")
    names = [_manifest_path(layer, "Layers") for layer in layers]
    missing = [name for name in names if _resolve(members, name) is None]
    if missing:
        shown = ", ".join(repr(name) for name in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise ImageRejected(
            "layers_missing",
            f"{len(missing)} of the image's {len(names)} layers are missing from the archive "
            f"({shown}{more}). {_SAVE_HINT}",
        )
    rootfs = config.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or len(diff_ids) != len(names):
        raise ImageRejected(
            "config_invalid",
            "The image configuration and manifest.json disagree on the number of layers. "
            + _SAVE_HINT,
        )


def _manifest_path(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise ImageRejected("manifest_invalid", f"manifest.json has no valid {field!r} entry.")
    name = _clean_name(value, f"manifest.json {field}")
    if not name:
        raise ImageRejected("manifest_invalid", f"manifest.json has no valid {field!r} entry.")
    return name


def _resolve(members: _Members, name: str) -> str | None:
    """The regular file `name` leads to, following links inside the archive only."""
    for _ in range(_MAX_LINK_HOPS):
        if name in members.links:
            name = members.links[name]
            continue
        entry = members.entries.get(name)
        return name if entry is not None and entry.isreg() else None
    return None


def _read_member(members: _Members, name: str, code: str, what: str) -> bytes:
    resolved = _resolve(members, name)
    assert resolved is not None  # callers check first
    entry = members.entries[resolved]
    if entry.size > MAX_JSON_BYTES:
        raise ImageRejected(
            code, f"The {what} is {_mb(entry.size)}; at most {_mb(MAX_JSON_BYTES)} is accepted."
        )
    captured = members.captured.get(resolved)
    if captured is not None:
        return captured
    handle = members.archive.extractfile(entry)
    assert handle is not None  # a regular file always has a handle
    return handle.read()


def _parse_json(raw: bytes, code: str, what: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ImageRejected(code, f"The {what} is not valid JSON. {_SAVE_HINT}") from exc


def _check_digest_name(config_name: str, image_id: str) -> None:
    match = _DIGEST_NAME.search(config_name)
    if match and "sha256:" + match.group(1) != image_id:
        raise _corrupt("the image configuration does not match its checksum")


def _clean_name(name: str, shown: str) -> str:
    """Normalise an archive path; refuse absolute paths and any `..` that could escape."""
    if name.startswith("/") or "\\" in name or "\0" in name:
        raise _unsafe(shown)
    if ".." in name.split("/"):
        raise _unsafe(shown)
    cleaned = posixpath.normpath(name)
    return "" if cleaned == "." else cleaned


def _link_target(name: str, target: str, relative: bool) -> str:
    if target.startswith("/"):
        raise _unsafe(f"{name} -> {target}")
    joined = posixpath.join(posixpath.dirname(name), target) if relative else target
    cleaned = posixpath.normpath(joined)
    if cleaned == ".." or cleaned.startswith("../") or cleaned == ".":
        raise _unsafe(f"{name} -> {target}")
    return cleaned


def _command(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value] if value else None
    if isinstance(value, list) and value and all(isinstance(part, str) for part in value):
        return list(value)
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _unsafe(shown: str) -> ImageRejected:
    return ImageRejected(
        "unsafe_path",
        f"The archive contains the path {shown!r}, which points outside the archive. " + _SAVE_HINT,
    )


def _corrupt(detail: str) -> ImageRejected:
    return ImageRejected(
        "corrupt_archive",
        f"The archive is truncated or corrupt ({detail}). Upload it again; if that fails, "
        f"re-create it. {_SAVE_HINT}",
    )


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


class _LastReadRecorder:
    """A read-only file wrapper that keeps the bytes of the last read.

    After tarfile's iteration stops, that read is the header block where it stopped, so
    the end-of-archive check needs no backward seek (which would restart a gzip stream).
    """

    def __init__(self, inner: IO[bytes]) -> None:
        self._inner = inner
        self.last_read = b""

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > _MAX_SINGLE_READ:
            raise _corrupt(f"an entry header or file of {_mb(max(size, 0))} must be read whole")
        self.last_read = self._inner.read(size)
        return self.last_read

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()
