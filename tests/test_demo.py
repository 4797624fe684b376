"""`make demo`'s own steps: load the demo, submit the baseline and the template, run them."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.docker


def test_demo_prepare_then_serve(platform):
    runner = platform.app.test_cli_runner()
    first = runner.invoke(args=["demo", "prepare"])
    assert first.exit_code == 0, first.output
    submitted = dict(re.findall(r"^(.+) submitted as #(\d+)$", first.output, re.MULTILINE))
    assert set(submitted) == {"LAI baseline", "Template algorithm"}
    again = runner.invoke(args=["demo", "prepare"])  # idempotent
    assert again.output.count("already submitted") == 2
    for name, number in submitted.items():
        assert f"{name} already submitted (#{number}," in again.output

    platform.start_workers()  # what `python app.py` does on start
    visitor = platform.organizer("org@example.org", "lai-liver")
    for number in submitted.values():
        assert visitor.wait_for(int(number), timeout=600)["status"] == "succeeded"
    board = visitor.leaderboard()
    baseline = next(e for e in board["entries"] if e["is_baseline"])
    assert 0.65 < baseline["metrics"]["auc"]["value"] < 1.0
    assert baseline["metrics"]["auc"]["ci_low"] < baseline["metrics"]["auc"]["ci_high"]
    assert baseline["rank_interval"] is not None
