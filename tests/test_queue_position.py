"""A queued submission's place in its queue and expected start (page and API), and the
opt-in e-mail when a run ends, through a real SMTP server on loopback."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from lai_platform.challenges.lookups import find_phase
from lai_platform.extensions import db
from lai_platform.jobs.recovery import requeue_stale
from lai_platform.models import Submission, SubmissionStatus, Worker
from lai_platform.runner.base import FailureReason
from lai_platform.submissions.queue_position import estimate_start, standing
from tests.fakes import fails
from tests.story import Browser

NOW = datetime(2026, 12, 14, 12, 0, 0)


@pytest.fixture
def executor_factory(fake):
    return lambda: fake


def set_settings(platform, **changes) -> None:
    platform.services.settings = replace(platform.services.settings, **changes)


# -- the estimate ---------------------------------------------------------------------------


def test_a_free_worker_starts_it_now():
    assert estimate_start(NOW, 60, workers=2, running=[NOW], queued_ahead=0) == NOW


def test_runs_ahead_take_the_slots_that_free_first():
    ten_s_ago = NOW - timedelta(seconds=10)
    # One worker busy for 50 s more, then one queued run of 60 s: it starts in 110 s.
    assert estimate_start(NOW, 60, 1, [ten_s_ago], 1) == NOW + timedelta(seconds=110)
    # Two workers: the idle one takes the run ahead, the busy one frees in 50 s.
    assert estimate_start(NOW, 60, 2, [ten_s_ago], 1) == NOW + timedelta(seconds=50)


def test_an_overdue_run_frees_its_slot_now_not_in_the_past():
    long_ago = NOW - timedelta(hours=1)
    assert estimate_start(NOW, 60, 1, [long_ago], 0) == NOW


def test_no_worker_no_estimate():
    assert estimate_start(NOW, 60, 0, [], 0) is None


# -- in the platform ------------------------------------------------------------------------


def add(platform, status: str, created: datetime, phase: str = "development",
        started: datetime | None = None, finished: datetime | None = None) -> int:
    with platform.app.app_context():
        first = db.session.scalar(db.select(Submission).order_by(Submission.id))
        sub = Submission(phase=find_phase("lai-liver", phase), user_id=first.user_id,
                         image_id=first.image_id, status=status, created_at=created,
                         started_at=started, finished_at=finished)
        db.session.add(sub)
        db.session.commit()
        return sub.id


def place(platform, submission_id: int, now: datetime = NOW):
    with platform.app.app_context():
        return standing(db.session.get(Submission, submission_id), now)


@pytest.fixture
def queue(demo_platform, ada, image):
    """Ada's upload (queued), then history: one run finished in 60 s; one running for 10 s."""
    set_settings(demo_platform, worker_threads=1)
    first = ada.submit(image).get_json()["id"]
    with demo_platform.app.app_context():
        db.session.get(Submission, first).created_at = NOW - timedelta(minutes=5)
        db.session.commit()
    add(demo_platform, "succeeded", NOW - timedelta(hours=1), started=NOW - timedelta(hours=1),
        finished=NOW - timedelta(minutes=59))
    add(demo_platform, "running", NOW - timedelta(minutes=9), started=NOW - timedelta(seconds=10))
    return first


def test_position_counts_runs_queued_before_it_and_running(demo_platform, queue):
    mine = add(demo_platform, "queued", NOW - timedelta(minutes=1))
    later = add(demo_platform, "queued", NOW)
    assert place(demo_platform, queue).position == 1  # the running one only
    assert place(demo_platform, mine).position == 2
    assert place(demo_platform, later).position == 3
    # One thread: the running one ends in 50 s, then `queue` runs 60 s.
    assert place(demo_platform, mine).expected_start == NOW + timedelta(seconds=110)
    assert place(demo_platform, mine).running == 1


def test_not_queued_has_no_position(demo_platform, queue):
    with demo_platform.app.app_context():
        running = db.session.scalar(db.select(Submission).where(Submission.status == "running"))
        assert standing(running, NOW).position is None
        assert standing(running, NOW).expected_start is None


def test_no_finished_run_no_estimate(demo_platform, ada, image):
    sub = ada.submit(image).get_json()["id"]
    assert place(demo_platform, sub).position == 0
    assert place(demo_platform, sub).expected_start is None


def test_with_a_broker_queues_and_live_workers_count_apart(demo_platform, queue):
    set_settings(demo_platform, broker_url="redis://unused")
    demo_platform.set_phase("final-test", limits={"gpu": True})
    gpu_run = add(demo_platform, "queued", NOW, phase="final-test")
    assert place(demo_platform, gpu_run).position == 0  # the cpu runs are not ahead of it
    assert place(demo_platform, queue).position == 1
    assert place(demo_platform, queue).expected_start is None  # no worker seen alive
    with demo_platform.app.app_context():
        db.session.add_all([
            Worker(name="cpu-1", queues=["cpu"], last_seen=NOW - timedelta(seconds=5)),
            Worker(name="cpu-gone", queues=["cpu"], last_seen=NOW - timedelta(hours=2)),
        ])
        db.session.commit()
    assert place(demo_platform, queue).expected_start == NOW + timedelta(seconds=50)
    assert place(demo_platform, gpu_run).expected_start is None  # no finished gpu run


