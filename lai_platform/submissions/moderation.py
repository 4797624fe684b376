"""Organizers and a phase's submissions: list and filter them, rerun, hide, disqualify,
restore, mark as baseline, read logs and predictions.

Every action locks the submission row first (a write, as admission does) and then reads it,
so concurrent clicks give one change and one audit event. A submission is always found
through its challenge: an id of another challenge is "not found", never acted on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Response, stream_with_context
from sqlalchemy import func, select

from lai_platform import services
from lai_platform.audit import record
from lai_platform.errors import NotFound, PlatformError
from lai_platform.extensions import db
from lai_platform.jobs.pipeline import predictions_key
from lai_platform.leaderboards.ranking_job import request_ranking
from lai_platform.models import Challenge, Phase, Submission, SubmissionStatus, User
from lai_platform.models.locking import lock_rows
from lai_platform.scoring.history import archive_result

PER_PAGE = 50
MODERATIONS = {"hide": "hidden", "disqualify": "disqualified"}
REASON_MAX = 2000
STREAM_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    reason: str | None = None  # failure reason
    participant: str | None = None  # a part of the e-mail address or name
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class SubmissionPage:
    items: list[Submission]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def parse_filters(args: Mapping[str, str]) -> Filters:
    """Filters from a query string; a date alone means that whole day (UTC)."""
    status = (args.get("status") or "").strip() or None
    if status and status not in set(SubmissionStatus):
        raise PlatformError("bad_status", f"Unknown state {status!r}: choose one of "
                            f"{', '.join(SubmissionStatus)}.", 400)
    return Filters(status=status, reason=(args.get("reason") or "").strip() or None,
                   participant=(args.get("participant") or "").strip() or None,
                   since=_moment(args.get("since"), "since", end=False),
                   until=_moment(args.get("until"), "until", end=True))


def _moment(text: str | None, name: str, end: bool) -> datetime | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.removesuffix("Z"))
    except ValueError:
        raise PlatformError("bad_date", f"`{name}` must be a date (2025-03-31) or a date and "
                            f"time (2025-03-31T12:00), not {text!r}.", 400) from None
    if value.tzinfo is not None:  # stored times are naive UTC
        value = value.astimezone(UTC).replace(tzinfo=None)
    if end and len(text) == 10:  # until a day: up to its end
        value += timedelta(days=1)
    return value


def request_reranking(phase_ids: list[int]) -> None:
    """Ask the ranking job to rank these phases again (after the change was committed)."""
    for phase_id in phase_ids:
        request_ranking(phase_id)
        services.get().jobs.enqueue_ranking(phase_id)


def find_submission(challenge: Challenge, submission_id: int) -> Submission:
    """The submission if it belongs to this challenge; 404 otherwise (never across)."""
    sub = db.session.scalar(
        select(Submission).join(Phase, Phase.id == Submission.phase_id)
        .where(Submission.id == submission_id, Phase.challenge_id == challenge.id)
    )
    if sub is None:
        raise NotFound(f"No submission {submission_id} in '{challenge.title}'.")
    return sub


def list_submissions(phase: Phase, filters: Filters, page: int = 1,
                     per_page: int = PER_PAGE) -> SubmissionPage:
    """Newest first, one page (LIMIT/OFFSET on the phase/user/created index)."""
    where = [Submission.phase_id == phase.id]
    if filters.status:
        where.append(Submission.status == filters.status)
    if filters.reason:
        where.append(Submission.failure_reason == filters.reason)
    if filters.since:
        where.append(Submission.created_at >= filters.since)
    if filters.until:
        where.append(Submission.created_at < filters.until)
    query = select(Submission)
    count = select(func.count(Submission.id))
    if filters.participant:
        needle = f"%{filters.participant.strip().lower()}%"
        person = func.lower(User.email).like(needle) | func.lower(User.display_name).like(needle)
        query = query.join(User, User.id == Submission.user_id).where(person)
        count = count.join(User, User.id == Submission.user_id).where(person)
    total = db.session.scalar(count.where(*where)) or 0
    page = max(page, 1)
    items = db.session.scalars(
        query.where(*where).order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return SubmissionPage(list(items), total, page, per_page)


def _lock(sub: Submission) -> Submission:
    """Take the row's write lock, then read it afresh (what a concurrent action left)."""
    lock_rows(Submission, Submission.id == sub.id)
    db.session.refresh(sub)
    return sub


