"""What a job queue is: it carries only an id (a submission to run, a phase to rank, a
re-scoring to carry out) to the handler `create_app` gave it.

The submission row is the source of truth; a queue may deliver an id twice or lose it, and
the handler and the reaper make that harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from flask import Flask

Handler = Callable[[Flask, int], None]


class JobQueue(Protocol):
    def enqueue(self, submission_id: int) -> None: ...
    def enqueue_ranking(self, phase_id: int) -> None: ...
    def enqueue_rescoring(self, rescoring_id: int) -> None: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
