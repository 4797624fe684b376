"""Operations tests: the pipeline with a fake executor, as in tests/pipeline."""

from __future__ import annotations

import pytest

from tests.fakes import FakeExecutor


@pytest.fixture
def executor_factory(fake: FakeExecutor):
    return lambda: fake


def submit(person, image, phase: str = "development") -> int:
    response = person.submit(image, phase=phase)
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]
