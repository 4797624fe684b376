"""Insecure direct object references, as a class: the admin of challenge B must not read or
change anything of challenge A through B's URLs.

Every organizer route (web and API, found by walking the app's URL map) whose URL names an
object by id or a phase by slug is called as B's admin with B's slug and A's ids and phase
slugs, every method, with a body that would otherwise be accepted: each must answer 404 and
leave the database as it was. Ids sent in a body (a dataset to attach, phases to reorder)
are refused with a message that says what is wrong. B's pages and exports never show A's
participants, submissions, teams or announcements.
"""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import tarfile
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
import yaml

from lai_platform.accounts.users import find_user
from lai_platform.challenges.bundles import load_challenge
from lai_platform.challenges.editing import add_announcement
from lai_platform.challenges.lookups import find_challenge
from lai_platform.challenges.roles import PLATFORM_ADMIN, set_role
from lai_platform.extensions import db
from lai_platform.models import Dataset, Participation, Rescoring, Submission, User
from tests.conftest import Templates, build_platform, make_settings
from tests.organizing.conftest import SLUG, make_cast
from tests.organizing.probes import WRITES, csrf, fingerprint, organizer_rules
from tests.story import perfect, record_scored_submission

B_SLUG = "challenge-b"
B_PHASES = {"development": "b-development", "final-test": "b-final"}
A_PHASES = ("development", "final-test")
ATTACKER = "attacker@example.org"
B_PARTICIPANT = "b-member@example.org"
A_EMAILS = ("participant@example.org", "pending@example.org")
A_ANNOUNCEMENT = "A-only announcement 7f3c"
A_TEAM = "A-only team 5e1d"
PHASE_ARGS = {"phase_slug", "phase"}
# Bodies that would be accepted were the object B's: the id or phase is the only fault.
FORM = {"reason": "cross-challenge probe", "why": "cross-challenge probe", "baseline": "yes",
        "title": "Renamed by B", "close_now": "yes"}
BODY = {"reason": "cross-challenge probe", "why": "cross-challenge probe", "baseline": True,
        "title": "Renamed by B", "close_now": True}


@pytest.fixture(scope="module")
def world(tmp_path_factory, templates: Templates, demo_bundle) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("cross")
    platform = build_platform(make_settings(root, templates.copy("sqlite", True, root)),
                              migrate=False)
    cast = make_cast(platform)
    a_submission = record_scored_submission(platform, cast.participant.email, "development",
                                            perfect)
    a_team = cast.participant.api.post_json(f"/api/v1/challenges/{SLUG}/teams",
                                            {"name": A_TEAM}).get_json()["id"]
    bundle = _bundle_b(root / "bundle-b", demo_bundle)
    with platform.app.app_context():
        load_challenge(bundle)
        db.session.commit()
    attacker = cast.person("attacker", lambda user: set_role(find_challenge(B_SLUG), user,
                                                             "admin", None))
    b_member = cast.person("b_member", lambda user: db.session.add(Participation(
        user_id=user.id, challenge_id=find_challenge(B_SLUG).id, status="approved")))
    b_submission = record_scored_submission(platform, b_member.email, B_PHASES["development"],
                                            perfect, challenge=B_SLUG)
    with platform.app.app_context():
        a = find_challenge(SLUG)
        b = find_challenge(B_SLUG)
        add_announcement(find_user(cast.admin.email), a, {"title": A_ANNOUNCEMENT, "body": ""})
        a_dev = a.phase("development")
        rescoring = Rescoring(phase_id=a_dev.id, dataset_id=a_dev.dataset_id, total=1, done=1,
                              state="done")
        db.session.add(rescoring)
        db.session.commit()
        ids = {
            "submission_id": [a_submission],
            "user_id": [find_user(cast.pending.email).id, find_user(cast.participant.email).id],
            "dataset_id": sorted(db.session.scalars(
                sa.select(Dataset.id).where(Dataset.challenge_id == a.id))),
            "rescoring_id": [rescoring.id],
            "team_id": [a_team],
        }
        b_ids = {"dataset_id": b.phase(B_PHASES["development"]).dataset_id,
                 "submission_id": b_submission}
    yield {"platform": platform, "cast": cast, "attacker": attacker, "a_ids": ids,
           "b_ids": b_ids}
    platform.close()


