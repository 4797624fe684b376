"""Uploaded container images, submissions and their results."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lai_platform.extensions import db
from lai_platform.models._time import utcnow


class SubmissionStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ContainerImage(db.Model):
    """One validated `docker save` tarball, identified by its image ID (config digest)."""

    __tablename__ = "container_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    image_id: Mapped[str] = mapped_column(String(80), index=True)
    storage_key: Mapped[str] = mapped_column(String(512))
    # SHA-256 of the tarball as stored: the same upload by the same person is kept once.
    tarball_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    architecture: Mapped[str] = mapped_column(String(32))
    repo_tags: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Submission(db.Model):
    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_phase_user_created", "phase_id", "user_id", "created_at"),
        Index("ix_submissions_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The submitter's team when it was registered (or when they joined one): the team's
    # quotas, final marks and leaderboard row. None: a solo entry.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("container_images.id"))
    comment: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default=SubmissionStatus.QUEUED)
    failure_reason: Mapped[str | None] = mapped_column(String(32))
    failure_message: Mapped[str | None] = mapped_column(Text)
    # Platform faults do not count against a participant's quota.
    counts_against_quota: Mapped[bool] = mapped_column(default=True)
    # Baselines are shown on the leaderboard with the rank they would have, taking none.
    is_baseline: Mapped[bool] = mapped_column(default=False)
    # Organizers' moderation: None, "hidden" or "disqualified"; either takes the submission
    # off the leaderboard, and the reason is shown to its participant.
    moderation: Mapped[str | None] = mapped_column(String(16))
    moderation_reason: Mapped[str] = mapped_column(Text, default="")
    # Marked by its participant to count for the private leaderboard at close (a phase's
    # final_selection_max of them at most).
    selected_for_final: Mapped[bool] = mapped_column(default=False)
    logs: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    # After a platform fault the run waits until then before its next try (an engine or a
    # store coming back needs a while; tries in a row would spend them all at once).
    retry_after: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    run_seconds: Mapped[float | None]
    # The worker that claimed its last run (LAI_WORKER_NAME, or <hostname>-<pid>).
    worker: Mapped[str | None] = mapped_column(String(200))

    phase = relationship("Phase")
    user = relationship("User")
    team = relationship("Team")
    image: Mapped[ContainerImage] = relationship()
    result: Mapped[Result | None] = relationship(back_populates="submission", uselist=False)

    @property
    def entrant_name(self) -> str:
        """The name its leaderboard row shows: the team's, else its participant's."""
        return self.team.name if self.team is not None else self.user.display_name


class Result(db.Model):
    """Scores of a succeeded submission; ranks are recomputed whenever its phase changes.

    `metrics` covers every case. With a public/private split, `metrics_public` and
    `metrics_private` cover each part, and only the part in force is shown to participants.
    The row stays small (ranking reads every row of a phase): the resampled and per-case
    vectors and the curves live in `ResultDetail`.
    """

    __tablename__ = "results"
    __table_args__ = (
        Index("ix_results_phase_rank", "phase_id", "rank"),
        Index("ix_results_phase_position", "phase_id", "position"),
    )

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"))
    metrics: Mapped[dict] = mapped_column(JSON)
    metrics_public: Mapped[dict | None] = mapped_column(JSON)
    metrics_private: Mapped[dict | None] = mapped_column(JSON)
    # Per part ("all", "public", "private"): every metric's value, what ranking reads.
    part_values: Mapped[dict] = mapped_column(JSON, default=dict)
    primary_score: Mapped[float | None]
    # On the leaderboard under the phase's display mode (all, best or latest per team).
    shown: Mapped[bool] = mapped_column(default=True)
    rank: Mapped[int | None]
    rank_low: Mapped[int | None]  # bootstrap rank interval
    rank_high: Mapped[int | None]
    rank_hold_probability: Mapped[float | None]
    # Place on the leaderboard (1, 2, ...) when shown: a page is a range of positions.
    position: Mapped[int | None]
    # The dataset version this result was scored against.
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="result")
    detail: Mapped[ResultDetail | None] = relationship(uselist=False, lazy="select")


class ResultDetail(db.Model):
    """The heavy part of a result: ranking vectors (see scoring.vectors) and curve data."""

    __tablename__ = "result_details"

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("results.submission_id"), primary_key=True
    )
    vectors: Mapped[bytes | None] = mapped_column(LargeBinary)
    curves: Mapped[dict | None] = mapped_column(JSON)  # ROC and reliability data, per part


class ScoreHistory(db.Model):
    """An earlier score of a submission, kept when a rerun or a new dataset replaced it."""

    __tablename__ = "score_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id"))
    metrics: Mapped[dict] = mapped_column(JSON)
    primary_score: Mapped[float | None]
    scored_at: Mapped[datetime]
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)
    why: Mapped[str] = mapped_column(String(200), default="")
