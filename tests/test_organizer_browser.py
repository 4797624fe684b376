"""An organizer's whole path in a real browser (Chromium via Playwright), on an empty
platform: a platform admin creates a challenge and names its organizer; the organizer, in the
browser only, opens it for review, sets up two phases, uploads both datasets, approves one
participant and rejects another; the approved one submits; the organizer disqualifies a
submission, exports the leaderboard as CSV, publishes the final leaderboard; the audit log
lists every step. Screenshots go to the test's folder (and to $LAI_SCREENSHOTS if set)."""

from __future__ import annotations

import csv
import io
import tarfile
from pathlib import Path

import pytest

from lai_platform.accounts.users import create_user
from lai_platform.extensions import db
from tests.browsers import screenshot, serving
from tests.docker_images import build_test_image, save_image
from tests.story import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.docker]

SLUG = "liver-review"
AUDITED = ["challenge.create", "role.set", "challenge.edit", "phase.create", "dataset.upload",
           "dataset.attach", "participant.approve", "participant.reject",
           "submission.disqualify", "leaderboard.export", "leaderboard.publish"]


@pytest.fixture
def server(platform):
    with platform.app.app_context():
        create_user("admin@example.org", PASSWORD, "Platform admin", admin=True)
        db.session.commit()
    platform.start_workers()
    with serving(platform.app) as url:
        yield url


