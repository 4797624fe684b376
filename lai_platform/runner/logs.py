"""Capped capture of a container's output: the head and the tail, never everything.

The start of a log usually says what the program is, the end says why it stopped; a run
that prints gigabytes must not cost the worker gigabytes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable


class LogCapture:
    def __init__(self, max_bytes: int) -> None:
        self._head_cap = max_bytes // 2
        self._tail_cap = max_bytes - self._head_cap
        self._head = bytearray()
        self._tail = bytearray()
        self._total = 0
        self._lock = threading.Lock()

    def feed(self, chunk: bytes) -> None:
        with self._lock:
            self._total += len(chunk)
            room = self._head_cap - len(self._head)
            if room > 0:
                self._head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self._tail += chunk
                # Trim in batches so a chatty container costs O(n), not O(n^2).
                if len(self._tail) > 2 * self._tail_cap:
                    del self._tail[: len(self._tail) - self._tail_cap]

    def consume(self, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            self.feed(chunk)

    @property
    def truncated(self) -> bool:
        return self._total > self._head_cap + self._tail_cap

    def text(self) -> str:
        with self._lock:
            tail = bytes(self._tail[-self._tail_cap :]) if self._tail_cap else b""
            kept = len(self._head) + len(tail)
            middle = b""
            if self._total > kept:
                middle = f"\n[... {self._total - kept} bytes of log output omitted ...]\n".encode()
            return (bytes(self._head) + middle + tail).decode("utf-8", errors="replace")
