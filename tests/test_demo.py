"""`make demo`'s own steps: load the demo, submit the baseline and the template, run them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.docker


def test_demo_prepare_then_serve(platform):
    runner = platform.app.test_cli_runner()
    first = runner.invoke(args=["demo", "prepare"])
    assert first.exit_code == 0, first.output
    assert "LAI baseline submitted as #1" in first.output
    again = runner.invoke(args=["demo", "prepare"])  # idempotent
    assert "already submitted" in again.output

    platform.start_workers()  # what `python app.py` does on start
    visitor = platform.participant("org@example.org", organizer=True)
    assert visitor.wait_for(2, timeout=600)["status"] == "succeeded"
    board = visitor.leaderboard()
    baseline = next(e for e in board["entries"] if e["is_baseline"])
    assert 0.65 < baseline["metrics"]["auc"]["value"] < 1.0
    assert baseline["metrics"]["auc"]["ci_low"] < baseline["metrics"]["auc"]["ci_high"]
    assert baseline["rank_interval"] is not None
