"""The embedded default: worker threads in the web process, one ranking thread and one
re-scoring thread.

Runs go to `worker_threads` threads; rankings to a thread of their own, so a leaderboard
never waits for a run. A reaper thread retries runs whose worker died and, as the tick,
requests the rankings that are due (a phase opened or closed) and unfinished re-scorings.
"""

from __future__ import annotations

import logging
import queue
import threading

from flask import Flask

from lai_platform.config import Settings
from lai_platform.jobs.base import Handler
from lai_platform.jobs.recovery import queued_ids, remove_stray_containers, requeue_stale
from lai_platform.jobs.rescoring import rescorings_due
from lai_platform.leaderboards.ranking_job import phases_due
from lai_platform.submissions.resumable import expire_stale_uploads

log = logging.getLogger(__name__)

REAPER_EVERY_S = 15


class _Lane:
    """A FIFO of ids with no duplicates waiting, served by threads calling `handler`."""

    def __init__(self, app: Flask, handler: Handler, name: str) -> None:
        self.app = app
        self.handler = handler
        self.name = name
        self.queue: queue.Queue[int | None] = queue.Queue()
        self._waiting: set[int] = set()
        self._lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def put(self, item: int) -> None:
        with self._lock:
            if item in self._waiting:
                return  # coalesced with the one already waiting
            self._waiting.add(item)
        self.queue.put(item)

    def start(self, count: int) -> None:
        for n in range(count):
            thread = threading.Thread(target=self._work, name=f"lai-{self.name}-{n}",
                                      daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        for _ in self.threads:
            self.queue.put(None)
        for thread in self.threads:
            thread.join(timeout=30)
        self.threads.clear()

    def _work(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is None:
                    return
                with self._lock:
                    self._waiting.discard(item)
                self.handler(self.app, item)
            except Exception:  # never let one job kill the thread
                log.exception("%s thread: %s", self.name, item)
            finally:
                self.queue.task_done()


class ThreadJobQueue:
    def __init__(self, app: Flask, settings: Settings, run: Handler, rank: Handler,
                 rescore: Handler) -> None:
        self.app = app
        self.settings = settings
        self.runs = _Lane(app, run, "worker")
        self.rankings = _Lane(app, rank, "ranking")
        self.rescorings = _Lane(app, rescore, "rescoring")
        self._reaper: threading.Thread | None = None
        self._stopping = threading.Event()

    def enqueue(self, submission_id: int) -> None:
        self.runs.put(submission_id)

    def enqueue_ranking(self, phase_id: int) -> None:
        self.rankings.put(phase_id)

    def enqueue_rescoring(self, rescoring_id: int) -> None:
        self.rescorings.put(rescoring_id)

    def start(self) -> None:
        with self.app.app_context():
            # This process is the only worker: whatever was "running" died with the last one.
            requeue_stale(self.settings.heartbeat_timeout_s, self.settings.max_attempts, True)
            remove_stray_containers()
            self._tick()
        self.runs.start(self.settings.worker_threads)
        log.warning(
            "running up to %d submissions at once; their containers share this machine's "
            "CPUs and memory under each phase's limits (LAI_WORKER_THREADS to change)",
            self.settings.worker_threads,
        )
        self.rankings.start(1)
        self.rescorings.start(1)
        self._reaper = threading.Thread(target=self._reap, name="lai-reaper", daemon=True)
        self._reaper.start()

    def stop(self) -> None:
        self._stopping.set()
        self.runs.stop()
        self.rankings.stop()
        self.rescorings.stop()
        if self._reaper is not None:
            self._reaper.join(timeout=30)

    def join_idle(self, timeout: float) -> bool:
        """Wait until no run, ranking or re-scoring is pending (tests and scripts); True when
        idle."""
        done = threading.Event()

        def waiter() -> None:
            self.rescorings.queue.join()  # first: it queues runs and rankings
            self.runs.queue.join()
            self.rankings.queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout)

    def _reap(self) -> None:
        while not self._stopping.wait(REAPER_EVERY_S):
            try:
                with self.app.app_context():
                    requeue_stale(self.settings.heartbeat_timeout_s, self.settings.max_attempts)
                    self._tick()
            except Exception:
                log.exception("reaper")

    def _tick(self) -> None:
        for submission_id in queued_ids():
            self.enqueue(submission_id)
        for phase_id in phases_due():
            self.enqueue_ranking(phase_id)
        for rescoring_id in rescorings_due():
            self.enqueue_rescoring(rescoring_id)
        expire_stale_uploads()  # uploads left unfinished for a day: their parts dropped
