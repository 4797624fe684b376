"""The Celery worker processes a deployment has: what they serve and when each was last seen.

A worker writes its own row at start and every few seconds after (ops.workers); the web reads
it to tell a participant that a GPU run waits for a GPU worker, and the reaper to give up on
one after LAI_GPU_WAIT_S with no GPU worker at all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lai_platform.extensions import db
from lai_platform.models._time import utcnow


class Worker(db.Model):
    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    queues: Mapped[list] = mapped_column(JSON, default=list)  # those it consumes
    gpu_capable: Mapped[bool] = mapped_column(default=False)
    # Why it does (or does not) serve the gpu queue, from its start-up probe.
    gpu_reason: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow, index=True)
