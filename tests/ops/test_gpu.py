"""The GPU path made explicit: GPU phases go to the gpu queue; a worker whose engine cannot
give a container a GPU refuses that queue, saying why; a GPU run with no GPU worker says it
waits for one, then fails as ours (not counted) after LAI_GPU_WAIT_S."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from lai_platform.extensions import db
from lai_platform.jobs.celery_queue import CeleryJobQueue, make_celery
from lai_platform.jobs.gpu_wait import WAITING_FOR_GPU, fail_overdue_gpu_runs
from lai_platform.models import Submission, Worker
from lai_platform.models._time import utcnow
from lai_platform.ops import workers
from lai_platform.ops.worker_start import WorkerStart
from tests.ops.conftest import submit
from tests.story import Browser

NO_BROKER = "redis://127.0.0.1:1/0"  # nothing listens: sends are captured below
GPU_LIMITS = {"time_limit_s": 60, "memory_mb": 1024, "cpus": 1.0, "gpu": True}


def with_broker(platform, **changes) -> None:
    """The platform as a production web process sees it (a broker; Celery workers)."""
    svc = platform.services
    svc.settings = replace(svc.settings, broker_url=NO_BROKER, **changes)


def test_gpu_phases_go_to_the_gpu_queue(ada, image, monkeypatch):
    platform = ada.platform
    svc = platform.services
    queue = CeleryJobQueue(platform.app, replace(svc.settings, broker_url=NO_BROKER),
                           *(lambda app, i: None,) * 3)
    sent = []
    monkeypatch.setattr(queue.celery, "send_task",
                        lambda name, args, queue: sent.append((args[0], queue)))
    cpu_run = submit(ada, image)
    with platform.app.app_context():
        queue.enqueue(cpu_run)
    platform.set_phase("development", limits=GPU_LIMITS)
    gpu_run = submit(ada, image)
    with platform.app.app_context():
        queue.enqueue(gpu_run)
    assert sent == [(cpu_run, "cpu"), (gpu_run, "gpu")]


def _selected(platform, *names: str):
    """Celery's own queue selection, as `-Q` leaves it."""
    celery = make_celery(replace(platform.services.settings, broker_url=NO_BROKER))
    celery.amqp.queues.select(names)
    return celery.amqp.queues


def test_a_worker_without_a_gpu_refuses_the_gpu_queue_and_says_why(platform, fake, caplog):
    fake.gpu = (False, "the engine refused a GPU device request (no nvidia runtime)")
    start = WorkerStart(platform.app)
    queues = _selected(platform, "cpu", "gpu")
    with caplog.at_level(logging.ERROR):
        start.choose_queues(queues)
    assert sorted(queues.consume_from) == ["cpu"]  # Celery will not take gpu messages
    assert start.queues == ["cpu"] and not start.gpu_capable
    assert "refuses the gpu queue: the engine refused a GPU device request" in caplog.text


def test_a_worker_with_a_gpu_keeps_the_gpu_queue(platform, fake):
    fake.gpu = (True, "a container saw: GPU 0: NVIDIA H200")
    start = WorkerStart(platform.app)
    queues = _selected(platform, "gpu")
    start.choose_queues(queues)
    assert sorted(queues.consume_from) == ["gpu"]
    assert start.gpu_capable and "H200" in start.gpu_reason


def test_an_engine_that_breaks_during_the_probe_means_no_gpu(platform, fake):
    def broken():
        raise ConnectionError("engine gone")

    fake.probe_gpu = broken
    start = WorkerStart(platform.app)
    start.choose_queues(_selected(platform, "cpu", "gpu"))
    assert not start.gpu_capable and "ConnectionError" in start.gpu_reason


def _register(platform, name: str, gpu: bool, seen_ago_s: float = 0) -> None:
    with platform.app.app_context():
        workers.set_name(name)
        workers.register(["gpu"] if gpu else ["cpu"], gpu, "test")
        db.session.get(Worker, name).last_seen = utcnow() - timedelta(seconds=seen_ago_s)
        db.session.commit()