def rerun(sub: Submission, actor: User | None, why: str = "") -> bool:
    """Queue the submission again: its current score goes into its history, failure fields
    are cleared. It stays one submission, so the quota counts it once, as before."""
    sub = _lock(sub)
    if sub.status in (SubmissionStatus.QUEUED, SubmissionStatus.RUNNING):
        db.session.rollback()
        raise PlatformError("already_queued", f"Submission {sub.id} is {sub.status}: it can "
                            "be rerun once this run ends.", 409)
    if sub.phase.dataset_id is None:
        db.session.rollback()
        raise PlatformError("no_test_data", f"The phase '{sub.phase.title}' has no test data: "
                            "attach a dataset before rerunning its submissions.", 409)
    before = {"status": sub.status, "failure_reason": sub.failure_reason,
              "primary_score": sub.result.primary_score if sub.result else None}
    had_result = archive_result(sub, f"rerun: {why}" if why else "rerun") is not None
    sub.status = SubmissionStatus.QUEUED
    sub.failure_reason = sub.failure_message = None
    sub.started_at = sub.heartbeat_at = sub.finished_at = sub.run_seconds = None
    sub.attempts = 0  # the reaper's retry budget starts afresh
    record(actor, sub.phase.challenge, "submission.rerun", f"submission {sub.id}", before,
           {"status": "queued", "why": why})
    db.session.commit()
    services.get().jobs.enqueue(sub.id)
    if had_result:
        request_reranking([sub.phase_id])  # its old score leaves the board meanwhile
    return True


def moderate(sub: Submission, action: str, actor: User | None, reason: str = "") -> bool:
    """hide, disqualify (with a reason the participant sees) or restore; True if changed."""
    if action not in (*MODERATIONS, "restore"):
        raise PlatformError("bad_action", f"Unknown action {action!r}: hide, disqualify or "
                            "restore.", 400)
    reason = (reason or "").strip()
    if action != "restore" and not reason:
        raise PlatformError("reason_required", f"Give a reason to {action} a submission: "
                            "its participant sees it.", 400)
    if len(reason) > REASON_MAX:
        raise PlatformError("reason_too_long", f"The reason has {len(reason)} characters; "
                            f"at most {REASON_MAX}.", 400)
    sub = _lock(sub)
    after = (MODERATIONS.get(action), reason if action != "restore" else "")
    before = (sub.moderation, sub.moderation_reason)
    if before == after:
        db.session.rollback()
        return False
    sub.moderation, sub.moderation_reason = after
    record(actor, sub.phase.challenge, f"submission.{action}", f"submission {sub.id}",
           {"moderation": before[0], "reason": before[1]},
           {"moderation": after[0], "reason": after[1]})
    db.session.commit()
    request_reranking([sub.phase_id])
    return True


def set_baseline(sub: Submission, baseline: bool, actor: User | None) -> bool:
    """Show (or stop showing) a submission as a baseline; True if changed. The CLI's
    `submissions mark-baseline` calls this too."""
    sub = _lock(sub)
    if sub.is_baseline == baseline:
        db.session.rollback()
        return False
    record(actor, sub.phase.challenge, "submission.baseline", f"submission {sub.id}",
           {"is_baseline": sub.is_baseline}, {"is_baseline": baseline})
    sub.is_baseline = baseline
    db.session.commit()
    request_reranking([sub.phase_id])
    return True


def predictions_response(sub: Submission) -> Response:
    """The predictions file the run wrote, as a download."""
    storage = services.get().storage
    key = predictions_key(sub.id)
    if not storage.exists(key):
        raise NotFound(f"Submission {sub.id} has no stored predictions: its run did not "
                       "write any.")
    stream = storage.open(key)

    def chunks():
        with stream:
            while chunk := stream.read(STREAM_CHUNK):
                yield chunk

    headers = {"Content-Disposition":
               f'attachment; filename="submission-{sub.id}-predictions.json"'}
    return Response(stream_with_context(chunks()), mimetype="application/json",
                    headers=headers)
