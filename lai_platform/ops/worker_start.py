"""What a Celery worker does when it starts, besides serving its queues: it takes its name,
checks that its engine can give containers a GPU before it consumes the gpu queue (and
refuses that queue, saying why, if not), writes its row in the workers table and keeps it
fresh, and answers /healthz.

`install(app)` connects these to Celery's signals; the worker module calls it once.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery.signals import celeryd_after_setup, worker_ready, worker_shutdown
from flask import Flask

from lai_platform import services
from lai_platform.extensions import db
from lai_platform.ops import worker_health, workers

log = logging.getLogger(__name__)
GPU_QUEUE = "gpu"


def gpu_check(app: Flask) -> tuple[bool, str]:
    """(can give containers a GPU, why): the executor's own probe, on an executor of its
    own (this runs before the pool forks: no engine connection may be left to children)."""
    try:
        executor = services.get(app).executor_factory()
    except Exception as exc:  # no engine at all
        return False, f"no container engine: {type(exc).__name__}: {exc}"
    probe = getattr(executor, "probe_gpu", None)
    try:
        if probe is None:
            return False, "this executor cannot give containers a GPU"
        return probe()
    except Exception as exc:  # the engine may be down: no GPU work for this worker then
        return False, f"the GPU probe failed: {type(exc).__name__}: {exc}"
    finally:
        close = getattr(executor, "close", None)
        if close is not None and executor is not services.get(app)._executor:
            close()


class WorkerStart:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.queues: list[str] = []
        self.gpu_capable = False
        self.gpu_reason = ""
        self.stop = threading.Event()

    def choose_queues(self, queues: Any) -> None:
        """`queues`: Celery's selected queues (app.amqp.queues); the gpu queue is dropped
        from it when the engine cannot give a container a GPU."""
        names = sorted(queues.consume_from)
        if GPU_QUEUE in names:
            self.gpu_capable, self.gpu_reason = gpu_check(self.app)
            if not self.gpu_capable:
                queues.deselect([GPU_QUEUE])
                names.remove(GPU_QUEUE)
                log.error("worker %s refuses the gpu queue: %s", workers.worker_name(),
                          self.gpu_reason)
            else:
                log.info("worker %s serves the gpu queue: %s", workers.worker_name(),
                         self.gpu_reason)
        else:
            self.gpu_reason = "not started with the gpu queue (-Q gpu)"
        self.queues = names

    def after_setup(self, sender: Any = None, instance: Any = None, **_: Any) -> None:
        """Before the pool forks and before any message is taken."""
        workers.set_name(services.get(self.app).settings.worker_name)
        self.choose_queues(instance.app.amqp.queues)
        with self.app.app_context():
            workers.register(self.queues, self.gpu_capable, self.gpu_reason)
            db.engine.dispose()  # no connection of this process may reach a forked child

    def ready(self, **_: Any) -> None:
        settings = services.get(self.app).settings
        workers.start_heartbeat(self.app, self.stop)
        worker_health.serve(self.app, settings.worker_health_host,
                            settings.worker_health_port, self.about)

    def about(self) -> dict:
        return {"name": workers.worker_name(), "queues": self.queues,
                "gpu_capable": self.gpu_capable, "gpu_reason": self.gpu_reason}

    def shutdown(self, **_: Any) -> None:
        self.stop.set()


def install(app: Flask) -> WorkerStart:
    start = WorkerStart(app)
    celeryd_after_setup.connect(start.after_setup, weak=False)
    worker_ready.connect(start.ready, weak=False)
    worker_shutdown.connect(start.shutdown, weak=False)
    return start
