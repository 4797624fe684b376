"""Organizers and a phase's submissions: filters, logs, rerun, hide and disqualify, baseline,
predictions; never across challenges; admission's concurrent quota and phases without data."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lai_platform.accounts.users import find_user
from lai_platform.challenges.lookups import find_phase
from lai_platform.extensions import db
from lai_platform.jobs.pipeline import predictions_key
from lai_platform.models import AuditEvent, ContainerImage, ScoreHistory, Submission
from lai_platform.models._time import utcnow
from lai_platform.submissions.admission import counted_submissions
from tests.fakes import FakeExecutor
from tests.organizing.conftest import SLUG, make_cast
from tests.story import perfect, record_scored_submission, together

API = f"/api/v1/challenges/{SLUG}"
IMAGE = "sha256:" + "0" * 64  # the image record_scored_submission makes


@pytest.fixture
def fake() -> FakeExecutor:
    executor = FakeExecutor()
    executor.images.add(IMAGE)  # loaded already: reruns need no stored tarball
    return executor


@pytest.fixture
def executor_factory(fake):
    return lambda: fake



def scored(cast, who: str = "participant") -> int:
    return record_scored_submission(cast.platform, cast.people[who].email, "development",
                                    perfect)


def add_submission(platform, email: str, status: str, *, failure: str | None = None,
                   logs: str = "", phase: str = "development", days_ago: float = 0) -> int:
    """A submission row as a run would have left it (no container, no score)."""
    with platform.app.app_context():
        user = find_user(email)
        image = ContainerImage(user_id=user.id, image_id=IMAGE, storage_key="images/none",
                               size_bytes=0, architecture="amd64")
        sub = Submission(phase=find_phase(SLUG, phase), user=user, image=image, status=status,
                         failure_reason=failure, logs=logs or None,
                         created_at=utcnow() - timedelta(days=days_ago))
        db.session.add(sub)
        db.session.commit()
        return sub.id


def audit(platform, action: str) -> list[AuditEvent]:
    with platform.app.app_context():
        found = list(db.session.scalars(sa.select(AuditEvent)
                                        .where(AuditEvent.action == action)))
        db.session.expunge_all()
        return found


def board(cast) -> list[int]:
    return [e["submission_id"] for e in cast.participant.api.leaderboard()["entries"]]


def listed(cast, query: str = "") -> list[int]:
    response = cast.reviewer.api.get(f"{API}/phases/development/submissions?{query}")
    assert response.status_code == 200, response.get_json()
    return [s["id"] for s in response.get_json()["submissions"]]


def test_organizers_filter_a_phases_submissions(cast):
    platform = cast.platform
    ok = scored(cast)
    timeout = add_submission(platform, cast.participant.email, "failed", failure="timeout",
                             days_ago=3)
    crashed = add_submission(platform, cast.admin.email, "failed", failure="nonzero_exit")
    queued = add_submission(platform, cast.admin.email, "queued")
    assert listed(cast) == [queued, crashed, ok, timeout]  # newest first
    assert listed(cast, "status=failed") == [crashed, timeout]
    assert listed(cast, "reason=timeout") == [timeout]
    assert listed(cast, "participant=ADMIN@") == [queued, crashed]
    day = (utcnow() - timedelta(days=3)).date().isoformat()
    assert listed(cast, f"since={day}&until={day}") == [timeout]
    assert listed(cast, f"until={day}") == [timeout]
    bad = cast.reviewer.api.get(f"{API}/phases/development/submissions?since=yesterday")
    assert bad.status_code == 400 and "since" in bad.get_json()["error"]["message"]
    second = cast.reviewer.api.get(f"{API}/phases/development/submissions?per_page=3&page=2")
    assert [s["id"] for s in second.get_json()["submissions"]] == [timeout]
    assert second.get_json()["total"] == 4 and second.get_json()["pages"] == 2

    page = cast.reviewer.web.client.get(
        f"/organize/{SLUG}/submissions?phase=development&status=failed").get_data(as_text=True)
    assert f'data-id="{crashed}"' in page and f'data-id="{ok}"' not in page


def test_organizers_read_logs_participants_may_not(cast):
    platform = cast.platform
    # final-test hides logs from participants: they could reveal test data.
    sub = add_submission(platform, cast.participant.email, "failed", failure="nonzero_exit",
                         logs="Traceback: case L-0042 broke", phase="final-test")
    assert cast.participant.api.submission(sub)["logs"] is None
    logs = cast.reviewer.api.get(f"{API}/submissions/{sub}/logs").get_json()
    assert logs["logs"] == "Traceback: case L-0042 broke"
    page = cast.editor.web.client.get(f"/organize/{SLUG}/submissions/{sub}")
    assert "case L-0042 broke" in page.get_data(as_text=True)


def test_a_rerun_requeues_without_using_quota_and_keeps_the_old_score(cast):
    platform = cast.platform
    platform.set_phase("development", submissions_per_day=1)
    sub = scored(cast)
    with platform.app.app_context():
        old_score = db.session.get(Submission, sub).result.primary_score
    response = cast.reviewer.api.post_json(f"{API}/submissions/{sub}/rerun",
                                           {"why": "dataset corrected"})
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "queued"
    again = cast.reviewer.api.post_json(f"{API}/submissions/{sub}/rerun", {})
    assert again.status_code == 409 and "queued" in again.get_json()["error"]["message"]

    assert platform.run_queued() == [sub]  # the fake container predicts 0.5 everywhere
    with platform.app.app_context():
        rerun = db.session.get(Submission, sub)
        assert rerun.status == "succeeded" and rerun.attempts == 1
        assert rerun.result.primary_score != old_score
        [history] = db.session.scalars(sa.select(ScoreHistory)).all()
        assert (history.submission_id, history.primary_score) == (sub, old_score)
        assert "dataset corrected" in history.why
        phase = find_phase(SLUG, "development")
        assert counted_submissions(find_user(cast.participant.email).id, phase) == 1
        assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 1
    [event] = audit(platform, "submission.rerun")
    assert event.before["status"] == "succeeded" and event.after["status"] == "queued"
    assert board(cast) == [sub]


def test_twenty_concurrent_reruns_queue_once(demo_platform_any_db):
    platform = demo_platform_any_db
    cast = make_cast(platform)
    sub = scored(cast)
    codes = [r.status_code for r in together(
        [lambda: cast.reviewer.api.post_json(f"{API}/submissions/{sub}/rerun", {})
         for _ in range(20)])]
    assert sorted(codes) == [202] + [409] * 19
    assert len(audit(platform, "submission.rerun")) == 1
    with platform.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ScoreHistory.id))) == 1


def test_a_disqualified_submission_leaves_the_board_and_its_owner_sees_why(cast):
    platform = cast.platform
    mine, other = scored(cast), scored(cast, "admin")
    assert sorted(board(cast)) == sorted([mine, other])
    missing = cast.reviewer.web.post_form(f"/organize/{SLUG}/submissions/{mine}",
                                          f"/organize/{SLUG}/submissions/{mine}/disqualify")
    assert "Give a reason" in missing.get_data(as_text=True)
    reason = "Trained on the test cases."
    cast.reviewer.web.post_form(f"/organize/{SLUG}/submissions/{mine}",
                                f"/organize/{SLUG}/submissions/{mine}/disqualify",
                                reason=reason)
    platform.rank_due()
    assert board(cast) == [other]
    seen = cast.participant.api.submission(mine)
    assert (seen["moderation"], seen["moderation_reason"]) == ("disqualified", reason)
    page = cast.participant.web.client.get(f"/submissions/{mine}").get_data(as_text=True)
    assert "Disqualified by the organizers" in page and reason in page
    assert cast.outsider.api.get(f"/api/v1/submissions/{mine}").status_code == 404
    [event] = audit(platform, "submission.disqualify")
    assert event.after == {"moderation": "disqualified", "reason": reason}

    restored = cast.reviewer.api.post_json(f"{API}/submissions/{mine}/restore", {})
    assert restored.status_code == 200 and restored.get_json()["changed"]
    platform.rank_due()
    assert sorted(board(cast)) == sorted([mine, other])
    assert len(audit(platform, "submission.restore")) == 1


def test_hiding_needs_a_reason_and_takes_the_entry_off(cast):
    platform = cast.platform
    sub = scored(cast)
    refused = cast.reviewer.api.post_json(f"{API}/submissions/{sub}/hide", {})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "reason_required"
    assert cast.reviewer.api.post_json(f"{API}/submissions/{sub}/hide",
                                       {"reason": "duplicate"}).status_code == 200
    platform.rank_due()
    assert board(cast) == []
    assert cast.participant.api.submission(sub)["moderation_reason"] == "duplicate"


def test_another_challenges_organizer_cannot_reach_this_challenges_submission(cast):
    platform = cast.platform
    sub = scored(cast)
    other = "/api/v1/challenges/other-challenge"
    for action in ("rerun", "hide", "disqualify", "restore", "baseline"):
        response = cast.other_organizer.api.post_json(f"{other}/submissions/{sub}/{action}",
                                                      {"reason": "x"})
        assert response.status_code == 404, action
    assert cast.other_organizer.api.get(f"{other}/submissions/{sub}/logs").status_code == 404
    web = cast.other_organizer.web.client.get(f"/organize/other-challenge/submissions/{sub}")
    assert web.status_code == 404
    with platform.app.app_context():
        untouched = db.session.get(Submission, sub)
        assert (untouched.status, untouched.moderation, untouched.is_baseline) == (
            "succeeded", None, False)
    assert audit(platform, "submission.rerun") == []


def test_baseline_from_the_api_and_the_command_line(cast):
    platform = cast.platform
    sub = scored(cast)
    response = cast.reviewer.api.post_json(f"{API}/submissions/{sub}/baseline", {})
    assert response.get_json()["is_baseline"] is True
    runner = platform.app.test_cli_runner()
    result = runner.invoke(args=["submissions", "mark-baseline", str(sub), "--unset"])
    assert result.exit_code == 0, result.output
    with platform.app.app_context():
        assert db.session.get(Submission, sub).is_baseline is False
    events = audit(platform, "submission.baseline")
    assert [e.after["is_baseline"] for e in events] == [True, False]
    assert events[1].actor_id is None  # the command line


def test_organizers_download_predictions(cast):
    platform = cast.platform
    sub = scored(cast)
    missing = cast.reviewer.api.get(f"{API}/submissions/{sub}/predictions")
    assert missing.status_code == 404
    platform.services.storage.save(predictions_key(sub), io.BytesIO(b'{"predictions": []}'))
    for client, url in (
        (cast.reviewer.api, f"{API}/submissions/{sub}/predictions"),
        (cast.editor.web.client, f"/organize/{SLUG}/submissions/{sub}/predictions"),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.get_data() == b'{"predictions": []}'
    assert cast.participant.api.get(f"{API}/submissions/{sub}/predictions").status_code == 403


def test_the_concurrent_quota_refuses_a_submission_while_one_runs(cast):
    platform = cast.platform
    platform.set_phase("development", submissions_concurrent=1)
    add_submission(platform, cast.participant.email, "running")
    refused = cast.participant.api.submit(b"never read", phase="development")
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "too_many_running"
    assert "1 submissions queued or running" in error["message"]


def test_a_phase_without_test_data_takes_no_submission(cast):
    platform = cast.platform
    platform.set_phase("final-test", dataset_id=None)
    refused = cast.participant.api.submit(b"never read", phase="final-test")
    assert refused.status_code == 403
    assert "has no test data yet" in refused.get_json()["error"]["message"]
