"""A platform served on loopback and a real Chromium for browser tests."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def screenshot(page, file: Path, selector: str | None = None) -> Path:
    """A full-page screenshot at FILE (or of the element SELECTOR names: one card of a long
    page), copied into $LAI_SCREENSHOTS too when that is set (to keep and look at after the
    test's tmp folder is gone)."""
    if selector:
        page.locator(selector).screenshot(path=str(file))
    else:
        page.screenshot(path=str(file), full_page=True)
    keep = os.environ.get("LAI_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(file, Path(keep) / file.name)
    return file


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app on a free loopback port, threaded like the embedded server; its base URL."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()


@contextmanager
def chromium():
    """A launched Chromium (skips the test where Playwright or Chromium is missing)."""
    playwright_sync = pytest.importorskip("playwright.sync_api")
    if not shutil.which("chromium"):
        pytest.skip("Chromium is not installed (make test installs it)")
    with playwright_sync.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser():
    """A launched Chromium for the test (see `chromium`)."""
    with chromium() as launched:
        yield launched
