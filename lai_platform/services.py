"""The app's long-lived collaborators: storage, the job queue and the container executor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import Flask, current_app

from lai_platform.config import Settings
from lai_platform.storage import Storage, storage_from_url

if TYPE_CHECKING:
    from lai_platform.jobs.queue import JobQueue
    from lai_platform.runner import Executor


def _docker_executor() -> Executor:
    from lai_platform.runner import DockerExecutor

    return DockerExecutor()


@dataclass
class Services:
    settings: Settings
    storage: Storage
    jobs: JobQueue
    executor_factory: Callable[[], Executor] = field(default=_docker_executor)
    _executor: Executor | None = None

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = self.executor_factory()
        return self._executor


def init_app(app: Flask, settings: Settings) -> None:
    from lai_platform.jobs.queue import make_job_queue

    app.extensions["lai"] = Services(
        settings=settings,
        storage=storage_from_url(settings.storage_url),
        jobs=make_job_queue(app, settings),
    )


def get(app: Flask | None = None) -> Services:
    return (app or current_app).extensions["lai"]
