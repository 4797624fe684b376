"""Row locks that work the same on PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from lai_platform.extensions import db


def lock_rows(model: type, *conditions: Any) -> int:
    """Take the write lock of the matching rows for the rest of this transaction; how many.

    An UPDATE that sets the primary key to itself changes nothing but locks: PostgreSQL locks
    the rows, SQLite the database. Concurrent writers then queue here, one at a time, and read
    afresh what the one before them left."""
    key = model.__table__.primary_key.columns.values()[0]
    return db.session.execute(
        update(model).where(*conditions).values({key.name: key})
        .execution_options(synchronize_session=False)
    ).rowcount