def test_a_gpu_run_with_no_gpu_worker_waits_then_fails_without_counting(ada, image):
    platform = ada.platform
    with_broker(platform, gpu_wait_s=3600)
    platform.set_phase("development", limits=GPU_LIMITS)
    sub_id = submit(ada, image)
    _register(platform, "cpu-only", gpu=False)
    sub = ada.submission(sub_id)
    assert sub["status"] == "queued" and sub["waiting_for"] == WAITING_FOR_GPU
    browser = Browser(platform.app)
    browser.log_in(ada.email)
    page = browser.client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    assert WAITING_FOR_GPU in page

    with platform.app.app_context():
        created = db.session.get(Submission, sub_id).created_at
        assert fail_overdue_gpu_runs(now=created + timedelta(seconds=3599)) == []
        assert fail_overdue_gpu_runs(now=created + timedelta(seconds=3601)) == [sub_id]
    sub = ada.submission(sub_id)
    assert sub["status"] == "failed" and sub["failure_reason"] == "platform_error"
    assert sub["counts_against_quota"] is False
    assert "No GPU worker was available" in sub["failure_message"]
    assert sub["waiting_for"] is None


def test_a_live_gpu_worker_means_no_waiting_note_and_no_failure(ada, image):
    platform = ada.platform
    with_broker(platform, gpu_wait_s=1)
    platform.set_phase("development", limits=GPU_LIMITS)
    sub_id = submit(ada, image)
    _register(platform, "gpu-box", gpu=True)
    assert ada.submission(sub_id)["waiting_for"] is None  # busy, maybe: it waits its turn
    with platform.app.app_context():
        assert fail_overdue_gpu_runs(now=utcnow() + timedelta(seconds=5)) == []
    assert ada.submission(sub_id)["status"] == "queued"


def test_waiting_counts_from_the_last_gpu_worker_seen(ada, image):
    platform = ada.platform
    with_broker(platform, gpu_wait_s=600, heartbeat_timeout_s=30)
    platform.set_phase("development", limits=GPU_LIMITS)
    sub_id = submit(ada, image)
    _register(platform, "gpu-gone", gpu=True)
    with platform.app.app_context():  # it was last seen 100 s after the submission came
        seen = db.session.get(Submission, sub_id).created_at + timedelta(seconds=100)
        db.session.get(Worker, "gpu-gone").last_seen = seen
        db.session.commit()
        assert fail_overdue_gpu_runs(now=seen + timedelta(seconds=20)) == []  # alive
        assert fail_overdue_gpu_runs(now=seen + timedelta(seconds=599)) == []
        assert fail_overdue_gpu_runs(now=seen + timedelta(seconds=601)) == [sub_id]


def test_embedded_platforms_never_wait_for_a_gpu_worker(ada, image):
    ada.platform.set_phase("development", limits=GPU_LIMITS)
    sub_id = submit(ada, image)
    assert ada.submission(sub_id)["waiting_for"] is None
    with ada.platform.app.app_context():
        assert fail_overdue_gpu_runs(now=utcnow() + timedelta(days=1)) == []


def test_organizers_see_which_worker_ran_a_submission(ada, image):
    platform = ada.platform
    with platform.app.app_context():
        workers.set_name("worker-a")
    sub_id = submit(ada, image)
    platform.run_queued()
    assert "worker" not in ada.submission(sub_id)  # participants are not told
    organizer = platform.organizer("org@example.org", "lai-liver")
    assert organizer.get(f"/api/v1/submissions/{sub_id}").get_json()["worker"] == "worker-a"
    browser = Browser(platform.app)
    browser.log_in(organizer.email)
    page = browser.client.get(f"/organize/lai-liver/submissions/{sub_id}")
    assert page.status_code == 200 and "<code>worker-a</code>" in page.get_data(as_text=True)
