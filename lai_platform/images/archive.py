"""Reading a `docker save` archive once, as untrusted bytes: every entry's clean name, its
links, and the small JSON members, with nothing extracted and nothing followed outside it.

A plain tar or a gzip-compressed one; anything else, a path that escapes the archive, an
odd entry type, a truncated or damaged archive is refused with words the uploader can act on.
"""

from __future__ import annotations

import gzip
import posixpath
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

# Caps for the JSON documents read into memory: real ones are a few KiB.
MAX_JSON_BYTES = 16 * 2**20
# Small members that may be the config are kept during the single pass over the archive,
# so a gzip stream need not be decompressed twice; this bounds the memory that costs.
_CAPTURE_BUDGET_BYTES = 64 * 2**20
_MAX_LINK_HOPS = 8
# `docker save` writes a handful of entries per layer; millions of tiny entries would only
# serve to exhaust the memory of whoever lists them.
MAX_ENTRIES = 50_000
# A real layer compresses 2-5 times; far more is a decompression bomb (mostly zeros).
MAX_RATIO = 100
# tarfile reads a pax or GNU long-name header into memory whole: refuse absurd ones.
_MAX_SINGLE_READ = 64 * 2**20
_OTHER_COMPRESSIONS = {
    b"\x28\xb5\x2f\xfd": "zstd",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
}
SAVE_HINT = "Create it with `docker save -o image.tar <image>` and upload that file."


