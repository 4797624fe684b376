"""Test helpers that make tests read like stories: a platform, its people, their actions."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from evaluator import parse_predictions
from lai_platform import services
from lai_platform.accounts.users import create_user, find_user
from lai_platform.challenges.bundles import load_challenge
from lai_platform.challenges.datasets import ground_truth_of
from lai_platform.challenges.lookups import find_challenge, find_phase
from lai_platform.challenges.roles import set_role
from lai_platform.challenges.tasks import task_of
from lai_platform.extensions import db
from lai_platform.jobs.pipeline import record_success, run_submission
from lai_platform.jobs.recovery import queued_ids, requeue_stale
from lai_platform.jobs.rescoring import rescorings_due, run_rescoring
from lai_platform.leaderboards.ranking_job import phases_due, rank_phase, run_ranking
from lai_platform.leaderboards.ranks import recompute_ranks
from lai_platform.models import ApiToken, ContainerImage, Phase, Submission, User
from lai_platform.scoring.builtin import score

PASSWORD = "correct horse battery"

T = TypeVar("T")


class Platform:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self._started = False

    @property
    def services(self):
        return services.get(self.app)

    def load_challenge(self, bundle: Path) -> str:
        with self.app.app_context():
            return load_challenge(bundle).slug

    def participant(self, email: str = "ada@example.org", **roles) -> Participant:
        with self.app.app_context():
            user = create_user(email, PASSWORD, email.split("@")[0], **roles)
            row, token = ApiToken.issue(user, "test")
            db.session.add(row)
            db.session.commit()
        return Participant(self, email, token)

    def organizer(self, email: str, slug: str, role: str = "admin") -> Participant:
        """Someone holding ROLE in challenge SLUG (a platform admin grants it)."""
        person = self.participant(email)
        with self.app.app_context():
            set_role(find_challenge(slug), find_user(email), role, None)
            db.session.commit()
        return person

    def set_upload_chunk(self, size: int) -> None:
        """Resumable uploads take chunks of SIZE bytes from now on (tests use small ones)."""
        self.services.settings = replace(self.services.settings, upload_chunk_bytes=size)

    def set_phase(self, slug: str, **fields) -> None:
        """An organizer changes a phase's settings; its ranks follow at once."""
        with self.app.app_context():
            phase = db.session.scalar(db.select(Phase).where(Phase.slug == slug))
            for key, value in fields.items():
                setattr(phase, key, value)
            recompute_ranks(phase)
            db.session.commit()

    def anonymous(self) -> Participant:
        return Participant(self, "", "")

    def start_workers(self) -> None:
        self.services.jobs.start()
        self._started = True

    def run_queued(self, wait_out_retries: bool = True) -> list[int]:
        """What the workers do, here and now: run every queued submission once, in order,
        then the rankings that are due. Runs waiting to be tried again after a platform fault
        are due at once unless `wait_out_retries` is False (the wait has passed)."""
        with self.app.app_context():
            if wait_out_retries:
                db.session.execute(sa.update(Submission).values(retry_after=None))
                db.session.commit()
            ids = queued_ids()
        for submission_id in ids:
            run_submission(self.app, submission_id)
        self.rank_due()
        return ids

    def run_rescorings(self) -> list[int]:
        """What the re-scoring job does for every unfinished re-scoring, then the rankings
        that are due (runs it queued again wait for run_queued)."""
        with self.app.app_context():
            due = rescorings_due()
        for rescoring_id in due:
            run_rescoring(self.app, rescoring_id)
        self.rank_due()
        return due

    def rank_due(self) -> None:
        """What the ranking job does for every phase whose ranking is out of date."""
        with self.app.app_context():
            due = phases_due()
        for phase_id in due:
            run_ranking(self.app, phase_id)

    def ranked_since(self, submission_id: int) -> bool:
        """Whether the submission's phase was ranked after its run ended."""
        with self.app.app_context():
            sub = db.session.get(Submission, submission_id)
            ranked = sub.phase.ranked_at
            return ranked is not None and sub.finished_at is not None and (
                ranked >= sub.finished_at)

    def reap(self) -> None:
        """What the reaper does: retry runs whose worker stopped heart-beating."""
        settings = self.services.settings
        with self.app.app_context():
            requeue_stale(settings.heartbeat_timeout_s, settings.max_attempts)

    def wait_until_idle(self, timeout: float = 300) -> None:
        assert self.services.jobs.join_idle(timeout), "jobs still pending"

    def close(self) -> None:
        if self._started:
            self.services.jobs.stop()
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


