"""The pipeline with a fake executor: Ada has joined the demo challenge, whose development
phase has no daily limit, and has a (synthetic) image to submit."""

from __future__ import annotations

import pytest

from tests.fakes import FakeExecutor


@pytest.fixture
def executor_factory(fake: FakeExecutor):
    return lambda: fake


@pytest.fixture
def ada(demo_platform):
    demo_platform.set_phase("development", submissions_per_day=None)
    person = demo_platform.participant("ada@example.org")
    person.join()
    return person
