"""What `lai submit` sends: a gzipped `docker save` tarball. A .tar.gz is sent as it is; a
plain tarball, or a local image by name (`docker save NAME`), is compressed on the fly into
the cache ($XDG_CACHE_HOME/lai/images), never written uncompressed.

A cached file is named by what it holds (the image ID; the tarball's path, size and
modification time), and compression is deterministic (no timestamp, no name in the gzip
header), so running the same `lai submit` again finds the same bytes, with the same SHA-256,
and resumes the same upload."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lai_client.api import ClientError
from lai_client.config import cache_dir
from lai_client.output import Progress, note

CHUNK = 1024 * 1024
# Measured on a 1 GB image: level 1 leaves 38.4 % at ~45 MB/s, 4 35.6 % at ~34 MB/s,
# 6 34.5 % at ~19 MB/s. Level 4: compressing must not cost more time than it saves.
GZIP_LEVEL = 4
# Older cache files go: the platform forgets an upload 24 h after its last chunk.
STALE_AFTER_S = 3 * 24 * 3600


@dataclass(frozen=True)
class Packed:
    path: Path  # the gzipped tarball to upload
    filename: str  # the name the platform shows
    cached: bool  # made by `lai` in the cache: deleted once the upload has ended


def pack(source: str) -> Packed:
    """SOURCE (a tarball's path, or a local image's name) as a gzipped tarball on disk."""
    folder = cache_dir() / "images"
    folder.mkdir(exist_ok=True)
    _prune(folder)
    tarball = Path(source)
    if tarball.is_file():
        if _is_gzip(tarball):
            return Packed(tarball, tarball.name, cached=False)
        stat = tarball.stat()
        key = hashlib.sha256(f"{tarball.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}"
                             .encode()).hexdigest()[:32]
        target = folder / f"tarball-{key}.tar.gz"
        if not _reused(target, source):
            with tarball.open("rb") as stream:
                _compress(stream, target, tarball.name, stat.st_size)
        return Packed(target, f"{tarball.name}.gz", cached=True)
    docker = _docker(source)
    image_id = _image_id(docker, source)
    target = folder / f"image-{image_id.removeprefix('sha256:')}.tar.gz"
    if not _reused(target, source):
        _save(docker, source, target)
    return Packed(target, f"{_safe(source)}.tar.gz", cached=True)


def _reused(target: Path, source: str) -> bool:
    if not target.exists():
        return False
    os.utime(target)  # in use: not pruned while an upload of it may still resume
    note(f"{source} was compressed before: reusing {target}")
    return True


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(2) == b"\x1f\x8b"


def _docker(image: str) -> str:
    docker = shutil.which("docker")
    if docker is None:
        raise ClientError(f"'{image}' is not a file, and `docker` is not installed to save "
                          "an image of that name. Pass a `docker save` tarball instead.")
    return docker


def _image_id(docker: str, image: str) -> str:
    done = subprocess.run([docker, "image", "inspect", "--format", "{{.Id}}", image],
                          capture_output=True, text=True)
    if done.returncode != 0 or not done.stdout.strip():
        error = done.stderr.strip() or "no such image"
        raise ClientError(f"'{image}' is neither a file nor a local Docker image: {error}")
    return done.stdout.strip().splitlines()[0]


def _save(docker: str, image: str, target: Path) -> None:
    """`docker save IMAGE` piped through gzip into TARGET; a failed save leaves nothing."""
    proc = subprocess.Popen([docker, "save", image], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        _compress(proc.stdout, target, image, None, check=lambda: _saved(proc, image))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _saved(proc: subprocess.Popen, image: str) -> None:
    assert proc.stderr is not None
    if proc.wait() != 0:
        error = proc.stderr.read().decode(errors="replace").strip()
        raise ClientError(f"`docker save {image}` failed: {error or 'no message'}")


def _compress(stream: BinaryIO, target: Path, label: str, total: int | None,
              check=lambda: None) -> None:
    """STREAM gzipped into TARGET, through a partial file renamed only once all is there
    (and `check` has passed), so a cached file is always whole."""
    # Named by process: two `lai submit` of one image never write into the same file.
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    started, progress = time.monotonic(), Progress(f"compressing {label}", total)
    read = 0
    try:
        with partial.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                      compresslevel=GZIP_LEVEL, mtime=0) as out:
            while chunk := stream.read(CHUNK):
                out.write(chunk)
                read += len(chunk)
                progress.add(len(chunk))
        check()
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        progress.close()
    note(f"compressed {label}: {read} -> {target.stat().st_size} bytes in "
         f"{time.monotonic() - started:.1f} s")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "image"


def _prune(folder: Path) -> None:
    cutoff = time.time() - STALE_AFTER_S
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass  # another `lai` got there first
