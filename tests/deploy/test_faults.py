"""Faults survived, on the production topology as local processes (tests/deploy/topology.py):
each fault is one test, and none loses a submission or counts one twice. The module's last
test checks what all of them left: every submission final with its true reason, quotas not
charged for the platform's faults, no container left behind.

Heal times (fault to every affected submission final) are printed, not asserted: run with
`-s` to see them; they are also written to <topology>/heal_times.txt for the closing note.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from lai_platform.extensions import db
from lai_platform.models import Result, Submission
from tests.conftest import build_platform
from tests.deploy.processes import wait_until
from tests.deploy.topology import AWS, HEARTBEAT_TIMEOUT_S, Topology, missing
from tests.docker_images import docker_available

pytestmark = [pytest.mark.deploy, pytest.mark.docker,
              pytest.mark.skipif(bool(missing()), reason=missing() or ""),
              pytest.mark.skipif(not docker_available(), reason="no Docker Engine")]

SUBMIT = "/api/v1/challenges/lai-liver/phases/development/submissions"
FINAL = {"succeeded", "failed"}
HEAL: dict[str, float] = {}


class Stack:
    """The topology, its platform (for seeding and reading rows) and one participant."""

    def __init__(self, topo: Topology, tmp: Path, bundle: Path) -> None:
        from dataclasses import replace

        from lai_platform.config import Settings
        from tests.docker_images import build_test_image, save_image

        self.topo = topo
        settings = replace(Settings.from_env(topo.env("seed")), bootstrap_resamples=50)
        self.platform = build_platform(settings, migrate=False)
        self.platform.load_challenge(bundle)
        self.platform.set_phase("development", submissions_per_day=None)
        self.ada = self.platform.participant()
        assert self.ada.join().status_code in (200, 201)
        self.headers = {"Authorization": f"Bearer {self.ada.token}"}
        # Saved from the machine's engine; each worker loads it into the private one.
        self.ok = save_image(build_test_image("ok"), tmp / "ok.tar")
        self.slow = save_image(build_test_image("slow"), tmp / "slow.tar")

    def submit(self, tarball: Path, timeout: float = 60) -> requests.Response:
        with tarball.open("rb") as stream:
            return requests.post(self.topo.web + SUBMIT, headers=self.headers, timeout=timeout,
                                 files={"image": ("algorithm.tar", stream)})

    def submitted(self, tarball: Path) -> int:
        response = self.submit(tarball)
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def show(self, submission_id: int) -> dict:
        response = requests.get(f"{self.topo.web}/api/v1/submissions/{submission_id}",
                                headers=self.headers, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def row(self, submission_id: int) -> Submission:
        with self.platform.app.app_context():
            sub = db.session.get(Submission, submission_id)
            db.session.expunge(sub)
            return sub

    def final(self, submission_id: int, timeout: float = 180) -> dict:
        return wait_until(lambda: (s := self.show(submission_id))["status"] in FINAL and s,
                          timeout, f"submission {submission_id} final", every=0.5)

    def running(self, submission_id: int, timeout: float = 90) -> None:
        """Until its container runs in the private engine."""
        wait_until(lambda: self.show(submission_id)["status"] == "running"
                   and self.topo.containers(), timeout, f"submission {submission_id} running")

    def count(self, query) -> int:
        with self.platform.app.app_context():
            return db.session.scalar(query) or 0


@pytest.fixture(scope="module")
def stack(tmp_path_factory, demo_bundle):
    topo = Topology()
    patch = pytest.MonkeyPatch()
    for key, value in AWS.items():  # the seeding platform in this process talks to S3 too
        patch.setenv(key, value)
    try:
        topo.start()
        print(f"\nbring-up of the topology: {topo.timings['bring-up']:.1f} s")
        yield Stack(topo, tmp_path_factory.mktemp("images"), demo_bundle)
    except BaseException:
        print(topo.logs())
        raise
    finally:
        lines = [f"{name}: {seconds:.1f} s" for name, seconds in HEAL.items()]
        print("\nheal times:\n  " + "\n  ".join(lines))
        (topo.root / "heal_times.txt").write_text("\n".join(lines) + "\n")
        topo.close()
        patch.undo()


def healed(name: str, since: float) -> None:
    HEAL[name] = time.monotonic() - since


def test_two_workers_each_with_its_own_data_dir_share_the_work(stack):
    ids = [stack.submitted(stack.slow), stack.submitted(stack.slow)]
    assert [stack.final(i)["status"] for i in ids] == ["succeeded", "succeeded"]
    # Both workers ran one, each from its own data directory; the web ran none.
    for name in ("worker-1", "worker-2"):
        assert (stack.topo.data_dir(name) / "cache").is_dir(), f"{name} ran nothing"
    assert not (stack.topo.data_dir("web") / "cache").exists()
    if hasattr(Submission, "worker"):  # which worker ran it, once recorded
        assert {stack.row(i).worker for i in ids} == {"worker-1", "worker-2"}


def test_a_worker_killed_mid_run_is_replaced_and_counted_once(stack):
    sub_id = stack.submitted(stack.slow)
    stack.running(sub_id)
    victim = next(n for n in ("worker-1", "worker-2")
                  if any((stack.topo.data_dir(n) / "runs").glob("*")))
    killed = time.monotonic()
    stack.topo.procs[victim].kill()  # the machine is gone; its container runs on
    done = stack.final(sub_id, timeout=HEARTBEAT_TIMEOUT_S + 120)
    healed("worker SIGKILLed mid-run (heartbeat timeout 9 s)", killed)
    assert done["status"] == "succeeded" and done["counts_against_quota"] is True
    assert stack.row(sub_id).attempts == 2
    results = select(func.count()).select_from(Result).where(Result.submission_id == sub_id)
    assert stack.count(results) == 1  # scored once
    wait_until(lambda: not stack.topo.containers(), 60, "the dead worker's container removed")
    stack.topo.start_worker(victim)


def test_redis_restarted_with_jobs_queued(stack):
    workers = [stack.topo.procs[n] for n in ("worker-1", "worker-2")]
    for proc in workers:
        proc.signal(signal.SIGSTOP)  # the jobs stay queued in Redis
    try:
        ids = [stack.submitted(stack.ok) for _ in range(3)]
        stack.topo.procs["redis"].kill()  # no persistence: the queued messages are lost
        stack.topo.start_redis()
        restarted = time.monotonic()
    finally:
        for proc in workers:
            proc.signal(signal.SIGCONT)
    assert [stack.final(i)["status"] for i in ids] == ["succeeded"] * 3
    healed("Redis restarted (3 jobs queued, messages lost)", restarted)


@pytest.mark.parametrize("crash", [False], ids=["engine stopped cleanly"])
def test_docker_engine_restarted_mid_run_is_retried_and_not_charged(stack, crash):
    sub_id = stack.submitted(stack.slow)
    stack.running(sub_id)
    restarted = time.monotonic()
    stack.topo.restart_dockerd(crash=crash)
    done = stack.final(sub_id, timeout=240)
    healed(f"Docker Engine restarted mid-run ({'crash' if crash else 'clean stop'})",
           restarted)
    assert done["status"] == "succeeded", (done["failure_reason"], done["failure_message"])
    assert stack.row(sub_id).attempts >= 2  # the lost run was ours: tried again


def test_object_store_down_during_an_upload_is_a_clear_503(stack):
    rows = stack.count(select(func.count(Submission.id)))
    objects = stack.topo.objects()
    stack.topo.switch.down()
    try:
        started = time.monotonic()
        response = stack.submit(stack.ok)
        HEAL["store down: upload answered in"] = time.monotonic() - started
    finally:
        stack.topo.switch.up()
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "storage_unavailable"
    assert "nothing was stored" in error["message"] and "again" in error["message"]
    assert stack.count(select(func.count(Submission.id))) == rows  # no row
    assert stack.topo.objects() == objects  # no object
    assert stack.final(stack.submitted(stack.ok))["status"] == "succeeded"


def test_object_store_down_during_a_run_is_retried(stack):
    sub_id = stack.submitted(stack.slow)
    stack.running(sub_id)
    stack.topo.switch.down()
    try:  # until the run's end meets the dead store and gives the run back
        wait_until(lambda: stack.row(sub_id).status == "queued", 90, "the run given back")
    finally:
        stack.topo.switch.up()
        back = time.monotonic()
    done = stack.final(sub_id, timeout=180)
    healed("object store down during a run (from the store back)", back)
    assert done["status"] == "succeeded" and stack.row(sub_id).attempts >= 2


def test_postgresql_restarted_web_and_workers_recover(stack):
    sub_id = stack.submitted(stack.slow)
    stack.running(sub_id)
    restarted = time.monotonic()
    stack.topo.restart_postgres()
    wait_until(lambda: stack.show(sub_id), 60, "web answers again")
    HEAL["PostgreSQL restarted: web answers again after"] = time.monotonic() - restarted
    done = stack.final(sub_id, timeout=180)
    healed("PostgreSQL restarted mid-run (run finished)", restarted)
    assert done["status"] == "succeeded", (done["failure_reason"], done["failure_message"])
    attempts = stack.row(sub_id).attempts  # 1 is the aim: no session held across the run
    HEAL[f"PostgreSQL restarted: attempts of the run in flight = {attempts}"] = 0.0
    results = select(func.count()).select_from(Result).where(Result.submission_id == sub_id)
    assert stack.count(results) == 1  # scored once, however many attempts
    assert stack.final(stack.submitted(stack.ok))["status"] == "succeeded"


def test_a_submission_while_the_broker_is_down_is_queued_then_run(stack):
    stack.topo.procs["redis"].kill()
    try:
        started = time.monotonic()
        response = stack.submit(stack.ok)
        HEAL["broker down: upload answered in"] = time.monotonic() - started
    finally:
        stack.topo.start_redis()
        back = time.monotonic()
    # Accepted and queued (never a 500 with a committed row): sent once the broker is back.
    assert response.status_code == 202, response.text
    done = stack.final(response.json()["id"], timeout=120)
    healed("broker down at submission (from the broker back)", back)
    assert done["status"] == "succeeded", (done["failure_reason"], done["failure_message"])


def test_after_the_faults_all_is_final_counted_once_and_clean(stack):
    with stack.platform.app.app_context():
        subs = db.session.scalars(select(Submission)).all()
        assert subs and all(s.status in FINAL for s in subs)
        # Every submission here is a good image: each ends scored, and only those count.
        failed = [s for s in subs if s.status == "failed"]
        assert [(s.id, s.failure_reason) for s in failed] == []
        counted = [s.id for s in subs if s.counts_against_quota and s not in failed]
        results = db.session.scalars(select(Result.submission_id)).all()
        assert sorted(counted) == sorted(results) == sorted(s.id for s in subs
                                                           if s not in failed)
    assert stack.topo.containers() == []
