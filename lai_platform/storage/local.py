"""Storage in a local folder: objects are files, written beside their place and renamed."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from lai_platform.storage.keys import check_key

CHUNK = 1024 * 1024


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def save(self, key: str, stream: BinaryIO) -> int:
        with self.writer(key) as out:
            shutil.copyfileobj(stream, out, CHUNK)
            return out.tell()

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target, then rename: a reader never sees half a file.
        tmp = tempfile.NamedTemporaryFile(dir=path.parent, prefix=".upload-", delete=False)
        try:
            with tmp:
                yield tmp
            Path(tmp.name).replace(path)
        except BaseException:
            Path(tmp.name).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def open_range(self, key: str, start: int, end: int) -> BinaryIO:
        stream = self._path(key).open("rb")
        stream.seek(start)
        return _Bounded(stream, end - start + 1)  # type: ignore[return-value]

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        yield self._path(key)


class _Bounded(io.RawIOBase):
    """At most `remaining` bytes of an open file, then end of stream."""

    def __init__(self, stream: BinaryIO, remaining: int) -> None:
        self.stream, self.remaining = stream, remaining

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self.remaining if size < 0 else min(size, self.remaining)
        data = self.stream.read(size) if size else b""
        self.remaining -= len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.stream.close()
        super().close()
