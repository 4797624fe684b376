"""What an attacker in the crowd tries on the web, and what they now get."""

from __future__ import annotations

import io
import os
import re
import stat
from dataclasses import replace

import pytest
from werkzeug.security import check_password_hash

from lai_platform import create_app
from lai_platform.accounts import users
from tests.conftest import make_settings
from tests.story import PASSWORD, Browser


@pytest.fixture
def grace(platform) -> Browser:
    browser = Browser(platform.app)
    browser.sign_up("grace@example.org", "Grace")
    return browser


@pytest.mark.parametrize("target, expected", [
    ("/%09/evil.example/", "/"),  # the browser drops the tab: //evil.example/
    ("/%5Cevil.example", "/"),  # a backslash reads as a slash
    ("//evil.example/", "/"),
    ("https://evil.example/", "/"),
    ("/%0D%0A/evil.example", "/"),
    ("/challenges/lai-liver?tab=1", "/challenges/lai-liver?tab=1"),
])
def test_login_sends_nobody_off_site(platform, grace, target, expected):
    grace.post_form("/", url="/auth/logout")
    response = grace.client.post(f"/auth/login?next={target}", data={
        "email": "grace@example.org", "password": PASSWORD,
        "csrf_token": grace.csrf("/auth/login")})
    assert response.status_code == 302 and response.headers["Location"] == expected


def test_a_failed_form_does_not_follow_a_foreign_referer(grace):
    response = grace.client.post("/challenges/nope/join", data={
        "csrf_token": grace.csrf("/"), "accept_terms": "yes"},
        headers={"Referer": "https://evil.example/phish"})
    assert response.status_code == 404
    assert "evil.example" not in response.headers.get("Location", "")


def test_guessing_a_password_is_throttled(platform, grace):
    grace.post_form("/", url="/auth/logout")
    attacker = Browser(platform.app)
    for _ in range(5):
        page = attacker.post_form("/auth/login", email="grace@example.org", password="guess" * 3)
        assert "Wrong e-mail or password" in page.get_data(as_text=True)
    page = attacker.post_form("/auth/login", email="grace@example.org", password=PASSWORD)
    assert re.search(r"try again in \d+ s", page.get_data(as_text=True))
    assert "Grace" not in page.get_data(as_text=True)  # even the right password waits
    other = Browser(platform.app)
    other.sign_up("hedy@example.org", "Hedy")  # another account is not locked out
    assert "Hedy" in other.client.get("/").get_data(as_text=True)


def test_an_unknown_address_costs_a_password_check_too(platform, monkeypatch):
    checked: list[str] = []

    def spy(hashed: str, password: str) -> bool:
        checked.append(password)
        return check_password_hash(hashed, password)

    monkeypatch.setattr(users, "check_password_hash", spy)
    with platform.app.app_context():
        assert users.authenticate("nobody@example.org", "some password") is None
    assert checked == ["some password"]


def test_registration_does_not_tell_who_has_an_account(platform, grace):
    def register(email: str) -> str:
        page = Browser(platform.app).post_form("/auth/register", email=email,
                                               password="another good passphrase")
        return re.sub(r'name="csrf_token" value="[^"]+"', "", page.get_data(as_text=True))

    assert register("grace@example.org") == register("new@example.org")


def test_a_cookie_copied_before_logout_is_dead_after_it(platform, grace):
    stolen = grace.client.get_cookie("session").value
    grace.post_form("/", url="/auth/logout")
    thief = platform.app.test_client()
    thief.set_cookie("session", stolen)
    assert "Grace" not in thief.get("/account", follow_redirects=True).get_data(as_text=True)


def test_a_password_change_and_an_admin_end_other_sessions(platform, grace):
    laptop = Browser(platform.app)
    laptop.log_in("grace@example.org")
    page = grace.post_form("/account", url="/account/password", current_password=PASSWORD,
                           new_password="a much better passphrase")
    assert "other browsers are signed out" in page.get_data(as_text=True)
    assert "Grace" in grace.client.get("/account").get_data(as_text=True)
    assert laptop.client.get("/account").status_code == 302  # signed out
    result = platform.app.test_cli_runner().invoke(
        args=["users", "revoke-sessions", "grace@example.org"])
    assert result.exit_code == 0, result.output
    assert grace.client.get("/account").status_code == 302


@pytest.mark.parametrize("password, words", [
    ("aaaaaaaaaa", "too few characters"), ("password123", "most common"),
    ("1234567890", "most common"), ("abcdefghijkl", "run of keys"), ("short", "at least 10"),
])
def test_weak_passwords_are_refused(platform, password, words):
    page = Browser(platform.app).post_form("/auth/register", email="w@example.org",
                                           password=password)
    assert words in page.get_data(as_text=True)


def test_pages_carry_security_headers_and_no_inline_script(demo_platform):
    client = demo_platform.app.test_client()
    for url in ("/", "/challenges/lai-liver", "/auth/login", "/scoring",
                "/challenges/lai-liver/phases/development/leaderboard"):
        response = client.get(url)
        headers = response.headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert not re.search(r"<script(?![^>]*\bsrc=)", response.get_data(as_text=True)), url


@pytest.mark.parametrize("url", [
    "/api/v1/submissions/99999999999999999999999",
    "/submissions/99999999999999999999999",
    "/api/v1/challenges/lai-liver/phases/development/leaderboard?page=99999999999999999999",
])
def test_huge_numbers_are_not_server_errors(demo_platform, url):
    assert demo_platform.app.test_client().get(url).status_code in (200, 404)


def test_bad_json_is_a_json_400(demo_platform):
    ada = demo_platform.participant()
    for body in (b"[" * 100_000, b"{not json", b'"a string"'):
        response = ada.client.post("/api/v1/challenges/lai-liver/join", data=body,
                                   content_type="application/json",
                                   headers={"Authorization": f"Bearer {ada.token}"})
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] in ("bad_json", "bad_request")


class CountingBody(io.RawIOBase):
    """A large body that counts what the server reads of it."""

    def __init__(self, size: int) -> None:
        self.size, self.position, self.read_bytes = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures the body this way
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.size - self.position)
        buffer[:n] = b"a" * n
        self.position += n
        self.read_bytes += n
        return n


@pytest.mark.parametrize("url, headers", [
    ("/auth/login", {}),
    ("/auth/register", {}),
    ("/challenges/lai-liver/phases/development/submit", {}),
    ("/api/v1/challenges/lai-liver/join", {"Authorization": "Bearer lai_not_a_token"}),
    ("/api/v1/challenges/lai-liver/phases/development/submissions", {}),
])
def test_strangers_cannot_make_the_server_read_big_bodies(demo_platform, url, headers):
    body = CountingBody(50 * 2**20)
    response = demo_platform.app.test_client().post(
        url, input_stream=body,
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code in (302, 400, 401, 403, 413)
    assert body.read_bytes <= 2**20


def test_the_data_folder_and_database_are_private(platform):
    settings = platform.services.settings
    assert stat.S_IMODE(settings.data_dir.stat().st_mode) == 0o700
    database = settings.database_url.removeprefix("sqlite:///")
    assert stat.S_IMODE(os.stat(database).st_mode) == 0o600


def test_cookies_can_be_https_only(tmp_path, database_url):
    settings = replace(make_settings(tmp_path, database_url), secure_cookies=True)
    app = create_app(settings)
    browser = Browser(app)
    browser.csrf("/auth/login")
    assert browser.client.get_cookie("session").secure
