"""The app's long-lived collaborators, built by `create_app` and found with `get()`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app

from lai_platform.accounts.throttle import LoginThrottle, make_throttle
from lai_platform.config import Settings
from lai_platform.jobs.base import JobQueue
from lai_platform.leaderboards.cache import PageCache
from lai_platform.runner.base import Executor
from lai_platform.storage import Storage


@dataclass
class Services:
    settings: Settings
    storage: Storage
    jobs: JobQueue
    executor_factory: Callable[[], Executor]
    pages: PageCache = field(default_factory=PageCache)
    throttle: LoginThrottle = field(default_factory=lambda: make_throttle(""))
    _executor: Executor | None = None

    @property
    def executor(self) -> Executor:
        # Built on first use: the web process of a production deployment has no engine.
        if self._executor is None:
            self._executor = self.executor_factory()
        return self._executor


def get(app: Flask | None = None) -> Services:
    return (app or current_app).extensions["lai"]
