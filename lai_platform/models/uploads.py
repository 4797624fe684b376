"""Resumable uploads: an image sent in chunks, each stored as a part as it arrives."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lai_platform.extensions import db
from lai_platform.models._time import utcnow


class UploadStatus:
    RECEIVING = "receiving"
    FINISHING = "finishing"  # every byte in; being assembled, checked and registered
    COMPLETE = "complete"  # a submission was made of it
    FAILED = "failed"  # the image was refused: `error_code` and `error_message` say why
    ABORTED = "aborted"  # cancelled by its owner, or expired


class Upload(db.Model):
    """One resumable upload of a submission's image. Its id is a random token; only its
    owner may use it. `offset` counts the bytes stored (whole chunks only)."""

    __tablename__ = "uploads"
    __table_args__ = (Index("ix_uploads_user_status", "user_id", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"))
    size: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    chunk_bytes: Mapped[int] = mapped_column(BigInteger)
    # Every body byte read for it, re-sent ones included (what a dropped connection cost).
    bytes_received: Mapped[int] = mapped_column(BigInteger, default=0)
    storage_key: Mapped[str] = mapped_column(String(512))
    storage_handle: Mapped[str] = mapped_column(String(1024))  # the store's multipart id
    sha256: Mapped[str | None] = mapped_column(String(64))  # as declared by the client
    filename: Mapped[str] = mapped_column(String(255), default="")
    comment: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default=UploadStatus.RECEIVING)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    phase = relationship("Phase")
    user = relationship("User")
