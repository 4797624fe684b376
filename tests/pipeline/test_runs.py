"""Every branch of a submission's run, with a fake executor: each way a run ends has its own
reason and words, the submitter's failures count against the quota and ours do not, a job
delivered twice runs once, and a run whose worker died is retried, then failed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lai_platform.extensions import db
from lai_platform.jobs.pipeline import predictions_key, run_submission
from lai_platform.jobs.recovery import retry_delay_s
from lai_platform.models import Submission
from lai_platform.models._time import utcnow
from lai_platform.runner.base import FailureReason
from lai_platform.scoring.evaluation_container import PUBLIC_MESSAGE
from tests.fakes import fails, predicts, raises, reports_metrics, writes


def submit_and_run(ada, image: Path, phase: str = "development") -> dict:
    response = ada.submit(image, phase=phase)
    assert response.status_code == 202, response.get_json()
    assert ada.platform.run_queued() == [response.get_json()["id"]]
    return ada.submission(response.get_json()["id"])


def test_a_good_run_is_scored_ranked_and_its_predictions_kept(ada, image, fake):
    sub = submit_and_run(ada, image)
    assert sub["status"] == "succeeded" and sub["rank"] == 1
    assert sub["metrics"]["metrics"]["auc"]["value"] == pytest.approx(0.5)
    assert sub["logs"] == "fake run\n"  # the development phase shows logs
    assert [r.name for r in fake.runs] == [f"lai-{ada.platform.services.settings.deployment}"
                                           f"-submission-{sub['id']}"]
    with ada.platform.services.storage.open(predictions_key(sub["id"])) as stream:
        assert b'"predictions"' in stream.read()


RUNNER_FAILURES = [
    FailureReason.TIMEOUT, FailureReason.OUT_OF_MEMORY, FailureReason.NONZERO_EXIT,
    FailureReason.NETWORK_BLOCKED, FailureReason.NO_OUTPUT, FailureReason.OUTPUT_TOO_LARGE,
    FailureReason.INVALID_OUTPUT, FailureReason.IMAGE_INVALID,
]


@pytest.mark.parametrize("reason", RUNNER_FAILURES, ids=str)
def test_each_failure_of_the_run_is_the_submitters_and_explained(ada, image, fake, reason):
    fake.script = fails(reason, f"words about {reason}", logs="case_001 traceback")
    sub = submit_and_run(ada, image)
    assert sub["status"] == "failed"
    assert sub["failure_reason"] == reason
    assert sub["failure_message"] == f"words about {reason}"
    assert sub["counts_against_quota"] is True
    assert sub["logs"] == "case_001 traceback"
    # ...and the next submission still works.
    fake.script = predicts()
    assert submit_and_run(ada, image)["status"] == "succeeded"


@pytest.mark.parametrize(
    "raw, words",
    [(b"{not json", "not valid"), (b'{"predictions": []}', "missing"),
     (b'{"predictions": "x"}', "not valid")],
)
def test_invalid_predictions_are_the_submitters_and_named(ada, image, fake, raw, words):
    fake.script = writes(raw)
    sub = submit_and_run(ada, image)
    assert sub["failure_reason"] == "invalid_output"
    assert words in sub["failure_message"]
    assert sub["counts_against_quota"] is True


def test_an_image_docker_cannot_load_is_the_submitters(ada, image, fake):
    fake.load_error = "layer digest mismatch"
    sub = submit_and_run(ada, image)
    assert sub["failure_reason"] == "image_invalid"
    assert "docker save" in sub["failure_message"]
    assert "digest" not in sub["failure_message"]  # engine details stay in the server log


@pytest.mark.parametrize(
    "script",
    [fails(FailureReason.PLATFORM_ERROR, "engine said no"), raises(RuntimeError("bug"))],
    ids=["runner reports it", "executor raises"],
)
def test_our_failures_do_not_count(ada, image, fake, script):
    ada.platform.set_phase("development", submissions_per_day=1)
    fake.script = script
    sub = submit_and_run(ada, image)
    assert sub["status"] == "queued"  # ours: tried again, by any worker...
    assert ada.platform.run_queued(wait_out_retries=False) == []  # ...after a wait...
    tries = ada.platform.services.settings.max_attempts
    for _ in range(tries - 1):
        ada.platform.run_queued()
    sub = ada.submission(sub["id"])  # ...up to LAI_MAX_ATTEMPTS, then failed as ours
    assert len(fake.runs) == tries
    assert sub["failure_reason"] == "platform_error"
    assert sub["counts_against_quota"] is False
    assert "does not count against your quota" in sub["failure_message"]
    fake.script = predicts()
    assert submit_and_run(ada, image)["status"] == "succeeded"  # the quota slot was kept


def test_a_failing_evaluation_container_is_not_the_submitters_fault(ada, image, fake):
    ada.platform.set_phase("development", evaluation_image_id="sha256:" + "e" * 64,
                           evaluation_image_key="evaluators/fake.tar")
    fake.evaluation_script = fails(FailureReason.TIMEOUT, "too slow", logs="HCC,1 (truth)")
    sub = submit_and_run(ada, image)
    assert sub["failure_reason"] == "evaluation_failed"
    assert sub["failure_message"] == PUBLIC_MESSAGE
    assert sub["counts_against_quota"] is False
    assert "truth" not in str(sub)


def test_an_evaluation_container_scores_the_predictions(ada, image, fake):
    ada.platform.set_phase("development", evaluation_image_id="sha256:" + "e" * 64,
                           evaluation_image_key="evaluators/fake.tar")
    fake.evaluation_script = reports_metrics({"auc": 0.75, "custom": 3})
    sub = submit_and_run(ada, image)
    assert sub["status"] == "succeeded"
    assert sub["metrics"]["metrics"]["auc"]["value"] == 0.75
    assert sub["metrics"]["evaluated_by"] == "container"


def test_a_job_delivered_twice_runs_once(ada, image, fake):
    sub_id = ada.submit(image).get_json()["id"]
    ada.platform.run_queued()
    run_submission(ada.platform.app, sub_id)  # the queue delivers it again
    assert len(fake.runs) == 1
    assert ada.submission(sub_id)["status"] == "succeeded"
    assert len(ada.leaderboard()["entries"]) == 1


def set_running(platform, submission_id: int, attempts: int, minutes_ago: float) -> None:
    """As if a worker claimed the run and then went silent."""
    with platform.app.app_context():
        sub = db.session.get(Submission, submission_id)
        sub.status, sub.attempts = "running", attempts
        sub.heartbeat_at = utcnow() - timedelta(minutes=minutes_ago)
        db.session.commit()


def test_a_run_whose_worker_died_is_retried_and_counted_once(ada, image, fake):
    sub_id = ada.submit(image).get_json()["id"]
    set_running(ada.platform, sub_id, attempts=1, minutes_ago=0)
    ada.platform.reap()
    assert ada.submission(sub_id)["status"] == "running"  # still heart-beating
    set_running(ada.platform, sub_id, attempts=1, minutes_ago=10)
    ada.platform.reap()
    assert ada.platform.run_queued() == [sub_id]
    sub = ada.submission(sub_id)
    assert sub["status"] == "succeeded" and sub["counts_against_quota"] is True
    with ada.platform.app.app_context():
        assert db.session.get(Submission, sub_id).attempts == 2


def test_a_run_that_keeps_losing_its_worker_fails_as_ours(ada, image, fake):
    sub_id = ada.submit(image).get_json()["id"]
    set_running(ada.platform, sub_id, attempts=ada.platform.services.settings.max_attempts,
                minutes_ago=10)
    ada.platform.reap()
    sub = ada.submission(sub_id)
    assert sub["failure_reason"] == "platform_error"
    assert sub["counts_against_quota"] is False
    assert "stopped responding" in sub["failure_message"]
    assert fake.runs == []


def test_worker_threads_run_what_is_queued(ada, image, fake):
    ids = [ada.submit(image).get_json()["id"] for _ in range(3)]
    ada.platform.start_workers()
    assert [ada.wait_for(i, timeout=60)["status"] for i in ids] == ["succeeded"] * 3
    assert fake.loads == [fake.runs[0].image_id]  # one image, loaded once


def test_a_retry_after_a_platform_fault_waits_longer_each_time():
    assert [retry_delay_s(n) for n in (1, 2, 3, 4, 5, 6, 9)] == [20, 40, 80, 160, 300, 300, 300]
