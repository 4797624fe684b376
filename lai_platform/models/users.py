"""Accounts and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from lai_platform.extensions import db
from lai_platform.models._time import utcnow

TOKEN_PREFIX = "lai_"


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Platform admins create challenges and grant roles; organizers hold roles per challenge
    # (lai_platform.challenges.roles).
    is_admin: Mapped[bool] = mapped_column(default=False)
    # A browser session holds the epoch it was made in; bumping it ends every session.
    session_epoch: Mapped[int] = mapped_column(default=0)
    # Opted in on the account page: an e-mail when one of their runs ends (if SMTP is set).
    notify_on_finish: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class ApiToken(db.Model):
    """Only a SHA-256 of the token is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(back_populates="tokens")

    @staticmethod
    def hash(token: str) -> str:
        # Tokens are 256-bit random values: a plain hash is enough, no slow KDF needed.
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, label: str = "") -> tuple[ApiToken, str]:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        return cls(user=user, token_hash=cls.hash(token), label=label), token
