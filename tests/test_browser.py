"""A researcher in a real browser (Chromium via Playwright): register, join, download,
submit with the upload form, and find the run scored on the leaderboard with its CIs."""

from __future__ import annotations

import pytest

from tests.browsers import chromium, serving
from tests.docker_images import build_test_image, save_image
from tests.story import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.docker]


@pytest.fixture
def server(demo_platform):
    demo_platform.start_workers()
    with serving(demo_platform.app) as url:
        yield url


@pytest.fixture
def page():
    with chromium() as browser:
        yield browser.new_context(accept_downloads=True).new_page()


def test_researcher_takes_part_from_the_browser(server, page, tmp_path):
    tarball = save_image(build_test_image("ok"), tmp_path / "algorithm.tar")

    page.goto(f"{server}/auth/register")
    page.fill("input[name=email]", "ada@example.org")
    page.fill("input[name=display_name]", "Team Ada")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    assert "log in with your password" in page.locator(".flash.success").inner_text()
    page.fill("input[name=email]", "ada@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    assert "Team Ada" in page.locator("header").inner_text()

    page.goto(f"{server}/challenges/lai-liver")
    assert "HCC" in page.content()
    page.check("input[name=accept_terms]")
    page.click("text=Join the challenge")
    assert "You have joined" in page.locator(".flash").inner_text()

    with page.expect_download() as download:
        page.click("text=Download the training set")
    assert download.value.suggested_filename == "lai-liver-training.tar"

    page.goto(f"{server}/challenges/lai-liver/phases/development/submit")
    page.set_input_files("input[name=image]", str(tarball))
    page.fill("input[name=comment]", "constant baseline")
    page.click("#submit-form button[type=submit]")
    page.wait_for_url("**/submissions/*")
    page.wait_for_selector(".status-succeeded", timeout=120_000)
    assert "Scores on" in page.content()

    page.goto(f"{server}/challenges/lai-liver/phases/development/leaderboard")
    row = page.locator("table.leaderboard tbody tr").first
    assert row.locator(".rank").inner_text() == "1"
    assert "Team Ada" in row.inner_text()
    assert row.locator(".ci").first.inner_text().startswith("[")
    page.screenshot(path=str(tmp_path / "leaderboard.png"), full_page=True)
