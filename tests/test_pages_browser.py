"""Pages people read, in Chromium at 1280 px and at a 390 px phone width: the leaderboard
scrolls inside its card with rank and name in view, the home and challenge pages fit, and
a queued submission's page follows its run without a reload. Screenshots go to the test's
tmp folder and to $LAI_SCREENSHOTS if set (leaderboard-1280.png, leaderboard-390.png,
leaderboard-*-scrolled.png, home-*.png, challenge-*.png)."""

from __future__ import annotations

import pytest

from lai_platform.extensions import db
from lai_platform.models import Submission
from tests.browsers import screenshot, serving
from tests.story import PASSWORD, perfect, record_scored_submission

pytestmark = [pytest.mark.browser]
WIDTHS = (1280, 390)


@pytest.fixture
def executor_factory(fake):
    return lambda: fake


@pytest.fixture
def board(demo_platform):
    for name in ("ada", "bob", "carol-with-a-rather-long-team-name", "base"):
        demo_platform.participant(f"{name}@example.org").join()
    record_scored_submission(demo_platform, "base@example.org", "development", _half,
                             baseline=True)
    for name in ("ada", "bob", "carol-with-a-rather-long-team-name"):
        record_scored_submission(demo_platform, f"{name}@example.org", "development", perfect)
    with serving(demo_platform.app) as url:
        yield url


def _half(truth) -> dict:
    return {"predictions": [
        {"case_id": c, truth.probability_key: 0.5,
         "diagnosis_probabilities": {label: 1 / len(truth.classes) for label in truth.classes}}
        for c in truth.case_ids
    ]}


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_leaderboard_scrolls_inside_its_card(board, browser, tmp_path, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{board}/challenges/lai-liver/phases/development/leaderboard")
    screenshot(page, tmp_path / f"leaderboard-{width}.png")
    card, scroll = box(page, "section.card.board"), box(page, "#board-scroll")
    assert scroll["x"] >= card["x"] and scroll["x"] + scroll["width"] <= card["x"] + card["width"]
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    for cell in ("td.rank", "td.name", "th.rank", "th.name"):
        assert page.locator(f"table.leaderboard {cell}").first.evaluate(
            "e => getComputedStyle(e).position") == "sticky"
    # Scrolled all the way right, rank and name are still inside the card's view.
    page.locator("#board-scroll").evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    rank, name = box(page, "table.leaderboard td.rank"), box(page, "table.leaderboard td.name")
    assert scroll["x"] <= rank["x"] and rank["x"] + rank["width"] <= name["x"] + 1
    assert name["x"] + name["width"] <= scroll["x"] + scroll["width"]
    screenshot(page, tmp_path / f"leaderboard-{width}-scrolled.png")


@pytest.mark.parametrize("width", WIDTHS)
def test_home_and_challenge_pages_fit(board, browser, tmp_path, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(board + "/")
    screenshot(page, tmp_path / f"home-{width}.png")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert page.locator("article.challenge .phases li").count() == 2
    assert "4 participants" in page.locator("article.challenge").inner_text()
    page.goto(board + "/challenges/lai-liver")
    screenshot(page, tmp_path / f"challenge-{width}.png")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert page.locator("#next-step").get_attribute("data-step") == "sign_in"


def test_a_queued_submission_page_updates_without_reloading(demo_platform, ada, image,
                                                             browser):
    sub = ada.submit(image).get_json()["id"]
    with serving(demo_platform.app) as url:
        page = browser.new_page()
        page.goto(f"{url}/auth/login")
        page.fill("input[name=email]", "ada@example.org")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.goto(f"{url}/submissions/{sub}")
        assert page.locator("#queue-position").inner_text() == "0"
        page.evaluate("window.sameDocument = true")
        _set_status(demo_platform, sub, "running")
        page.wait_for_selector("h1 .status-running", timeout=30_000)
        assert page.evaluate("window.sameDocument === true")  # updated in place
        assert page.locator("#queue-place").is_hidden()
        _set_status(demo_platform, sub, "queued")
        demo_platform.run_queued()
        page.wait_for_selector("h1 .status-succeeded", timeout=30_000)
        assert "Scores on" in page.content()  # reloaded once when it ended
        assert page.locator("#live").count() == 0


def _set_status(platform, submission_id: int, status: str) -> None:
    with platform.app.app_context():
        db.session.get(Submission, submission_id).status = status
        db.session.commit()
