"""Nothing is left "running" forever: restarts pick work up, dead workers are retried."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lai_platform.extensions import db
from lai_platform.jobs.recovery import requeue_stale
from lai_platform.models import Submission
from lai_platform.models._time import utcnow
from tests.conftest import build_platform, make_settings
from tests.docker_images import build_test_image, save_image


@pytest.fixture
def ok_tarball(tmp_path):
    return save_image(build_test_image("ok"), tmp_path / "ok.tar")


def set_submission(platform, submission_id: int, **fields) -> None:
    with platform.app.app_context():
        sub = db.session.get(Submission, submission_id)
        for key, value in fields.items():
            setattr(sub, key, value)
        db.session.commit()


@pytest.mark.docker
def test_a_restarted_server_finishes_what_the_last_one_left(
    tmp_path, database_url, demo_bundle, ok_tarball
):
    settings = make_settings(tmp_path, database_url)
    first = build_platform(settings)
    first.load_challenge(demo_bundle)
    ada = first.participant()
    ada.join()
    queued = ada.submit(ok_tarball).get_json()["id"]
    running = ada.submit(ok_tarball).get_json()["id"]
    # The first process died while running the second submission.
    set_submission(first, running, status="running", attempts=1, heartbeat_at=utcnow())
    first.close()

    second = build_platform(settings)
    second.start_workers()
    try:
        again = second.anonymous()
        again.token = ada.token
        assert again.wait_for(queued)["status"] == "succeeded"
        after = again.wait_for(running)
        assert after["status"] == "succeeded"
    finally:
        second.close()


def test_stale_runs_are_retried_then_failed_without_counting(demo_platform):
    platform = demo_platform
    ada = platform.participant()
    ada.join()
    with platform.app.app_context():
        from lai_platform.models import ContainerImage, Phase

        phase = db.session.scalar(db.select(Phase).where(Phase.slug == "development"))
        image = ContainerImage(user_id=1, image_id="sha256:" + "0" * 64, storage_key="images/x",
                               size_bytes=1, architecture="amd64")
        old = utcnow() - timedelta(minutes=10)
        fresh = Submission(phase=phase, user_id=1, image=image, status="running",
                           attempts=1, heartbeat_at=utcnow())
        stale = Submission(phase=phase, user_id=1, image=image, status="running",
                           attempts=1, heartbeat_at=old)
        dead = Submission(phase=phase, user_id=1, image=image, status="running",
                          attempts=3, heartbeat_at=old)
        db.session.add_all([fresh, stale, dead])
        db.session.commit()

        requeue_stale(heartbeat_timeout_s=120, max_attempts=3)

        assert fresh.status == "running"
        assert stale.status == "queued"
        assert dead.status == "failed" and dead.failure_reason == "platform_error"
        assert dead.counts_against_quota is False
        assert "stopped responding" in dead.failure_message
