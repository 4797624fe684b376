"""Fixtures for runs through the real pipeline with a fake executor (no Docker): `fake` and
`image` for every test (a plugin of tests/conftest.py); a module switches the platform to the
fake by overriding `executor_factory` with `lambda: fake`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docker_images import synthetic_image, write_tarball
from tests.fakes import FakeExecutor


@pytest.fixture
def fake() -> FakeExecutor:
    return FakeExecutor()


@pytest.fixture
def image(tmp_path) -> Path:
    return write_tarball(tmp_path / "algorithm.tar", synthetic_image()[0])


@pytest.fixture
def ada(demo_platform):
    """Ada has joined the demo challenge, whose development phase has no daily limit."""
    demo_platform.set_phase("development", submissions_per_day=None)
    person = demo_platform.participant("ada@example.org")
    person.join()
    return person
