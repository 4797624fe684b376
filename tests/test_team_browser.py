"""Two researchers make a team in Chromium: Ada creates it on the challenge page and passes
its invite link to Bob, who opens it on his phone and joins; Ada submits through the submit
page (which uploads in chunks); the leaderboard shows one row for the team, and Bob finds
Ada's submission among his own. Runs use the fake executor; everything else is real."""

from __future__ import annotations

import re

import pytest

from tests.browsers import screenshot, serving
from tests.docker_images import synthetic_image, write_tarball
from tests.story import PASSWORD

pytestmark = [pytest.mark.browser]
TEAM = "Hepatic Duo"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def executor_factory(fake):
    return lambda: fake


@pytest.fixture
def site(demo_platform):
    demo_platform.set_upload_chunk(4096)  # a small image still goes in several chunks
    demo_platform.set_phase("development", submissions_per_day=None)
    with serving(demo_platform.app) as url:
        yield url


def newcomer(browser, site: str, email: str, name: str, viewport: dict):
    """Someone new, in a browser context of their own: registers, logs in, joins the demo."""
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{site}/auth/register")
    page.fill("input[name=email]", email)
    page.fill("input[name=display_name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{site}/challenges/lai-liver")
    page.check("input[name=accept_terms]")
    page.click("text=Join the challenge")
    assert "You have joined" in page.locator(".flash").inner_text()
    return page


def test_two_researchers_make_a_team_and_submit_as_one(site, browser, demo_platform,
                                                        tmp_path):
    ada = newcomer(browser, site, "ada@example.org", "Ada", DESKTOP)
    bob = newcomer(browser, site, "bob@example.org", "Bob", PHONE)

    ada.fill("#team input[name=name]", TEAM)
    ada.click("#team button:has-text('Create a team')")
    assert f"Team '{TEAM}' created" in ada.locator(".flash").inner_text()
    invite = ada.input_value("#invite-link")
    assert re.fullmatch(rf"{re.escape(site)}/teams/join/[\w-]+", invite)

    bob.goto(invite)  # Bob got the link in a message and opens it on his phone
    assert f"Join the team {TEAM}" in bob.locator("h1").inner_text()
    assert "Members: Ada." in bob.content()
    screenshot(bob, tmp_path / "invite-390.png")
    bob.click(f"#team-join button:has-text('Join {TEAM}')")
    assert f"You have joined the team '{TEAM}'." in bob.locator(".flash").inner_text()

    ada.reload()  # Bob joined after Ada's page loaded; Bob is back on the challenge page
    for page in (ada, bob):
        card = page.locator("#team").inner_text()
        assert f"You are in the team {TEAM}" in card and "Members: Ada, Bob" in card
    screenshot(ada, tmp_path / "team-card-1280.png", "#team")
    screenshot(bob, tmp_path / "team-card-390.png", "#team")

    chunks = submit_through_the_page(ada, site, tmp_path)
    assert chunks > 1
    demo_platform.run_queued()

    ada.goto(f"{site}/challenges/lai-liver/phases/development/leaderboard")
    rows = ada.locator("table.leaderboard").first.locator("tbody tr:not(.baseline)")
    assert rows.count() == 1
    assert rows.first.locator(".name").inner_text() == TEAM
    assert "submitted by Ada" in rows.first.locator(".name").get_attribute("title")
    screenshot(ada, tmp_path / "leaderboard-team-1280.png")

    bob.goto(f"{site}/my/submissions")
    mine = bob.locator("tbody tr").first.inner_text()
    assert "Ada" in mine and f"(team {TEAM})" in mine and "succeeded" in mine


def submit_through_the_page(page, site: str, tmp_path) -> int:
    """Ada uploads an image with the submit page; the chunk requests it sent."""
    tarball = write_tarball(tmp_path / "algorithm.tar", synthetic_image()[0])
    chunks = []
    page.on("request", lambda r: chunks.append(r) if r.method == "PATCH" else None)
    page.goto(f"{site}/challenges/lai-liver/phases/development/submit")
    page.set_input_files("input[name=image]", str(tarball))
    page.click("#submit-form button[type=submit]")
    page.wait_for_url("**/submissions/*", timeout=60_000)
    return len(chunks)
