"""Challenges, their phases, participants and the datasets phases run on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lai_platform.extensions import db
from lai_platform.models._time import utcnow


class Challenge(db.Model):
    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    description_md: Mapped[str] = mapped_column(Text, default="")
    terms_md: Mapped[str] = mapped_column(Text, default="")
    contract_md: Mapped[str] = mapped_column(Text, default="")
    access: Mapped[str] = mapped_column(String(16), default="open")  # open | review | closed
    # Only accounts whose e-mail is in one of these domains may join (empty: anyone).
    email_domains: Mapped[list] = mapped_column(JSON, default=list)
    # The task (labels, positive group, metrics): see evaluator.task. None: the LAI task.
    task: Mapped[dict | None] = mapped_column(JSON)
    training_data_key: Mapped[str | None] = mapped_column(String(512))
    training_data_size: Mapped[int | None] = mapped_column(BigInteger)
    # Hex SHA-256 of the archive, published for downloads (None: stored before it was kept).
    training_data_sha256: Mapped[str | None] = mapped_column(String(64))
    # Centres of the training split: results on other centres are "unseen centre" results.
    training_centres: Mapped[list] = mapped_column(JSON, default=list)
    # Teams: no creating, joining or leaving from then on (None: open until the end), and
    # at most this many members (None: no limit).
    team_changes_close_at: Mapped[datetime | None]
    team_max_size: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    phases: Mapped[list[Phase]] = relationship(
        back_populates="challenge", order_by="Phase.position"
    )

    def phase(self, slug: str) -> Phase | None:
        return next((p for p in self.phases if p.slug == slug), None)


class Participation(db.Model):
    __tablename__ = "participations"
    __table_args__ = (UniqueConstraint("user_id", "challenge_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    # approved | pending | rejected | banned
    status: Mapped[str] = mapped_column(String(16), default="approved")
    accepted_terms_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The organizers' reason for a rejection or a ban, shown to the participant.
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Touched on every submission so that admission takes a write lock on this row first.
    last_submission_at: Mapped[datetime | None]


class Dataset(db.Model):
    """A versioned set of cases: inputs (given to containers) and ground truth (never)."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    inputs_key: Mapped[str] = mapped_column(String(512))
    ground_truth_key: Mapped[str] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(String(64))
    n_cases: Mapped[int]
    # Versions of one split (same name) count up; the validation report of its upload.
    version: Mapped[int] = mapped_column(default=1)
    report: Mapped[dict | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    cases: Mapped[list[Case]] = relationship(back_populates="dataset")


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("dataset_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    case_id: Mapped[str] = mapped_column(String(64))
    centre: Mapped[str] = mapped_column(String(64), default="")

    dataset: Mapped[Dataset] = relationship(back_populates="cases")


class Phase(db.Model):
    __tablename__ = "phases"
    __table_args__ = (UniqueConstraint("challenge_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description_md: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    # None until an organizer attaches a dataset: such a phase takes no submission.
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id"))
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    logs_visible: Mapped[bool] = mapped_column(default=False)
    submissions_per_day: Mapped[int | None]
    submissions_total: Mapped[int | None]
    submissions_concurrent: Mapped[int | None]  # queued or running at once, per participant
    primary_metric: Mapped[str] = mapped_column(String(64), default="auc")
    run_mode: Mapped[str] = mapped_column(String(16), default="batch")
    # Run limits, see lai_platform.runner.RunLimits.
    limits: Mapped[dict] = mapped_column(JSON, default=dict)
    image_max_bytes: Mapped[int] = mapped_column(BigInteger, default=8 * 2**30)
    # How the leaderboard ranks (see evaluator.rank_methods) and which entries it shows.
    ranking_method: Mapped[str] = mapped_column(String(32), default="score")
    ranking_metrics: Mapped[list] = mapped_column(JSON, default=list)  # for mean/median rank
    ranking_alpha: Mapped[float] = mapped_column(default=0.05)  # for test-then-rank
    display_mode: Mapped[str] = mapped_column(String(16), default="all")  # all | best | latest
    # Kaggle-style split: while open, ranks use these cases; at close, the others decide.
    public_case_ids: Mapped[list | None] = mapped_column(JSON)
    # Final selection: each participant may mark up to this many submissions; at close only
    # those count for their private-part entry (None: off; none marked: as without it).
    final_selection_max: Mapped[int | None]
    # Per-centre, size-band and per-diagnosis results shown to submitters (test data hints).
    case_results_visible: Mapped[bool] = mapped_column(default=False)
    # An organizer's evaluation image (None: the built-in evaluator).
    evaluation_image_id: Mapped[str | None] = mapped_column(String(80))
    evaluation_image_key: Mapped[str | None] = mapped_column(String(512))
    # What the stored ranks were computed on ("all", "public" or "private"), and the
    # phase-wide rank-stability summary (Kendall's tau over bootstrap resamples).
    ranked_on: Mapped[str | None] = mapped_column(String(16))
    rank_stability: Mapped[dict | None] = mapped_column(JSON)
    # Ranking is a job of its own: a request marks the phase, a ranking covers every request
    # made before it started (so a burst of results gives one recompute).
    rank_requested_at: Mapped[datetime | None]
    ranked_at: Mapped[datetime | None]
    # Bumped by every ranking: leaderboard pages are cached per version (and its ETag).
    ranks_version: Mapped[int] = mapped_column(default=0)
    shown_count: Mapped[int] = mapped_column(default=0)  # entries on the leaderboard

    challenge: Mapped[Challenge] = relationship(back_populates="phases")
    dataset: Mapped[Dataset | None] = relationship()

    @property
    def has_public_split(self) -> bool:
        return bool(self.public_case_ids)

    @property
    def final_selection_on(self) -> bool:
        """Participants choose which submissions count at close (on the private part)."""
        return bool(self.final_selection_max) and self.has_public_split

    def is_open(self, now: datetime) -> bool:
        if self.opens_at is not None and now < self.opens_at:
            return False
        return self.closes_at is None or now < self.closes_at
