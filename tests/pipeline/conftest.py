"""The pipeline with a fake executor: Ada has joined the demo challenge, whose development
phase has no daily limit, and has a (synthetic) image to submit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docker_images import synthetic_image, write_tarball
from tests.fakes import FakeExecutor


@pytest.fixture
def fake() -> FakeExecutor:
    return FakeExecutor()


@pytest.fixture
def executor_factory(fake):
    return lambda: fake


@pytest.fixture
def image(tmp_path) -> Path:
    return write_tarball(tmp_path / "algorithm.tar", synthetic_image()[0])


@pytest.fixture
def ada(demo_platform):
    demo_platform.set_phase("development", submissions_per_day=None)
    person = demo_platform.participant("ada@example.org")
    person.join()
    return person
