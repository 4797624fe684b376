"""An organizer's evaluation image scores a phase's submissions, end to end."""

from __future__ import annotations

import pytest

from tests.docker_images import build_test_image, save_image

pytestmark = pytest.mark.docker


@pytest.fixture
def phase_with_evaluator(demo_platform, tmp_path):
    platform = demo_platform
    platform.start_workers()
    ada = platform.participant()
    ada.join()

    def use(image: str):
        tarball = save_image(build_test_image(image), tmp_path / f"{image}.tar")
        result = platform.app.test_cli_runner().invoke(
            args=["phases", "set-evaluator", "lai-liver", "development", str(tarball)]
        )
        assert result.exit_code == 0, result.output
        return save_image(build_test_image("ok"), tmp_path / "ok.tar")

    return platform, ada, use


def test_the_organizers_image_computes_the_scores(phase_with_evaluator):
    platform, ada, use = phase_with_evaluator
    submission = use("evaluator_ok")
    sub = ada.wait_for(ada.submit(submission).get_json()["id"], timeout=120)
    assert sub["status"] == "succeeded", sub
    metrics = sub["metrics"]["metrics"]
    assert metrics["auc"]["value"] == 0.75
    assert metrics["custom_score"] == {"value": 0.5, "ci_low": 0.4, "ci_high": 0.6,
                                       "n_resamples": None, "undefined": None}
    # It ran hardened: read-only inputs of exactly two files, no network, not root.
    assert metrics["input_read_only"]["value"] == 1 and metrics["input_files"]["value"] == 2
    assert metrics["no_network"]["value"] == 1 and metrics["uid"]["value"] == 65534
    assert sub["metrics"]["evaluated_by"] == "container"
    assert sub["rank"] == 1


def test_a_failing_evaluation_is_not_the_participants_fault(phase_with_evaluator):
    platform, ada, use = phase_with_evaluator
    submission = use("evaluator_fail")
    sub = ada.wait_for(ada.submit(submission).get_json()["id"], timeout=120)
    assert sub["status"] == "failed"
    assert sub["failure_reason"] == "evaluation_failed"
    assert sub["counts_against_quota"] is False
    assert "organizers" in sub["failure_message"]


def test_invalid_predictions_fail_before_the_organizers_image_runs(phase_with_evaluator, tmp_path):
    platform, ada, use = phase_with_evaluator
    use("evaluator_ok")
    malformed = save_image(build_test_image("malformed"), tmp_path / "malformed.tar")
    sub = ada.wait_for(ada.submit(malformed).get_json()["id"], timeout=120)
    assert sub["failure_reason"] == "invalid_output" and sub["counts_against_quota"] is True


def test_configure_phase_from_the_command_line(demo_platform):
    platform = demo_platform
    runner = platform.app.test_cli_runner()
    ok = runner.invoke(args=["phases", "configure", "lai-liver", "development", "--ranking",
                             "mean_rank", "--metrics", "auc,macro_f1", "--display", "best"])
    assert ok.exit_code == 0, ok.output
    board = platform.anonymous().leaderboard()
    assert board["ranking"]["method"] == "mean_rank" and board["display"] == "best"
    bad = runner.invoke(args=["phases", "configure", "lai-liver", "development", "--ranking",
                              "vibes"])
    assert bad.exit_code != 0 and "not one of" in bad.output
    bad = runner.invoke(args=["phases", "configure", "lai-liver", "development", "--ranking",
                              "case_rank", "--metrics", "auc"])
    assert bad.exit_code != 0 and "per-case metric" in bad.output
