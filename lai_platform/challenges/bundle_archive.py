"""Unpacking an uploaded bundle archive (tar, tar.gz or zip of a bundle folder) as untrusted
bytes: only files and folders, no path that leaves the folder, no link, a bounded number of
entries and a bounded size once expanded (a decompression bomb stops early)."""

from __future__ import annotations

import posixpath
import stat
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import IO

from lai_platform.errors import PlatformError
from lai_platform.images.archive import MAX_RATIO, mb

MAX_ENTRIES = 20_000
CHUNK = 2**20
HINT = ("Upload a .tar.gz, .tar or .zip of the bundle folder (challenge.yaml and its data "
        "folders).")


def refused(message: str) -> PlatformError:
    return PlatformError("bad_bundle", f"{message} {HINT}", 400)


def extract_bundle(archive: Path, dest: Path, max_bytes: int) -> Path:
    """Unpack `archive` into `dest`; the folder holding challenge.yaml (the archive's root or
    its only top folder)."""
    compressed = archive.stat().st_size
    with archive.open("rb") as stream:
        head = stream.read(4)
    budget = _Budget(max_bytes, compressed)
    try:
        if head.startswith(b"PK\x03\x04"):
            _unzip(archive, dest, budget)
        else:
            _untar(archive, dest, budget)
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise refused(f"The archive cannot be read ({exc}).") from None
    return _bundle_root(dest)


class _Budget:
    """The expanded bytes so far against the limit, and against MAX_RATIO times the
    compressed size (a real bundle of images compresses a few times at most)."""

    def __init__(self, max_bytes: int, compressed: int) -> None:
        self.limit = min(max_bytes, MAX_RATIO * max(compressed, 2**20))
        self.used = 0
        self.entries = 0

    def entry(self) -> None:
        self.entries += 1
        if self.entries > MAX_ENTRIES:
            raise refused(f"The archive has more than {MAX_ENTRIES} entries.")

    def add(self, count: int) -> None:
        self.used += count
        if self.used > self.limit:
            raise refused(f"The archive expands to more than {mb(self.limit)}.")


def _safe_name(name: str) -> str:
    if name.startswith("/") or "\\" in name or "\0" in name or ".." in name.split("/"):
        raise refused(f"The archive contains the path {name!r}, which leads outside it.")
    cleaned = posixpath.normpath(name)
    return "" if cleaned == "." else cleaned


def _copy(source: IO[bytes], target: Path, budget: _Budget) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("xb") as out:  # "x": a name twice in the archive is refused below
        while chunk := source.read(CHUNK):
            budget.add(len(chunk))
            out.write(chunk)


def _untar(archive: Path, dest: Path, budget: _Budget) -> None:
    try:
        opened = tarfile.open(archive, mode="r|*")  # a stream: one forward pass
    except tarfile.ReadError:
        raise refused("The file is not a tar, tar.gz or zip archive.") from None
    with opened as tar:
        for member in tar:
            budget.entry()
            name = _safe_name(member.name)
            if not name:
                continue
            if member.isdir():
                (dest / name).mkdir(parents=True, exist_ok=True)
            elif member.isreg():
                source = tar.extractfile(member)
                assert source is not None  # a regular file has data
                _write_once(source, dest / name, name, budget)
            else:
                raise refused(f"The archive contains {name!r}, which is a link or a device: "
                              "a bundle holds files and folders only.")


def _unzip(archive: Path, dest: Path, budget: _Budget) -> None:
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            budget.entry()
            name = _safe_name(info.filename.rstrip("/") if info.is_dir() else info.filename)
            if not name:
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                raise refused(f"The archive contains {name!r}, which is a link: a bundle "
                              "holds files and folders only.")
            if info.is_dir():
                (dest / name).mkdir(parents=True, exist_ok=True)
                continue
            with zipped.open(info) as source:  # counted as read: sizes in headers can lie
                _write_once(source, dest / name, name, budget)


def _write_once(source: IO[bytes], target: Path, name: str, budget: _Budget) -> None:
    try:
        _copy(source, target, budget)
    except FileExistsError:
        raise refused(f"The archive contains {name!r} twice.") from None
    except (NotADirectoryError, IsADirectoryError):
        raise refused(f"The archive uses {name!r} both as a file and a folder.") from None


def _bundle_root(dest: Path) -> Path:
    if (dest / "challenge.yaml").is_file():
        return dest
    tops = [p for p in dest.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    if len(tops) == 1 and (tops[0] / "challenge.yaml").is_file():
        return tops[0]
    raise refused("The archive holds no challenge.yaml at its top or in its only folder.")
