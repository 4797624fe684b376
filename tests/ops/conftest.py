"""Operations tests: the pipeline with a fake executor, as in tests/pipeline."""

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


def submit(person, image, phase: str = "development") -> int:
    response = person.submit(image, phase=phase)
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]
