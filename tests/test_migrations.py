"""Every schema change is a migration: upgraded databases match the models exactly."""

import json

import numpy as np
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from lai_platform import create_app
from lai_platform.extensions import db
from lai_platform.models import Phase, Result
from lai_platform.scoring.vectors import StoredVectors
from tests.conftest import make_settings


def test_migrations_match_the_models(platform_any_db):
    with platform_any_db.app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_results_scored_before_the_split_keep_their_vectors(tmp_path):
    """0003 moves resampled and per-case vectors out of the result rows: what ranking read
    before reads the same after."""
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'old.db'}")
    app = create_app(settings)
    with app.app_context():
        upgrade(revision="d73e98658116")
        now = "2026-11-30 12:00:00"
        rows = [
            "INSERT INTO users (id, email, display_name, password_hash, is_organizer, is_admin,"
            f" created_at) VALUES (1, 'a@x.org', 'a', 'x', 0, 0, '{now}')",
            f"INSERT INTO challenges (id, slug, title, summary, description_md, terms_md, "
            f"contract_md, access, created_at, training_centres) VALUES (1, 'c', 'C', '', '', "
            f"'', '', 'open', '{now}', '[]')",
            f"INSERT INTO datasets (id, challenge_id, name, inputs_key, ground_truth_key, "
            f"sha256, n_cases, created_at) VALUES (1, 1, 'd', 'i', 'g', 's', 3, '{now}')",
            "INSERT INTO phases (id, challenge_id, slug, title, description_md, position, "
            "dataset_id, logs_visible, primary_metric, run_mode, limits, image_max_bytes) "
            "VALUES (1, 1, 'p', 'P', '', 0, 1, 0, 'auc', 'batch', '{}', 1000)",
            f"INSERT INTO container_images (id, user_id, image_id, storage_key, size_bytes, "
            f"architecture, repo_tags, created_at) VALUES (1, 1, 'i', 'k', 1, 'amd64', '[]', "
            f"'{now}')",
            f"INSERT INTO submissions (id, phase_id, user_id, image_id, comment, status, "
            f"counts_against_quota, attempts, created_at) VALUES (1, 1, 1, 1, '', "
            f"'succeeded', 1, 1, '{now}')",
        ]
        for statement in rows:
            db.session.execute(sa.text(statement))
        db.session.execute(sa.text(
            "INSERT INTO results (submission_id, phase_id, metrics, primary_score, rank, "
            "created_at, resampled, case_scores, curves, shown) VALUES (1, 1, :m, 0.75, 1, "
            ":t, :r, :c, :curves, 1)"),
            {"m": json.dumps({"metrics": {"auc": {"value": 0.75}}}), "t": now,
             "r": json.dumps({"all": {"auc": [0.5, None, 0.875]}}),
             "c": json.dumps({"all": {"brier": [0.25, 0.5, 0.0]}}),
             "curves": json.dumps({"all": {"roc": {}}})})
        db.session.commit()
        upgrade()
        result = db.session.get(Result, 1)
        assert result.part_values == {"all": {"auc": 0.75}}
        vectors = StoredVectors(result.detail.vectors)
        np.testing.assert_array_equal(vectors.get("resampled", "all", "auc"),
                                      [0.5, np.nan, 0.875])
        np.testing.assert_array_equal(vectors.get("case", "all", "brier"), [0.25, 0.5, 0.0])
        assert result.detail.curves == {"all": {"roc": {}}}
        assert db.session.get(Phase, 1).rank_requested_at is not None  # ranked again soon


def test_global_organizers_become_admins_of_every_challenge(tmp_path):
    """0005 replaces users.is_organizer with roles: each organizer becomes an admin of every
    challenge that exists; a plain account gets no role; results learn their dataset."""
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'old.db'}")
    app = create_app(settings)
    with app.app_context():
        upgrade(revision="9a41c7e2b3d5")
        now = "2026-12-01 12:00:00"
        for user_id, organizer in ((1, 1), (2, 0)):
            db.session.execute(sa.text(
                "INSERT INTO users (id, email, display_name, password_hash, is_organizer, "
                f"is_admin, created_at, session_epoch) VALUES ({user_id}, 'u{user_id}@x.org', "
                f"'u', 'x', {organizer}, 0, '{now}', 0)"))
        for challenge_id in (1, 2):
            db.session.execute(sa.text(
                "INSERT INTO challenges (id, slug, title, summary, description_md, terms_md, "
                f"contract_md, access, created_at, training_centres) VALUES ({challenge_id}, "
                f"'c{challenge_id}', 'C', '', '', '', '', 'open', '{now}', '[]')"))
        db.session.commit()
        upgrade()
        roles = db.session.execute(sa.text(
            "SELECT user_id, challenge_id, role FROM challenge_roles ORDER BY challenge_id"
        )).all()
        assert [tuple(r) for r in roles] == [(1, 1, "admin"), (1, 2, "admin")]
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("users")}
        assert "is_organizer" not in columns