def _bundle_b(folder, demo_bundle):
    """The demo bundle under another slug, title and phase slugs (none shared with A)."""
    shutil.copytree(demo_bundle, folder)
    spec = yaml.safe_load((folder / "challenge.yaml").read_text())
    spec["slug"], spec["title"] = B_SLUG, "Challenge B"
    for phase in spec["phases"]:
        phase["slug"] = B_PHASES[phase["slug"]]
    (folder / "challenge.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder



# -- helpers --------------------------------------------------------------------------------




def _call(person, method: str, url: str, form: dict | None = None, body: dict | None = None):
    if url.startswith("/api/"):
        return person.api.client.open(url, method=method, headers=person.api._headers(),
                                      json=(BODY if body is None else body)
                                      if method in WRITES else None)
    data = None
    if method in WRITES:
        data = {**(FORM if form is None else form), "csrf_token": csrf(person.web.client)}
    return person.web.client.open(url, method=method, data=data)



def _view(platform, rule):
    return platform.app.view_functions[rule.endpoint]


def _is_id(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _urls(rule, a_ids: dict) -> list[str]:
    """B's slug with each of A's ids and phase slugs in the rule's other arguments."""
    choices: list[list[tuple[str, object]]] = []
    for name in sorted(rule.arguments - {"slug"}):
        if name in PHASE_ARGS:
            choices.append([(name, value) for value in A_PHASES])
        elif _is_id(name):
            assert name in a_ids, (
                f"{rule.rule}: no id of challenge A for <{name}>; add one to the world so "
                "the route is probed across challenges")
            choices.append([(name, value) for value in a_ids[name]])
        else:
            raise AssertionError(f"{rule.rule}: unknown argument <{name}>; teach this test "
                                 "which of A's values to put there")
    urls = [rule.rule]
    for options in choices:
        urls = [_put(url, name, value) for url in urls for name, value in options]
    return [_put(url, "slug", B_SLUG) for url in urls]


def _put(path: str, name: str, value) -> str:
    return re.sub(rf"<(?:[^:<>]+:)?{name}>", str(value), path)


def _text(response) -> str:
    """What a response shows: its body, or the text files inside an archive it sends."""
    data = response.get_data()
    if response.mimetype in ("application/gzip", "application/x-tar"):
        parts = []
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive:
                if member.isfile() and member.size < 5_000_000:
                    parts.append(archive.extractfile(member).read().decode("utf-8", "replace"))
        return "\n".join(parts)
    return data.decode("utf-8", "replace")


# -- ids and phases of A in B's URLs --------------------------------------------------------


def test_b_admin_gets_404_for_every_id_or_phase_of_a_in_b_urls(world):
    platform, attacker = world["platform"], world["attacker"]
    before = fingerprint(platform)
    violations, checked, names = [], 0, set()
    for rule in organizer_rules(platform.app):
        probed = {n for n in rule.arguments if n in PHASE_ARGS or _is_id(n)}
        if not probed:
            continue
        names |= probed
        for url in _urls(rule, world["a_ids"]):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = _call(attacker, method, url)
                checked += 1
                shown = _text(response)
                if response.status_code != 404:
                    violations.append(f"{method} {url} -> {response.status_code}")
                elif any(email in shown for email in A_EMAILS):
                    violations.append(f"{method} {url}: the 404 names A's participant")
                elif url.startswith("/api/") and not response.get_json()["error"]["message"]:
                    violations.append(f"{method} {url}: 404 without a message")
        now = fingerprint(platform)
        if now != before:
            violations.append(f"{rule.rule} changed the database")
            before = now
    assert violations == []
    # The walk reached every kind of object an organizer URL names (it cannot pass empty).
    assert {"submission_id", "user_id", "rescoring_id", "team_id", "phase_slug"} <= names
    assert checked >= 40


def test_the_404_says_what_was_not_found_in_b(world):
    attacker, ids = world["attacker"], world["a_ids"]
    sub, user = ids["submission_id"][0], ids["user_id"][0]
    base = f"/api/v1/challenges/{B_SLUG}"
    for url, words in [
        (f"{base}/submissions/{sub}/hide", f"No submission {sub}"),
        (f"{base}/submissions/{sub}/rerun", f"No submission {sub}"),
        (f"{base}/participants/{user}/approve", f"User {user} has not joined"),
        (f"{base}/phases/development/dataset", "No phase"),
    ]:
        response = attacker.api.post_json(url, {**BODY, "dataset_id": world["b_ids"][
            "dataset_id"]})
        assert response.status_code == 404, url
        assert words in response.get_json()["error"]["message"], url
    page = attacker.web.client.get(f"/organize/{B_SLUG}/submissions/{sub}")
    assert page.status_code == 404
    assert f"No submission {sub}" in page.get_data(as_text=True)


def test_b_admin_cannot_list_a_phase_through_b_submissions_page(world):
    attacker = world["attacker"]
    for phase in A_PHASES:
        response = attacker.web.client.get(f"/organize/{B_SLUG}/submissions?phase={phase}")
        assert response.status_code == 404
        assert not any(email in response.get_data(as_text=True) for email in A_EMAILS)


def test_b_admin_sees_a_submission_only_as_anybody_does(world):
    """A succeeded submission is public (its leaderboard row links to it); organizing B adds
    nothing: no logs, failure, moderation or all-case metrics of A's submission."""
    attacker, sub = world["attacker"], world["a_ids"]["submission_id"][0]
    outsider = world["cast"].outsider
    seen = attacker.api.get(f"/api/v1/submissions/{sub}")
    assert seen.status_code == 200
    assert seen.get_json() == outsider.api.get(f"/api/v1/submissions/{sub}").get_json()
    assert not {"logs", "metrics_all_cases", "moderation"} & set(seen.get_json())
    admin = world["cast"].admin.api.get(f"/api/v1/submissions/{sub}").get_json()
    assert "metrics_all_cases" in admin  # A's own organizers do see more: the check can fail


# -- ids of A in a body sent to B -----------------------------------------------------------


def test_attaching_a_dataset_of_a_to_a_phase_of_b_is_refused(world):
    platform, attacker = world["platform"], world["attacker"]
    phase = B_PHASES["final-test"]
    before = fingerprint(platform)
    for dataset_id in world["a_ids"]["dataset_id"]:
        response = attacker.api.post_json(
            f"/api/v1/challenges/{B_SLUG}/phases/{phase}/dataset", {"dataset_id": dataset_id})
        assert response.status_code in (400, 404)
        said = f"No dataset {dataset_id} in challenge '{B_SLUG}'. Choose one of this challenge"
        assert said in response.get_json()["error"]["message"]
        page = attacker.web.client.post(
            f"/organize/{B_SLUG}/phases/{phase}/dataset",
            data={"dataset_id": dataset_id, "csrf_token": csrf(attacker.web.client)},
            follow_redirects=True)
        assert page.status_code in (200, 400, 404)
        assert said in html.unescape(page.get_data(as_text=True))  # flashed on the page
    assert fingerprint(platform) == before


def test_a_phase_slugs_in_b_reorder_are_refused(world):
    platform, attacker = world["platform"], world["attacker"]
    before = fingerprint(platform)
    response = attacker.api.post_json(f"/api/v1/challenges/{B_SLUG}/phases/order",
                                      {"order": ["development", "final-test"]})
    assert response.status_code == 400
    message = json.dumps(response.get_json())
    assert "Not a phase of this challenge: development, final-test" in message
    page = attacker.web.client.post(
        f"/organize/{B_SLUG}/phases/order",
        data={"position.development": "1", "position.final-test": "0",
              "csrf_token": csrf(attacker.web.client)})
    assert page.status_code in (302, 400)  # A's phases are not among B's: ignored
    assert fingerprint(platform) == before


def test_deciding_on_a_person_who_has_not_joined_b_changes_nothing(world):
    platform, attacker = world["platform"], world["attacker"]
    before = fingerprint(platform)
    for user_id in world["a_ids"]["user_id"]:
        for action in ("approve", "reject", "ban"):
            response = attacker.api.post_json(
                f"/api/v1/challenges/{B_SLUG}/participants/{user_id}/{action}",
                {"reason": "probe"})
            assert response.status_code == 404
            assert "has not joined 'Challenge B'" in response.get_json()["error"]["message"]
    with platform.app.app_context():
        statuses = dict(db.session.execute(
            sa.select(User.email, Participation.status)
            .join(Participation, Participation.user_id == User.id)
            .where(User.email.in_(A_EMAILS))).all())
    assert statuses == {"participant@example.org": "approved", "pending@example.org": "pending"}
    assert fingerprint(platform) == before


def test_rerun_and_hide_of_a_submission_via_b_leave_it_alone(world):
    platform, attacker = world["platform"], world["attacker"]
    sub = world["a_ids"]["submission_id"][0]
    for action in ("rerun", "hide", "disqualify", "baseline"):
        page = attacker.web.client.post(
            f"/organize/{B_SLUG}/submissions/{sub}/{action}",
            data={**FORM, "csrf_token": csrf(attacker.web.client)})
        assert page.status_code == 404
    with platform.app.app_context():
        row = db.session.get(Submission, sub)
        assert (row.status, row.moderation, row.is_baseline) == ("succeeded", None, False)
        assert row.result is not None


# -- what B's pages show --------------------------------------------------------------------


def test_b_pages_and_exports_never_show_a_participants_or_announcements(world):
    platform, attacker = world["platform"], world["attacker"]
    leaks, served = [], 0
    b_seen = set()
    for rule in organizer_rules(platform.app):
        if "GET" not in rule.methods or _view(platform, rule).permission == PLATFORM_ADMIN:
            continue
        if rule.arguments - {"slug"} - PHASE_ARGS:
            continue  # an object by id: probed above
        urls = [_put(rule.rule, "slug", B_SLUG)]
        for name in rule.arguments & PHASE_ARGS:
            urls = [_put(url, name, slug) for url in urls for slug in B_PHASES.values()]
        for url in urls:
            response = _call(attacker, "GET", url)
            if response.status_code != 200:
                leaks.append(f"GET {url} -> {response.status_code}")
                continue
            served += 1
            shown = _text(response)
            if B_PARTICIPANT in shown:
                b_seen.add(rule.endpoint)
            found = [s for s in (*A_EMAILS, A_ANNOUNCEMENT, A_TEAM, f"/organize/{SLUG}")
                     if s in shown]
            if found:
                leaks.append(f"GET {url} shows {found}")
    for url in (f"/organize/{B_SLUG}/submissions?phase={B_PHASES['development']}",
                f"/organize/{B_SLUG}/participants?status=approved"):
        shown = attacker.web.client.get(url).get_data(as_text=True)
        assert B_PARTICIPANT in shown, url  # the page lists B's people: the check can fail
        assert not [e for e in A_EMAILS if e in shown], url
    assert leaks == []
    assert served >= 15
    # B's own people are on B's participant and submission lists (web and API).
    assert {"organize.participants", "api.list_participants", "api.phase_submissions"} <= b_seen


def test_b_admin_desk_lists_only_b(world):
    attacker = world["attacker"]
    desk = attacker.web.client.get("/organize/").get_data(as_text=True)
    assert f"/organize/{B_SLUG}/" in desk
    assert f"/organize/{SLUG}/" not in desk
    assert "LAI Liver Lesion Challenge" not in desk
