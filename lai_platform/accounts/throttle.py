"""Login throttling: failed attempts are counted per account and per address, in fixed
windows; past the limit, attempts are refused until the window ends ("try again in N s").

In the embedded default the counts live in this process; with a broker (production) they
live in Redis, so every web worker sees the same counts.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol

import redis

WINDOW_S = 15 * 60
MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 30


class Counter(Protocol):
    def count(self, key: str) -> tuple[int, float]:
        """(failures in the current window, seconds until it ends)."""
        ...

    def add(self, key: str) -> None: ...
    def clear(self, key: str) -> None: ...


class MemoryCounter:
    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._counts: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def count(self, key: str) -> tuple[int, float]:
        with self._lock:
            started, failures = self._counts.get(key, (0.0, 0))
            left = started + self.window_s - time.monotonic()
            return (failures, left) if left > 0 else (0, 0.0)

    def add(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            started, failures = self._counts.get(key, (now, 0))
            if now - started >= self.window_s:
                started, failures = now, 0
            self._counts[key] = (started, failures + 1)
            if len(self._counts) > 100_000:  # bounded: forget the oldest windows
                for stale in sorted(self._counts, key=lambda k: self._counts[k][0])[:50_000]:
                    del self._counts[stale]

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)


class RedisCounter:
    def __init__(self, url: str, window_s: int = WINDOW_S) -> None:
        self.client = redis.Redis.from_url(url)
        self.window_s = window_s

    def count(self, key: str) -> tuple[int, float]:
        pipe = self.client.pipeline()
        pipe.get(f"lai:login:{key}")
        pipe.ttl(f"lai:login:{key}")
        failures, ttl = pipe.execute()
        return int(failures or 0), float(max(ttl or 0, 0))

    def add(self, key: str) -> None:
        pipe = self.client.pipeline()
        pipe.incr(f"lai:login:{key}")
        pipe.expire(f"lai:login:{key}", self.window_s, nx=True)
        pipe.execute()

    def clear(self, key: str) -> None:
        self.client.delete(f"lai:login:{key}")


class LoginThrottle:
    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    def wait_s(self, email: str, address: str) -> int:
        """Seconds to wait before another attempt; 0 when one may be made now."""
        waits = [
            left
            for key, limit in ((_account(email), MAX_PER_ACCOUNT), (_address(address),
                                                                    MAX_PER_ADDRESS))
            for failures, left in [self.counter.count(key)]
            if failures >= limit
        ]
        return math.ceil(max(waits)) if waits else 0

    def failed(self, email: str, address: str) -> None:
        self.counter.add(_account(email))
        self.counter.add(_address(address))

    def succeeded(self, email: str) -> None:
        self.counter.clear(_account(email))


def _account(email: str) -> str:
    return "account:" + email.strip().lower()


def _address(address: str) -> str:
    return "address:" + address


def make_throttle(broker_url: str) -> LoginThrottle:
    if broker_url.startswith(("redis://", "rediss://")):
        return LoginThrottle(RedisCounter(broker_url))
    return LoginThrottle(MemoryCounter())
