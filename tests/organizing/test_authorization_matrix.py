"""The authorization matrix: every organizer route (web and API) x every kind of person.

Routes are found by walking the app's URL map, so a route added later is covered without
editing this file; a route outside the public set that names no permission fails the test.
Denied requests must be refused (403, 401, or a redirect to the log-in page) and change
nothing; allowed reads must be served.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from lai_platform.challenges.lookups import find_challenge
from lai_platform.challenges.roles import PLATFORM_ADMIN, Permission, permissions_of
from lai_platform.extensions import db
from lai_platform.models import ApiToken, Dataset, User
from tests.conftest import Templates, build_platform, make_settings
from tests.organizing.conftest import SLUG, Cast, make_cast
from tests.organizing.probes import WRITES, csrf, fingerprint, organizer_rules
from tests.story import perfect, record_scored_submission

# Endpoints that existed before organizer roles, each with its own checks and tests.
PUBLIC_ENDPOINTS = {
    "web.index", "web.account", "web.change_password", "web.create_token", "web.revoke_token",
    "api.list_challenges", "api.show_challenge", "api.join_challenge", "api.show_leaderboard",
    "api.create_submission", "api.training_data", "api.show_submission", "auth.login",
    "auth.logout", "auth.register", "web.challenge", "web.join_challenge", "web.leaderboard",
    "web.submit", "web.upload", "web.training_data", "web.my_submissions", "web.scoring",
    "static", "web.submission",
    # Public reads added with organizer roles: the final leaderboard and announcements.
    "api.show_final_leaderboard", "api.list_announcements",
    # Operations: health and Prometheus metrics (LAI_METRICS_TOKEN guards the latter).
    "ops.healthz", "ops.prometheus_metrics",
    # The signed-in person's own e-mail notice setting (login_required, tested with it).
    "web.set_notifications",
    # A participant marks their own submission for the final leaderboard (owner checks and
    # their tests in tests/test_final_selection.py); the API's OpenAPI description.
    "web.final_selection", "api.final_selection", "api.openapi_json",
    # Resumable uploads: a participant's own (owner checked, early checks of a plain upload;
    # tests in tests/test_resumable_uploads.py).
    "api.start_upload", "api.show_upload", "api.send_upload_chunk", "api.cancel_upload",
    # Teams: a participant's own team (approved participants only; the invite token is the
    # key to join; tests in tests/teams/).
    "web.create_team", "web.leave_team", "web.team_invite", "web.join_team",
    "api.my_team", "api.create_team", "api.join_team", "api.leave_team",
    "web.renew_team_invite", "api.renew_team_invite",
}
PEOPLE = ("platform_admin", "admin", "editor", "reviewer", "other_organizer", "participant",
          "pending", "anonymous", "revoked_token")


@pytest.fixture(scope="module")
def world(tmp_path_factory, templates: Templates) -> Iterator[tuple]:
    root = tmp_path_factory.mktemp("matrix")
    url = templates.copy("sqlite", True, root)
    platform = build_platform(make_settings(root, url), migrate=False)
    cast = make_cast(platform)
    submission_id = record_scored_submission(platform, cast.participant.email, "development",
                                             perfect)
    revoked = cast.person("revoked_token")
    with platform.app.app_context():
        token = db.session.scalar(sa.select(ApiToken).join(User).where(
            User.email == revoked.email))
        token.revoked = True
        db.session.commit()
        ids = {
            "submission_id": submission_id,
            "user_id": db.session.scalar(sa.select(User.id).where(
                User.email == cast.pending.email)),
            "dataset_id": db.session.scalar(sa.select(Dataset.id)),
        }
    yield platform, cast, ids
    platform.close()



def _organizer_rules(app) -> list:
    unchecked = [f"{rule.rule} ({rule.endpoint})" for rule in app.url_map.iter_rules()
                 if rule.endpoint not in PUBLIC_ENDPOINTS
                 and not hasattr(app.view_functions[rule.endpoint], "permission")]
    assert unchecked == [], "routes that are not public and name no permission"
    return organizer_rules(app)


def _url(rule, ids: dict) -> str:
    values = {}
    for name in rule.arguments:
        if name == "slug":
            values[name] = SLUG
        elif name in ("phase_slug", "phase"):
            values[name] = "development"
        elif name in ids:
            values[name] = ids[name]
        elif name.endswith("id") or name == "id":
            values[name] = ids["submission_id"] if "submission" in rule.rule else 1
        else:
            values[name] = "x"
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(value), path)
    return path


def _allowed(person: str, needed: str, platform, api: bool) -> bool:
    if person == "anonymous" or (api and person == "revoked_token"):
        return False
    if needed == PLATFORM_ADMIN:
        return person == "platform_admin"
    if needed == "signed_in":
        return True
    with platform.app.app_context():
        from lai_platform.accounts.users import find_user

        user = find_user(f"{person.replace('_', '-')}@example.org")
        return Permission(needed) in permissions_of(user, find_challenge(SLUG))



def _request(cast: Cast, person: str, method: str, url: str):
    api = url.startswith("/api/")
    if person == "anonymous":
        client = cast.platform.app.test_client()
        if api:
            return client.open(url, method=method)
        token = csrf(client)
        return client.open(url, method=method, data={"csrf_token": token})
    who = cast.people[person]
    if api:
        return who.api.client.open(url, method=method, headers=who.api._headers(),
                                   json={} if method in WRITES else None)
    return who.web.client.open(url, method=method,
                               data={"csrf_token": csrf(who.web.client)}
                               if method in WRITES else None)



def _refused(response, person: str, api: bool) -> bool:
    if api:  # the revoked token's owner is signed in on the web: an outsider there
        expected = {401} if person in ("anonymous", "revoked_token") else {403}
        return response.status_code in expected
    if person == "anonymous":
        return (response.status_code == 302
                and "/auth/login" in response.headers.get("Location", ""))
    return response.status_code == 403


def test_every_organizer_route_refuses_whoever_lacks_its_permission(world):
    platform, cast, ids = world
    violations, checked = [], 0
    before = fingerprint(platform)
    for rule in _organizer_rules(platform.app):
        needed = platform.app.view_functions[rule.endpoint].permission
        url = _url(rule, ids)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for person in PEOPLE:
                if _allowed(person, needed, platform, url.startswith("/api/")):
                    continue
                response = _request(cast, person, method, url)
                checked += 1
                if not _refused(response, person, url.startswith("/api/")):
                    violations.append(f"{person} {method} {url} -> {response.status_code}")
    assert violations == []
    assert checked > 0
    assert fingerprint(platform) == before, "a refused request changed the database"


def test_every_organizer_page_and_read_serves_whoever_holds_its_permission(world):
    platform, cast, ids = world
    problems = []
    for rule in _organizer_rules(platform.app):
        if "GET" not in rule.methods:
            continue
        needed = platform.app.view_functions[rule.endpoint].permission
        url = _url(rule, ids)
        for person in PEOPLE:
            if not _allowed(person, needed, platform, url.startswith("/api/")):
                continue
            response = _request(cast, person, "GET", url)
            if response.status_code in (401, 403) or (
                response.status_code == 302
                and "/auth/login" in response.headers.get("Location", "")
            ) or response.status_code >= 500:
                problems.append(f"{person} GET {url} -> {response.status_code}")
    assert problems == []