@dataclass
class Participant:
    platform: Platform
    email: str
    token: str

    @property
    def client(self) -> FlaskClient:
        return self.platform.app.test_client()

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, url: str):
        return self.client.get(url, headers=self._headers())

    def post_json(self, url: str, body: dict):
        return self.client.post(url, json=body, headers=self._headers())

    def join(self, challenge: str = "lai-liver", accept: bool = True):
        return self.post_json(f"/api/v1/challenges/{challenge}/join", {"accept_terms": accept})

    def submit(self, tarball: Path | bytes, phase: str = "development",
               challenge: str = "lai-liver"):
        if isinstance(tarball, bytes):
            return self._upload(io.BytesIO(tarball), phase, challenge)
        with Path(tarball).open("rb") as stream:  # streamed, not read into memory
            return self._upload(stream, phase, challenge)

    def _upload(self, stream, phase: str, challenge: str):
        return self.client.post(
            f"/api/v1/challenges/{challenge}/phases/{phase}/submissions",
            data={"image": (stream, "algorithm.tar")},
            headers=self._headers(),
            content_type="multipart/form-data",
        )

    def open_upload(self, size: int, phase: str = "development",
                    challenge: str = "lai-liver", **fields):
        """Begin a resumable upload (POST .../uploads)."""
        return self.post_json(f"/api/v1/challenges/{challenge}/phases/{phase}/uploads",
                              {"size": size, **fields})

    def send_chunk(self, upload_id: str, offset: int, data: bytes):
        return self.client.patch(
            f"/api/v1/uploads/{upload_id}", data=data,
            headers={**self._headers(), "Upload-Offset": str(offset),
                     "Content-Type": "application/offset+octet-stream"})

    def upload_in_chunks(self, tarball: Path | bytes, phase: str = "development",
                         challenge: str = "lai-liver", **fields):
        """A whole resumable upload; the answer to its last chunk (or to the opening)."""
        data = tarball if isinstance(tarball, bytes) else Path(tarball).read_bytes()
        opened = self.open_upload(len(data), phase, challenge, **fields)
        if opened.status_code != 201:
            return opened
        upload = opened.get_json()
        offset, step, answer = 0, upload["chunk_bytes"], opened
        while offset < len(data):
            answer = self.send_chunk(upload["id"], offset, data[offset:offset + step])
            if answer.status_code != 200 or answer.get_json()["status"] != "receiving":
                return answer
            offset = answer.get_json()["offset"]
        return answer

    def submission(self, submission_id: int) -> dict:
        response = self.get(f"/api/v1/submissions/{submission_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def wait_for(self, submission_id: int, timeout: float = 300) -> dict:
        """Until the run ends and, if it succeeded, its phase has been ranked since."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sub = self.submission(submission_id)
            if sub["status"] == "failed" or (
                sub["status"] == "succeeded" and self.platform.ranked_since(submission_id)
            ):
                return self.submission(submission_id)
            time.sleep(0.1)
        raise AssertionError(f"submission {submission_id} still {sub['status']} (or unranked)")

    def leaderboard(self, phase: str = "development", challenge: str = "lai-liver") -> dict:
        return self.get(f"/api/v1/challenges/{challenge}/phases/{phase}/leaderboard").get_json()


class Browser:
    """A cookie-holding web client that sends the CSRF token like a form would."""

    def __init__(self, app: Flask) -> None:
        self.client = app.test_client()

    def csrf(self, page: str) -> str:
        html = self.client.get(page).get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def post_form(self, page: str, url: str | None = None, **fields):
        fields["csrf_token"] = self.csrf(page)
        return self.client.post(url or page, data=fields, follow_redirects=True)

    def sign_up(self, email: str, name: str = "", password: str = PASSWORD):
        """Register, then log in (registration does not log in: it must not tell whether
        the address already had an account)."""
        self.post_form("/auth/register", email=email, password=password, display_name=name)
        return self.log_in(email, password)

    def log_in(self, email: str, password: str = PASSWORD):
        return self.post_form("/auth/login", email=email, password=password)


def record_scored_submission(
    platform: Platform, email: str, phase_slug: str, predict, *, baseline: bool = False,
    challenge: str = "lai-liver",
) -> int:
    """A succeeded submission whose predictions come from `predict(ground_truth) -> dict`,
    scored and ranked by the real pipeline code, without running a container."""
    with platform.app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        phase = find_phase(challenge, phase_slug)
        truth = ground_truth_of(platform.services.storage, phase.dataset,
                                task_of(phase.challenge))
        predictions = parse_predictions(predict(truth), truth)
        image = ContainerImage(user_id=user.id, image_id="sha256:" + "0" * 64,
                               storage_key="images/none", size_bytes=0, architecture="amd64")
        sub = Submission(phase=phase, user=user, image=image, status="running",
                         is_baseline=baseline)
        db.session.add(sub)
        db.session.flush()
        scored = score(predictions, truth, phase, n_bootstrap=200,
                       training_centres=phase.challenge.training_centres)
        record_success(sub, scored, "", 0.0)
        rank_phase(phase.id)  # what the ranking job then does
        return sub.id


def perfect(truth) -> dict:
    """Predictions that get every case right, with certainty: the truth's own labels."""
    return {"predictions": [
        {"case_id": c, truth.probability_key: float(m),
         "diagnosis_probabilities": {label: float(label == d) for label in truth.classes}}
        for c, m, d in zip(truth.case_ids, truth.malignant, truth.diagnosis, strict=True)
    ]}


def together(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run the calls in threads released at the same moment; their responses."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int, call: Callable[[], T]) -> None:
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