class ImageRejected(ValueError):
    """A tarball that cannot be accepted; `message` is meant for the researcher."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Members:
    """What one pass over the archive learnt: entries by clean name, and small contents."""

    entries: dict[str, tarfile.TarInfo]
    links: dict[str, str]  # clean name -> clean target (symlinks and hard links)
    captured: dict[str, bytes]
    archive: tarfile.TarFile  # for reading a member that was not captured
    is_gzip: bool = False
    end_offset: int = 0  # where the end-of-archive marker starts (uncompressed)

    def resolve(self, name: str) -> str | None:
        """The regular file `name` leads to, following links inside the archive only."""
        for _ in range(_MAX_LINK_HOPS):
            if name in self.links:
                name = self.links[name]
                continue
            entry = self.entries.get(name)
            return name if entry is not None and entry.isreg() else None
        return None

    def read(self, name: str, code: str, what: str) -> bytes:
        """The bytes of a small member that `resolve` found; ImageRejected(code) if large."""
        resolved = self.resolve(name)
        assert resolved is not None  # callers check first
        entry = self.entries[resolved]
        if entry.size > MAX_JSON_BYTES:
            raise ImageRejected(
                code, f"The {what} is {mb(entry.size)}; at most {mb(MAX_JSON_BYTES)} is accepted."
            )
        captured = self.captured.get(resolved)
        if captured is not None:
            return captured
        handle = self.archive.extractfile(entry)
        assert handle is not None  # a regular file always has a handle
        return handle.read()


@dataclass
class Expansion:
    """How far compressed data may grow: the archive at most `limit` bytes once expanded
    (the phase's image limit), its gzip layers as much together, and no gzip stream more than
    `MAX_RATIO` times its own size. A bomb is refused after expanding at most that much."""

    limit: int
    compressed_size: int
    expanded: int = 0
    # Also expand gzip members (image layers) to count them; a dataset's .nii.gz files are
    # never expanded by the platform, so its archive is bounded on the outer stream only.
    members: bool = True

    def outer_limit(self, is_gzip: bool) -> int:
        return min(self.limit, MAX_RATIO * self.compressed_size) if is_gzip else self.limit

    def add(self, count: int, ratio_base: int | None = None) -> None:
        self.expanded += count
        if self.expanded > self.limit:
            raise _bomb(f"it expands to more than {mb(self.limit)}, this phase's image limit")
        if ratio_base is not None and count > MAX_RATIO * max(ratio_base, 1):
            raise _bomb(f"a layer expands more than {MAX_RATIO} times")


@contextmanager
def scanned_archive(raw: IO[bytes], expansion: Expansion | None = None) -> Iterator[Members]:
    """Read the archive in `raw` (seekable) once; its members stay readable inside the
    `with`. Forward seeks skip layer data, so a plain tar is read only where it matters."""
    is_gzip = _sniff_compression(raw)
    stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if is_gzip else raw
    recorder = _LastReadRecorder(stream)
    try:
        archive = _open_archive(recorder, is_gzip)
        with archive:
            yield _scan(archive, recorder, is_gzip, expansion)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise corrupt(str(exc) or type(exc).__name__) from exc


def _sniff_compression(raw: IO[bytes]) -> bool:
    """True for gzip, False for a plain tar; anything else is rejected by its magic bytes."""
    head = raw.read(8)
    raw.seek(0)
    if not head:
        raise ImageRejected("not_tar", f"The file is empty. {SAVE_HINT}")
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
            "not_tar", f"The file is not a tar archive{inside} ({exc}). {SAVE_HINT}"
        ) from exc


def _scan(archive: tarfile.TarFile, recorder: _LastReadRecorder, is_gzip: bool,
          expansion: Expansion | None) -> Members:
    found = Members(entries={}, links={}, captured={}, archive=archive, is_gzip=is_gzip)
    budget = _CAPTURE_BUDGET_BYTES
    outer_limit = expansion.outer_limit(is_gzip) if expansion else None
    for count, member in enumerate(archive, start=1):
        # Before tarfile reads on (for a gzip archive, decompresses) over the member's data.
        if outer_limit is not None and member.offset_data + member.size > outer_limit:
            raise _bomb(f"it expands to more than {mb(outer_limit)}" + (
                f", over {MAX_RATIO} times its compressed size" if is_gzip else ""))
        if count > MAX_ENTRIES:
            raise ImageRejected(
                "too_many_entries",
                f"The archive has more than {MAX_ENTRIES} entries, far more than an image "
                f"saved by Docker has. {SAVE_HINT}",
            )
        name = clean_name(member.name, member.name)
        if not name:
            continue  # the archive's own root, "./"
        if name in found.entries:
            raise ImageRejected("unsafe_path", f"The archive contains {name!r} twice. {SAVE_HINT}")
        found.entries[name] = member
        if member.issym():
            found.links[name] = _link_target(name, member.linkname, relative=True)
        elif member.islnk():
            found.links[name] = _link_target(name, member.linkname, relative=False)
        elif not (member.isreg() or member.isdir()):
            raise ImageRejected(
                "unsafe_path",
                f"The archive contains {name!r}, which is not a file or folder. {SAVE_HINT}",
            )
        elif member.isreg() and member.size:
            data = _examine(archive, member, min(MAX_JSON_BYTES, budget), expansion)
            if data is not None:
                found.captured[name] = data
                budget -= len(data)
    found.end_offset = archive.offset
    _check_end_of_archive(archive, recorder, is_gzip)
    if not found.entries:
        raise ImageRejected("not_tar", f"The archive contains no files. {SAVE_HINT}")
    return found


def _examine(archive: tarfile.TarFile, member: tarfile.TarInfo, capture_up_to: int,
             expansion: Expansion | None) -> bytes | None:
    """A small member that looks like JSON is returned whole (a layer starts with a file
    name); a gzip-compressed one (an OCI layer blob) is expanded, counted and thrown away,
    so that `docker load` never expands a bomb. Read forward only: a backward seek restarts
    a gzip archive from byte 0."""
    handle = archive.extractfile(member)
    if handle is None:
        return None
    head = handle.read(2)
    if head[:1] in (b"{", b"[") and member.size <= capture_up_to:
        return head + handle.read()
    if head == b"\x1f\x8b" and expansion is not None and expansion.members:
        _count_expansion(handle, head, member.size, expansion)
    return None


def _count_expansion(handle: IO[bytes], head: bytes, size: int, expansion: Expansion) -> None:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data, expanded = head, 0
    while data:
        expanded += len(inflater.decompress(data, 2**20))  # at most 1 MiB out at a time
        if expansion.expanded + expanded > expansion.limit or expanded > MAX_RATIO * size:
            expansion.add(expanded, size)  # refuses
        if inflater.eof:
            break
        data = inflater.unconsumed_tail or handle.read(2**20)
    expansion.add(expanded, size)


def _bomb(detail: str) -> ImageRejected:
    return ImageRejected(
        "expands_too_much",
        f"The image cannot be accepted: {detail}. Layers that compress this well hold mostly "
        "empty space; leave large empty files out of the image.",
    )


def _check_end_of_archive(
    archive: tarfile.TarFile, recorder: _LastReadRecorder, is_gzip: bool
) -> None:
    """tarfile stops quietly at a damaged or missing header; make that an error."""
    block = recorder.last_read
    if recorder.tell() != archive.offset + len(block) or len(block) < tarfile.BLOCKSIZE:
        raise corrupt("it ends before the end-of-archive marker; the upload may be cut short")
    if block.strip(b"\0"):
        raise corrupt(f"a damaged entry header at byte {archive.offset}")
    if is_gzip:
        # Reading to the end makes gzip check its CRC and length trailer.
        while recorder.read(2**20):
            pass


def clean_name(name: str, shown: str) -> str:
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


def _unsafe(shown: str) -> ImageRejected:
    return ImageRejected(
        "unsafe_path",
        f"The archive contains the path {shown!r}, which points outside the archive. " + SAVE_HINT,
    )


def corrupt(detail: str) -> ImageRejected:
    return ImageRejected(
        "corrupt_archive",
        f"The archive is truncated or corrupt ({detail}). Upload it again; if that fails, "
        f"re-create it. {SAVE_HINT}",
    )


def mb(n: int) -> str:
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
            raise corrupt(f"an entry header or file of {mb(max(size, 0))} must be read whole")
        self.last_read = self._inner.read(size)
        return self.last_read

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()
