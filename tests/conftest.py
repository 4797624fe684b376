"""Fixtures: a platform per test on its own database (SQLite, or PostgreSQL in the DB matrix).

Databases are migrated once per session into templates and copied per test: empty, or with
the demo challenge loaded (its stored files are hard-linked; storage never rewrites a file in
place). Tests that override `executor_factory` run their pipeline with a fake executor.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from flask_migrate import upgrade

from lai_platform import create_app
from lai_platform.config import Settings
from lai_platform.runner import DockerExecutor, Executor
from tests.paths import DEMO_BUNDLE
from tests.story import Platform

pytest_plugins = ["tests.fake_pipeline", "tests.browsers", "tests.net"]

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
    bundle = tmp_path_factory.mktemp("bundle")
    for source in DEMO_BUNDLE.iterdir():
        if source.is_file():
            shutil.copy(source, bundle / source.name)
    spec = yaml.safe_load((bundle / "challenge.yaml").read_text())
    spec["data"] = {"path": "data"}
    (bundle / "challenge.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    subprocess.run(
        [sys.executable, str(DEMO_BUNDLE / "generate.py"), "--out", str(bundle / "data"),
         *[f"--{k.replace('_', '-')}={v}" for k, v in SMALL_DEMO.items()]],
        check=True, capture_output=True,
    )
    return bundle


def make_settings(tmp_path: Path, database_url: str, **overrides) -> Settings:
    data_dir = tmp_path / "data"
    base = Settings.from_env(
        {"LAI_DATA_DIR": str(data_dir), "LAI_DATABASE_URL": database_url,
         "LAI_SECRET_KEY": "test-secret", "LAI_BOOTSTRAP_RESAMPLES": "200",
         "LAI_LEADERBOARD_TTL_S": "0"}
    )
    return replace(base, **overrides)


def build_platform(
    settings: Settings,
    *,
    executor_factory: Callable[[], Executor] = DockerExecutor,
    migrate: bool = True,
) -> Platform:
    app = create_app(settings, executor_factory=executor_factory)
    app.config["TESTING"] = True
    if migrate:
        with app.app_context():
            upgrade()
    return Platform(app)


# -- databases ------------------------------------------------------------------------------


def _pg_admin(statement: str) -> None:
    engine = sa.create_engine(PG_ADMIN_URL + "postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(statement))
    engine.dispose()


class Templates:
    """Migrated databases (and the data folder beside them), built on first use."""

    def __init__(self, root: Path, demo_bundle: Path) -> None:
        self.root = root
        self.demo_bundle = demo_bundle
        self.made: dict[tuple[str, bool], tuple[str, Path]] = {}

    def template(self, kind: str, demo: bool) -> tuple[str, Path]:
        """(database URL, folder holding its data dir) of a template."""
        if (kind, demo) not in self.made:
            folder = self.root / f"{kind}-{'demo' if demo else 'empty'}"
            folder.mkdir()
            if kind == "sqlite":
                url = f"sqlite:///{folder / 'lai.db'}"
            else:
                name = f"lai_template_{uuid.uuid4().hex[:12]}"
                _pg_admin(f'CREATE DATABASE "{name}"')
                url = PG_ADMIN_URL + name
            platform = build_platform(make_settings(folder, url))
            if demo:
                platform.load_challenge(self.demo_bundle)
            platform.close()  # no connection may stay open on a PostgreSQL template
            self.made[kind, demo] = url, folder
        return self.made[kind, demo]

    def copy(self, kind: str, demo: bool, tmp_path: Path) -> str:
        """A fresh database for one test, with the template's stored files; its URL."""
        url, folder = self.template(kind, demo)
        if (folder / "data" / "storage").is_dir():
            shutil.copytree(folder / "data" / "storage", tmp_path / "data" / "storage",
                            copy_function=os.link)
        if kind == "sqlite":
            shutil.copyfile(folder / "lai.db", tmp_path / "lai.db")
            return f"sqlite:///{tmp_path / 'lai.db'}"
        name = f"lai_test_{uuid.uuid4().hex[:12]}"
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{url.rsplit("/", 1)[1]}"')
        return PG_ADMIN_URL + name

    def drop_all(self) -> None:
        for (kind, _demo), (url, _folder) in self.made.items():
            if kind == "postgresql":
                _pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture(scope="session")
def templates(tmp_path_factory, demo_bundle) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("templates"), demo_bundle)
    yield made
    made.drop_all()


def _database(templates: Templates, kind: str, demo: bool, tmp_path: Path) -> Iterator[str]:
    url = templates.copy(kind, demo, tmp_path)
    yield url
    if kind == "postgresql":
        _pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture
def database_url(templates, tmp_path) -> Iterator[str]:
    """A migrated, empty SQLite database of this test's own."""
    yield from _database(templates, "sqlite", False, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database(request, templates, tmp_path) -> Iterator[str]:
    """A migrated, empty database of this test's own, on SQLite and on PostgreSQL."""
    yield from _database(templates, request.param, False, tmp_path)


# -- platforms ------------------------------------------------------------------------------


@pytest.fixture
def executor_factory() -> Callable[[], Executor]:
    """The container executor the platform uses; a module overrides it with a fake."""
    return DockerExecutor


def _platform(tmp_path: Path, url: str, executor_factory) -> Iterator[Platform]:
    plat = build_platform(make_settings(tmp_path, url), executor_factory=executor_factory,
                          migrate=False)
    yield plat
    plat.close()


@pytest.fixture
def platform(tmp_path, database_url, executor_factory) -> Iterator[Platform]:
    yield from _platform(tmp_path, database_url, executor_factory)


@pytest.fixture
def platform_any_db(tmp_path, any_database, executor_factory) -> Iterator[Platform]:
    yield from _platform(tmp_path, any_database, executor_factory)


@pytest.fixture
def demo_platform(templates, tmp_path, executor_factory) -> Iterator[Platform]:
    """A platform with the (small) demo challenge loaded, on SQLite."""
    for url in _database(templates, "sqlite", True, tmp_path):
        yield from _platform(tmp_path, url, executor_factory)


@pytest.fixture(params=["sqlite", "postgresql"])
def demo_platform_any_db(request, templates, tmp_path, executor_factory) -> Iterator[Platform]:
    """A platform with the demo challenge loaded, on SQLite and on PostgreSQL."""
    for url in _database(templates, request.param, True, tmp_path):
        yield from _platform(tmp_path, url, executor_factory)
