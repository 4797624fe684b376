"""Accounts: register, log in, log out with CSRF on every form; API tokens."""

from sqlalchemy import select

from lai_platform.extensions import db
from lai_platform.models import ApiToken, User
from tests.story import PASSWORD, Browser


def test_register_login_logout(platform):
    browser = Browser(platform.app)
    page = browser.post_form(
        "/auth/register", email="grace@example.org", password=PASSWORD, display_name="Grace"
    )
    assert "log in with your password" in page.get_data(as_text=True)
    browser.log_in("grace@example.org")
    assert "Grace" in browser.client.get("/").get_data(as_text=True)

    browser.post_form("/", url="/auth/logout")
    assert "Log in" in browser.client.get("/").get_data(as_text=True)

    page = browser.post_form("/auth/login", email="grace@example.org", password="wrong password")
    assert "Wrong e-mail or password" in page.get_data(as_text=True)
    page = browser.post_form("/auth/login", email="GRACE@example.org", password=PASSWORD)
    assert "Grace" in page.get_data(as_text=True)


def test_passwords_are_hashed(platform):
    Browser(platform.app).post_form(
        "/auth/register", email="h@example.org", password=PASSWORD, display_name="H"
    )
    with platform.app.app_context():
        user = db.session.scalar(select(User))
        assert PASSWORD not in user.password_hash
        assert user.check_password(PASSWORD)


def test_forms_without_csrf_token_are_refused(platform):
    client = platform.app.test_client()
    response = client.post("/auth/register", data={"email": "x@example.org", "password": PASSWORD})
    assert response.status_code == 400
    with platform.app.app_context():
        assert db.session.scalar(select(User)) is None


def test_registration_errors_are_explained(platform):
    browser = Browser(platform.app)
    page = browser.post_form("/auth/register", email="not-an-email", password=PASSWORD)
    assert "is not an e-mail address" in page.get_data(as_text=True)
    page = browser.post_form("/auth/register", email="a@example.org", password="short")
    assert "at least 10 characters" in page.get_data(as_text=True)


def test_token_is_shown_once_and_stored_hashed(platform):
    browser = Browser(platform.app)
    browser.sign_up("t@example.org")
    page = browser.post_form("/account", url="/account/tokens", label="laptop")
    html = page.get_data(as_text=True)
    token = html.split('<pre id="new-token">')[1].split("</pre>")[0]
    assert token.startswith("lai_")
    assert token not in browser.client.get("/account").get_data(as_text=True)
    with platform.app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.token_hash == ApiToken.hash(token) and token not in row.token_hash
    api = platform.app.test_client()
    ok = api.post("/api/v1/challenges/none/join", json={"accept_terms": True},
                  headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 404  # authenticated; the challenge just does not exist
    bad = api.post("/api/v1/challenges/none/join", json={"accept_terms": True},
                   headers={"Authorization": "Bearer lai_nope"})
    assert bad.status_code == 401
    assert bad.get_json()["error"]["code"] == "invalid_token"


def test_login_does_not_redirect_off_site(platform):
    browser = Browser(platform.app)
    browser.sign_up("r@example.org")
    browser.post_form("/", url="/auth/logout")
    token = browser.csrf("/auth/login")
    response = browser.client.post(
        "/auth/login?next=//evil.example/", data={"email": "r@example.org",
                                                  "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