def test_api_and_page_show_the_place(demo_platform, ada, queue):
    body = ada.submission(queue)
    assert body["queue_position"] == 1
    assert body["expected_start"].endswith("Z")
    assert datetime.fromisoformat(body["expected_start"].removesuffix("Z")) >= NOW
    browser = Browser(demo_platform.app)
    browser.log_in("ada@example.org")
    html = browser.client.get(f"/submissions/{queue}").get_data(as_text=True)
    assert 'id="queue-position">1<' in html and "submission.js" in html
    # The page's script reads the API with the session cookie, no token.
    polled = browser.client.get(f"/api/v1/submissions/{queue}")
    assert polled.status_code == 200 and polled.get_json()["queue_position"] == 1
    # ... which is no way around the API's access rules.
    assert demo_platform.app.test_client().get(f"/api/v1/submissions/{queue}").status_code == 404
    demo_platform.run_queued()
    assert ada.submission(queue)["queue_position"] is None
    assert ada.submission(queue)["expected_start"] is None


# -- e-mail when a run ends -----------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbox(demo_platform):
    controller_module = pytest.importorskip("aiosmtpd.controller")
    box = Inbox()
    port = free_port()
    smtp = controller_module.Controller(box, hostname="127.0.0.1", port=port)
    smtp.start()
    set_settings(demo_platform, smtp_host="127.0.0.1", smtp_port=port,
                 smtp_from="lai@example.org")
    yield box
    smtp.stop()


def opt_in(platform, email: str, on: bool = True) -> Browser:
    browser = Browser(platform.app)
    browser.log_in(email)
    page = browser.post_form("/account", "/account/notifications",
                             **({"notify_on_finish": "yes"} if on else {}))
    assert ("checked" in page.get_data(as_text=True).split('id="notifications"')[1]
            .split("</form>")[0]) is on
    return browser


def test_a_participant_who_opted_in_gets_an_email_on_success(demo_platform, ada, image, inbox):
    opt_in(demo_platform, "ada@example.org")
    sub = ada.submit(image).get_json()["id"]
    demo_platform.run_queued()
    assert ada.submission(sub)["status"] == "succeeded"
    [mail] = inbox.messages
    assert mail.rcpt_tos == ["ada@example.org"] and mail.mail_from == "lai@example.org"
    text = mail.content.decode()
    assert f"Submission #{sub} succeeded" in text and f"/submissions/{sub}" in text
    assert "fake run" not in text  # never the logs


def test_a_failure_mail_says_why_and_leaves_the_logs_out(demo_platform, ada, image, inbox,
                                                           fake):
    opt_in(demo_platform, "ada@example.org")
    fake.script = fails(FailureReason.TIMEOUT, "took longer than 900 s", "case-17 secret")
    sub = ada.submit(image).get_json()["id"]
    demo_platform.run_queued()
    [mail] = inbox.messages
    text = mail.content.decode()
    assert f"Submission #{sub} failed" in text and "Reason: timeout" in text
    assert "took longer than 900 s" in text and "case-17" not in text


def test_a_run_given_up_by_the_reaper_is_mailed_too(demo_platform, ada, image, inbox):
    """A run whose worker died on every try ends in the reaper, not the pipeline."""
    opt_in(demo_platform, "ada@example.org")
    sub = ada.submit(image).get_json()["id"]
    with demo_platform.app.app_context():
        row = db.session.get(Submission, sub)
        row.status, row.attempts, row.heartbeat_at = SubmissionStatus.RUNNING, 5, None
        db.session.commit()
        requeue_stale(heartbeat_timeout_s=120, max_attempts=5)
    assert ada.submission(sub)["failure_reason"] == "platform_error"
    [mail] = inbox.messages
    text = mail.content.decode()
    assert f"Submission #{sub} failed" in text and "does not count against your quota" in text


def test_no_mail_without_opting_in_or_after_opting_out(demo_platform, ada, image, inbox):
    demo_platform.run_queued()
    ada.submit(image)
    demo_platform.run_queued()
    opt_in(demo_platform, "ada@example.org")
    opt_in(demo_platform, "ada@example.org", on=False)
    ada.submit(image)
    demo_platform.run_queued()
    assert inbox.messages == []


def test_a_mail_server_that_is_down_is_only_logged(demo_platform, ada, image, caplog):
    set_settings(demo_platform, smtp_host="127.0.0.1", smtp_port=free_port())  # nobody there
    opt_in(demo_platform, "ada@example.org")
    sub = ada.submit(image).get_json()["id"]
    demo_platform.run_queued()
    assert ada.submission(sub)["status"] == "succeeded"
    assert f"could not e-mail the end of submission {sub}" in caplog.text


def test_the_account_page_says_when_no_mail_server_is_set(demo_platform, ada):
    browser = Browser(demo_platform.app)
    browser.log_in("ada@example.org")
    # The test settings leave LAI_SMTP_HOST unset.
    assert "no mail server set up" in browser.client.get("/account").get_data(as_text=True)
