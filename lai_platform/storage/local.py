"""Storage in a local folder: objects are files, written beside their place and renamed."""

from __future__ import annotations

import io
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from lai_platform.storage.keys import check_key

CHUNK = 1024 * 1024


class LocalStorage:
    min_part_bytes = 1

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

    def _parts(self, handle: str) -> Path:
        if not handle.isalnum():
            raise ValueError(f"not a parts handle: {handle!r}")
        return self.root / ".parts" / handle

    def start_parts(self, key: str) -> str:
        check_key(key)
        handle = uuid.uuid4().hex
        self._parts(handle).mkdir(parents=True)
        return handle

    def put_part(self, key: str, handle: str, number: int, data: bytes) -> None:
        folder = self._parts(handle)
        # Written beside, then renamed: a part is whole or absent.
        tmp = folder / f".{number}.{uuid.uuid4().hex}"
        tmp.write_bytes(data)
        tmp.replace(folder / f"{number:06d}")

    def finish_parts(self, key: str, handle: str, count: int) -> None:
        folder = self._parts(handle)
        with self.writer(key) as out:
            for number in range(1, count + 1):
                with (folder / f"{number:06d}").open("rb") as part:
                    shutil.copyfileobj(part, out, CHUNK)
        shutil.rmtree(folder, ignore_errors=True)

    def drop_parts(self, key: str, handle: str) -> None:
        shutil.rmtree(self._parts(handle), ignore_errors=True)


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
