"""How much of the host the running containers may take together: CPUs and memory.

Each run holds its phase's CPUs and memory while its container runs and waits while they
are taken, so worker threads can be many (staging, loading and scoring overlap) without
the containers together asking for more than the machine has.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class HostBudget:
    def __init__(self, cpus: float, memory_mb: int) -> None:
        self.cpus = cpus
        self.memory_mb = memory_mb
        self._free_cpus = cpus
        self._free_memory = memory_mb
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, cpus: float, memory_mb: int) -> Iterator[None]:
        # A run bigger than the host still runs, alone.
        cpus, memory_mb = min(cpus, self.cpus), min(memory_mb, self.memory_mb)
        with self._changed:
            self._changed.wait_for(
                lambda: self._free_cpus >= cpus - 1e-9 and self._free_memory >= memory_mb
            )
            self._free_cpus -= cpus
            self._free_memory -= memory_mb
        try:
            yield
        finally:
            with self._changed:
                self._free_cpus += cpus
                self._free_memory += memory_mb
                self._changed.notify_all()