class Screens:
    """Numbered screenshots, in the order taken."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def shot(self, page, name: str) -> None:
        self.count += 1
        screenshot(page, self.folder / f"{self.count:02d}-{name}.png")


def person(browser, server: str, email: str, register: bool = True):
    page = browser.new_context(accept_downloads=True).new_page()
    if register:
        page.goto(f"{server}/auth/register")
        page.fill("input[name=email]", email)
        page.fill("input[name=display_name]", email.split("@")[0])
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
    page.goto(f"{server}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    return page


def split_files(bundle: Path, split: str, folder: Path) -> tuple[Path, Path]:
    """The inputs archive and ground-truth CSV an organizer would upload for a split."""
    source = bundle / "data" / split
    archive = folder / f"{split}-inputs.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted((source / "inputs").rglob("*")):
            tar.add(path, arcname=str(path.relative_to(source / "inputs")), recursive=False)
    return archive, source / "ground_truth.csv"


def flash(page) -> str:
    return " ".join(page.locator(".flash").all_inner_texts())


def test_an_organizer_runs_a_challenge_from_the_browser(server, browser, demo_bundle,
                                                        tmp_path):
    screens = Screens(tmp_path)
    organizer = person(browser, server, "org@example.org")

    # A platform admin creates the challenge and names its first admin.
    admin = person(browser, server, "admin@example.org", register=False)
    admin.goto(f"{server}/organize/new")
    admin.fill("#new-challenge input[name=slug]", SLUG)
    admin.fill("#new-challenge input[name=title]", "Liver lesions, reviewed access")
    admin.fill("#new-challenge input[name=first_admin]", "org@example.org")
    admin.click("#new-challenge button[type=submit]")
    screens.shot(admin, "admin-created-challenge")

    # The organizer: review access, two phases.
    organizer.goto(f"{server}/organize/")
    organizer.click(f"a[href='/organize/{SLUG}/']")
    organizer.goto(f"{server}/organize/{SLUG}/settings")
    organizer.select_option("#settings select[name=access]", "review")
    organizer.fill("#settings textarea[name=terms]", "Use the data for this challenge only.")
    organizer.click("#settings button[value=save]")
    assert "review" in organizer.locator("#settings select[name=access]").input_value()
    screens.shot(organizer, "settings-review-access")
    for slug, title in (("development", "Development"), ("final-test", "Final test")):
        organizer.goto(f"{server}/organize/{SLUG}/phases")
        organizer.fill("#new-phase input[name=slug]", slug)
        organizer.fill("#new-phase input[name=title]", title)
        organizer.click("#new-phase button[type=submit]")
    organizer.goto(f"{server}/organize/{SLUG}/phases")
    assert "final-test" in organizer.content() and "development" in organizer.content()
    screens.shot(organizer, "two-phases")

    # Both datasets, uploaded and attached.
    for split, phase_title in (("validation", "Development"), ("test", "Final test")):
        inputs, truth = split_files(demo_bundle, split, tmp_path)
        organizer.goto(f"{server}/organize/{SLUG}/datasets")
        organizer.fill("#upload-dataset input[name=name]", split)
        organizer.set_input_files("#upload-dataset input[name=inputs]", str(inputs))
        organizer.set_input_files("#upload-dataset input[name=ground_truth]", str(truth))
        organizer.click("#upload-dataset button[type=submit]")
        organizer.wait_for_selector("#datasets")
        assert "#refused" not in organizer.content()
        organizer.goto(f"{server}/organize/{SLUG}/datasets")
        select = organizer.locator(f"select[aria-label='Dataset for {phase_title}']")
        select.select_option(label=f"{split} v1")
        select.locator("xpath=..").locator("button").click()
    organizer.goto(f"{server}/organize/{SLUG}/datasets")
    assert "none: the phase takes no submission" not in organizer.content()
    screens.shot(organizer, "datasets-attached")

    # Two researchers ask to join; one is approved, one rejected with a reason.
    researchers = {}
    for email in ("ada@example.org", "bob@example.org"):
        page = person(browser, server, email)
        page.goto(f"{server}/challenges/{SLUG}")
        page.check("input[name=accept_terms]")
        page.click("text=Join the challenge")
        assert "waiting for the organizers' approval" in flash(page)
        researchers[email] = page
    organizer.goto(f"{server}/organize/{SLUG}/participants")
    organizer.locator("tr", has_text="ada@example.org").locator(
        "form[action$='/approve'] button").click()
    bob = organizer.locator("tr", has_text="bob@example.org")
    bob.locator("form[action$='/reject'] input[name=reason]").fill(
        "No signed data-use agreement yet.")
    bob.locator("form[action$='/reject'] button").click()
    organizer.goto(f"{server}/organize/{SLUG}/participants")
    assert organizer.locator("tr", has_text="ada@example.org").get_attribute(
        "data-status") == "approved"
    screens.shot(organizer, "participants-decided")
    researchers["bob@example.org"].goto(f"{server}/challenges/{SLUG}")
    assert "No signed data-use agreement yet." in researchers["bob@example.org"].content()

    # The approved researcher submits twice.
    ada = researchers["ada@example.org"]
    tarball = save_image(build_test_image("ok"), tmp_path / "algorithm.tar")
    for _ in range(2):
        ada.goto(f"{server}/challenges/{SLUG}/phases/development/submit")
        ada.set_input_files("input[name=image]", str(tarball))
        ada.click("#submit-form button[type=submit]")
        ada.wait_for_url("**/submissions/*")
        ada.wait_for_selector(".status-succeeded", timeout=180_000)
    disqualified = ada.url.rsplit("/", 1)[1]

    # The organizer disqualifies one; the researcher sees why.
    organizer.goto(f"{server}/organize/{SLUG}/submissions/{disqualified}")
    form = organizer.locator("form[action$='/disqualify']")
    form.locator("input[name=reason]").fill("Two accounts for one team.")
    form.locator("button").click()
    assert "disqualified" in organizer.locator("#moderation").inner_text()
    screens.shot(organizer, "submission-disqualified")
    ada.goto(f"{server}/submissions/{disqualified}")
    assert "Two accounts for one team." in ada.content()

    # Export the leaderboard as CSV, then publish the final leaderboard.
    organizer.goto(f"{server}/organize/{SLUG}/leaderboards")
    with organizer.expect_download() as download:
        organizer.locator("#leaderboard-development a", has_text="CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(rows) == 1 and rows[0]["submission_id"] != disqualified
    assert {"rank", "auc", "auc_ci_low", "auc_ci_high"} <= set(rows[0])
    section = organizer.locator("#leaderboard-development")
    section.locator("input[name=close_now]").check()
    section.locator("button", has_text="Publish the final leaderboard").click()
    organizer.goto(f"{server}/challenges/{SLUG}/phases/development/leaderboard")
    assert "This ranking is frozen" in organizer.locator("#final-leaderboard").inner_text()
    screens.shot(organizer, "final-leaderboard")

    # The audit log lists every step.
    organizer.goto(f"{server}/organize/{SLUG}/audit")
    actions = organizer.locator("#audit td.action").all_inner_texts()
    screens.shot(organizer, "audit-log")
    assert [a for a in AUDITED if a not in actions] == []
    assert actions.count("phase.create") == 2 and actions.count("dataset.upload") == 2
    assert actions.count("dataset.attach") == 2
