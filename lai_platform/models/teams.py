"""Teams: participants of one challenge who submit together and rank as one entry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lai_platform.extensions import db
from lai_platform.models._time import utcnow


class Team(db.Model):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("challenge_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The invite link's secret: whoever holds it may join (while the team has room).
    invite_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Touched on every submission and team change: its write lock serializes the members'
    # uploads and marks, so the shared quotas hold under concurrency.
    last_submission_at: Mapped[datetime | None]

    challenge = relationship("Challenge")
    members: Mapped[list[TeamMember]] = relationship(
        back_populates="team", order_by="TeamMember.joined_at"
    )


class TeamMember(db.Model):
    __tablename__ = "team_members"
    # One team per person per challenge.
    __table_args__ = (UniqueConstraint("challenge_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team] = relationship(back_populates="members")
    user = relationship("User")
