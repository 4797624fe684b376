"""The pipeline with a fake executor: Ada has joined the demo challenge, whose development
phase has no daily limit, and has a (synthetic) image to submit."""

from __future__ import annotations

import pytest

from tests.fakes import FakeExecutor


@pytest.fixture
def executor_factory(fake: FakeExecutor):
    return lambda: fake
