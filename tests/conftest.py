"""Fixtures: an app per test on a fresh database (SQLite, or PostgreSQL in the DB matrix)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from lai_platform import create_app
from lai_platform.config import Settings
from tests.paths import ROOT
from tests.story import Platform

PG_ADMIN_URL = os.environ.get("LAI_TEST_PG_URL", "postgresql+psycopg://lai:lai@127.0.0.1:5432/")
SMALL_DEMO = {"seed": 0, "n_train": 120, "n_validation": 40, "n_test": 48}


def docker_available() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def pytest_collection_modifyitems(config, items):
    if docker_available():
        return
    skip = pytest.mark.skip(reason="Docker Engine not reachable (make test starts it)")
    for item in items:
        if "docker" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def demo_bundle(tmp_path_factory) -> Path:
    """The demo bundle with small synthetic data, generated once per test session."""
    import yaml

    bundle = tmp_path_factory.mktemp("bundle")
    for name in ("challenge.yaml", "CONTRACT.md", "generate.py"):
        if (ROOT / "examples/lai-liver" / name).exists():
            shutil.copy(ROOT / "examples/lai-liver" / name, bundle / name)
    for extra in (ROOT / "examples/lai-liver").glob("*.py"):
        shutil.copy(extra, bundle / extra.name)
    spec = yaml.safe_load((bundle / "challenge.yaml").read_text())
    spec["data"] = {"path": "data"}
    (bundle / "challenge.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    subprocess.run(
        [sys.executable, str(ROOT / "examples/lai-liver/generate.py"),
         "--out", str(bundle / "data"),
         *[f"--{k.replace('_', '-')}={v}" for k, v in SMALL_DEMO.items()]],
        check=True, capture_output=True,
    )
    return bundle


def _postgres_url() -> str:
    import sqlalchemy as sa

    name = f"lai_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(PG_ADMIN_URL + "postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return PG_ADMIN_URL + name


def _drop_postgres(url: str) -> None:
    import sqlalchemy as sa

    name = url.rsplit("/", 1)[1]
    engine = sa.create_engine(PG_ADMIN_URL + "postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def database_url(tmp_path) -> str:
    """SQLite by default; tests that take `platform_any_db` run on PostgreSQL too."""
    return f"sqlite:///{tmp_path / 'lai.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'lai.db'}"
        return
    url = _postgres_url()
    yield url
    _drop_postgres(url)


def make_settings(tmp_path: Path, database_url: str, **overrides) -> Settings:
    data_dir = tmp_path / "data"
    base = Settings.from_env(
        {"LAI_DATA_DIR": str(data_dir), "LAI_DATABASE_URL": database_url,
         "LAI_SECRET_KEY": "test-secret", "LAI_BOOTSTRAP_RESAMPLES": "200"}
    )
    return replace(base, **overrides)


def build_platform(settings: Settings) -> Platform:
    from flask_migrate import upgrade

    app = create_app(settings)
    app.config["TESTING"] = True
    with app.app_context():
        upgrade()
    return Platform(app)


@pytest.fixture
def platform(tmp_path, database_url):
    plat = build_platform(make_settings(tmp_path, database_url))
    yield plat
    plat.close()


@pytest.fixture
def platform_any_db(tmp_path, any_database):
    plat = build_platform(make_settings(tmp_path, any_database))
    yield plat
    plat.close()
