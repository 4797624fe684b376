"""Every schema change is a migration: upgraded databases match the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lai_platform.extensions import db


def test_migrations_match_the_models(platform_any_db):
    with platform_any_db.app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []
