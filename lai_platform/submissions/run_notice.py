"""An e-mail to a participant who asked for one (account page) when their run ends.

Sent after the final state is committed, from the worker that recorded it; off while
LAI_SMTP_HOST is unset. It says how the run ended and, for a failure, the reason and the
message the submission page shows; never logs or scores of hidden cases. A mail server that
is down or refuses must not fail the run: the failure is logged, nothing else.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import url_for

from lai_platform import services
from lai_platform.extensions import db
from lai_platform.models import Submission, SubmissionStatus

log = logging.getLogger(__name__)

SMTP_TIMEOUT_S = 10.0
FINAL = (SubmissionStatus.SUCCEEDED, SubmissionStatus.FAILED)


def notify_run_ended(submission_id: int, attempt: int | None = None) -> bool:
    """Mail the owner of a finished submission if they opted in; whether a mail went.
    `attempt`: only if that attempt is the last (one given up for dead sends nothing)."""
    settings = services.get().settings
    if not settings.smtp_host:
        return False
    try:
        db.session.rollback()  # read the state as committed, not what this session held
        sub = db.session.get(Submission, submission_id)
        if (sub is None or sub.status not in FINAL or not sub.user.notify_on_finish
                or (attempt is not None and sub.attempts != attempt)):
            return False
        message = compose(sub, settings.smtp_from or "lai-platform@localhost")
    except Exception:  # the database went away: the run's state is kept, the mail is not
        log.warning("could not read submission %s to e-mail its end", submission_id,
                    exc_info=True)
        return False
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                          timeout=SMTP_TIMEOUT_S) as smtp:
            smtp.send_message(message)
        return True
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("could not e-mail the end of submission %s: %s: %s",
                    submission_id, type(exc).__name__, exc)
        return False


def compose(sub: Submission, sender: str) -> EmailMessage:
    phase = sub.phase
    ended = "succeeded" if sub.status == SubmissionStatus.SUCCEEDED else "failed"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = sub.user.email
    message["Subject"] = f"Submission #{sub.id} {ended} ({phase.challenge.title}, {phase.title})"
    lines = [f"Your submission #{sub.id} to {phase.challenge.title}, phase {phase.title}, "
             f"has {ended}."]
    if sub.status == SubmissionStatus.FAILED:
        lines += ["", f"Reason: {(sub.failure_reason or 'unknown').replace('_', ' ')}",
                  sub.failure_message or ""]
        if not sub.counts_against_quota:
            lines.append("This run does not count against your quota.")
    lines += ["", f"Details: {_link(sub.id)}", "",
              "You get these e-mails because you asked for them on your account page."]
    message.set_content("\n".join(lines))
    return message


def _link(submission_id: int) -> str:
    # Workers have no request: the path only, unless SERVER_NAME gives a full URL.
    try:
        return url_for("web.submission", submission_id=submission_id, _external=True)
    except RuntimeError:
        return f"/submissions/{submission_id}"
