"""The embedded default: worker threads in the web process."""

from __future__ import annotations

import logging
import queue
import threading

from flask import Flask

from lai_platform.config import Settings
from lai_platform.jobs.base import Handler
from lai_platform.jobs.recovery import queued_ids, remove_stray_containers, requeue_stale

log = logging.getLogger(__name__)

REAPER_EVERY_S = 15


class ThreadJobQueue:
    def __init__(
        self, app: Flask, settings: Settings, handler: Handler
    ) -> None:
        self.app = app
        self.settings = settings
        self.handler = handler
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._pending: set[int] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    def enqueue(self, submission_id: int) -> None:
        with self._lock:
            if submission_id in self._pending:
                return
            self._pending.add(submission_id)
        self._queue.put(submission_id)

    def start(self) -> None:
        with self.app.app_context():
            # This process is the only worker: whatever was "running" died with the last one.
            requeue_stale(self.settings.heartbeat_timeout_s, self.settings.max_attempts, True)
            remove_stray_containers()
            self._enqueue_queued()
        for n in range(self.settings.worker_threads):
            thread = threading.Thread(target=self._work, name=f"lai-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        reaper = threading.Thread(target=self._reap, name="lai-reaper", daemon=True)
        reaper.start()
        self._threads.append(reaper)

    def stop(self) -> None:
        self._stopping.set()
        for _ in range(self.settings.worker_threads):
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()

    def join_idle(self, timeout: float) -> bool:
        """Wait until nothing is pending (tests and scripts); True when idle."""
        done = threading.Event()

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout)

    def _work(self) -> None:
        while True:
            submission_id = self._queue.get()
            try:
                if submission_id is None:
                    return
                with self._lock:
                    self._pending.discard(submission_id)
                self.handler(self.app, submission_id)
            except Exception:  # never let one job kill the worker thread
                log.exception("worker thread: submission %s", submission_id)
            finally:
                self._queue.task_done()

    def _reap(self) -> None:
        while not self._stopping.wait(REAPER_EVERY_S):
            try:
                with self.app.app_context():
                    requeue_stale(self.settings.heartbeat_timeout_s, self.settings.max_attempts)
                    self._enqueue_queued()
            except Exception:
                log.exception("reaper")

    def _enqueue_queued(self) -> None:
        for submission_id in queued_ids():
            self.enqueue(submission_id)
