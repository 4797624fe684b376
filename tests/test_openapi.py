"""The OpenAPI 3.1 description of /api/v1 (api/openapi.py): valid, complete (every route is
documented), and true: Schemathesis sends generated requests to every operation, as a
participant with a real token and as an organizer for the reads, and checks that no answer
is a 5xx and that each status, media type and body is the one the description gives; then
the organizer's token on every write of its own challenge, with valid bodies among the
generated ones so that successes are checked too. Each run prints its counts (requests,
operations, 5xx, schema mismatches, 2xx checked per method); derandomized, so repeatable.

Left out of the generated requests (see SKIPPED): the uploads (multi-GB bodies).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lai_platform.accounts.users import find_user
from lai_platform.api.openapi import api_rules, openapi_path, undocumented_routes
from lai_platform.challenges.lookups import find_challenge
from lai_platform.extensions import db
from lai_platform.models import Dataset

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
SKIPPED = {  # operation → why no request is generated for it
    "POST /api/v1/challenges/{slug}/phases/{phase_slug}/submissions":
        "uploads a container image (GBs); tested in test_submission_runs/test_admission",
    "POST /api/v1/challenges/{slug}/datasets": "uploads a dataset (multipart archives)",
    "POST /api/v1/challenges": "platform admins; also takes a bundle archive as the body",
}
# A resumable upload's chunk (PATCH /uploads/{upload_id}) is raw bytes, like octet-stream.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
EXAMPLES = 12  # per operation and caller
WRITE_EXAMPLES = 30  # per organizer write operation


@pytest.fixture
def executor_factory(fake):
    return lambda: fake


def test_the_description_is_valid_openapi_3_1(demo_platform):
    response = demo_platform.anonymous().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any error


def test_every_api_route_is_documented(demo_platform):
    app = demo_platform.app
    assert undocumented_routes(app) == []
    paths = demo_platform.anonymous().get("/api/v1/openapi.json").get_json()["paths"]
    for rule in api_rules(app):
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths[openapi_path(rule.rule)], (method, rule.rule)


def test_security_follows_the_auth_decorators(demo_platform):
    paths = demo_platform.anonymous().get("/api/v1/openapi.json").get_json()["paths"]
    assert paths["/api/v1/challenges"]["get"]["security"] == [{}, {"bearerAuth": []}]
    assert paths["/api/v1/challenges/{slug}/join"]["post"]["security"] == [{"bearerAuth": []}]
    assert paths["/api/v1/challenges/{slug}/announcements"]["get"]["security"] == []
    task = paths["/api/v1/challenges/{slug}/task"]["put"]
    assert task["security"] == [{"bearerAuth": []}] and task["x-permission"] == "edit"
    submission = paths["/api/v1/submissions/{submission_id}"]["get"]
    assert submission["parameters"][0]["schema"] == {"type": "integer"}


def test_generated_requests_get_documented_answers(demo_platform, ada, image):
    """No 5xx; every status, media type and body as described. Path parameters are either
    generated or those of the demo challenge and Ada's scored submission. The organizer
    only reads here (its writes: the next test)."""
    sub_id = ada.submit(image).get_json()["id"]
    demo_platform.run_queued()
    organizer = demo_platform.organizer("grace@example.org", "lai-liver")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", demo_platform.app)
    known = {"slug": "lai-liver", "phase_slug": "development", "submission_id": sub_id,
             "user_id": 1, "rescoring_id": 1}
    tally = Tally()
    for operation in _operations(schema):
        callers = [ada.token] + ([organizer.token] if operation.method == "get" else [])
        for token in callers:
            _fuzz(operation, token, known, {}, tally)
    print(f"\nSchemathesis, participant and organizer reads: {tally.summary()}")
    assert tally.failures == [] and tally.successes["GET"] > 0


def test_the_organizers_writes_get_documented_answers(demo_platform, ada, image):
    """The organizer's token on every write operation of its own challenge (phases, the
    task, datasets, participants, teams, moderation, the final leaderboard): generated requests,
    the same with the challenge's real path parameters, and those with a valid body too, so
    that successes are produced and checked against their schemas. Ordered so that the
    operations that end things (a ban, a disqualification, the final leaderboard) come last."""
    sub_id = ada.submit(image).get_json()["id"]
    demo_platform.run_queued()
    bob = demo_platform.participant("bob@example.org")
    bob.join()
    team = bob.post_json("/api/v1/challenges/lai-liver/teams", {"name": "Bob's"}).get_json()
    organizer = demo_platform.organizer("grace@example.org", "lai-liver")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", demo_platform.app)
    ids = _ids(demo_platform, "bob@example.org", "test")
    known = {"slug": "lai-liver", "phase_slug": "development", "submission_id": sub_id,
             "user_id": ids["user"], "rescoring_id": 1, "team_id": team["id"]}
    writes = sorted((op for op in _operations(schema)
                     if op.method != "get" and _permission(op) in ORGANIZER_WRITES),
                    key=lambda op: LAST.get(_name(op), 0))
    tally = Tally()
    for operation in writes:
        bodies = _valid_bodies(demo_platform, ids).get(_name(operation), [])
        _fuzz(operation, organizer.token, known, bodies, tally, WRITE_EXAMPLES)
    print(f"\nSchemathesis, organizer writes: {tally.summary()}")
    assert tally.failures == []
    assert {_name(op) for op in writes} <= tally.succeeded, \
        sorted({_name(op) for op in writes} - tally.succeeded)


ORGANIZER_WRITES = {"edit", "review", "manage"}
LAST = {  # operations that end things run after the others, in this order
    "POST /api/v1/challenges/{slug}/participants/{user_id}/ban": 1,
    "POST /api/v1/challenges/{slug}/submissions/{submission_id}/disqualify": 2,
    "POST /api/v1/challenges/{slug}/phases/{phase_slug}/final": 3,
}


@dataclass
class Tally:
    """What the generated requests got: statuses, the operations that answered 2xx, the
    successes checked per method, and every check that failed (operation, status, why)."""
    operations: set = field(default_factory=set)
    statuses: Counter = field(default_factory=Counter)
    successes: Counter = field(default_factory=Counter)
    succeeded: set = field(default_factory=set)
    failures: list = field(default_factory=list)

    def summary(self) -> str:
        errors = sum(n for status, n in self.statuses.items() if status >= 500)
        return (f"{self.statuses.total()} requests to {len(self.operations)} operations; "
                f"5xx: {errors}; schema mismatches: {len(self.failures)}; 2xx checked per "
                f"method: {dict(sorted(self.successes.items()))}; statuses: "
                f"{dict(sorted(self.statuses.items()))}")


def _operations(schema) -> list:
    found = [result.ok() for result in schema.get_all_operations()]
    return [op for op in found if _name(op) not in SKIPPED]


def _name(operation) -> str:
    return f"{operation.method.upper()} {operation.path}"


def _permission(operation) -> str | None:
    return operation.definition.raw.get("x-permission")


def _ids(platform, email: str, dataset: str) -> dict[str, int]:
    with platform.app.app_context():
        challenge = find_challenge("lai-liver")
        other = db.session.scalar(db.select(Dataset.id).where(
            Dataset.challenge_id == challenge.id, Dataset.name == dataset))
        return {"user": find_user(email).id, "dataset": other}


def _valid_bodies(platform, ids: dict[str, int]) -> dict[str, list]:
    """Bodies the server accepts as things stand (the phase order reversed, say)."""
    with platform.app.app_context():
        order = [p.slug for p in find_challenge("lai-liver").phases][::-1]
    base, reason = "POST /api/v1/challenges/{slug}", {"reason": "checked by the API tests"}
    moderated = f"{base}/submissions/{{submission_id}}"
    return {
        f"{base}/phases": [{"slug": "extra", "title": "Extra phase", "gpu": False}],
        "PATCH /api/v1/challenges/{slug}/phases/{phase_slug}": [
            {"title": "Development, renamed", "logs_visible": True, "display": "best"}],
        f"{base}/phases/order": [{"order": order}],
        f"{base}/phases/{{phase_slug}}/dataset": [{"dataset_id": ids["dataset"]}],
        "PUT /api/v1/challenges/{slug}/task": [{"name": "renamed by the API tests"}],
        "PATCH /api/v1/challenges/{slug}": [{"summary": "Changed by the API tests",
                                             "email_domains": ["example.org"]}],
        f"{base}/announcements": [{"title": "Tested", "body": "By the API tests."}],
        **{f"{base}/participants/{{user_id}}/{action}": [reason]
           for action in ("approve", "reject", "ban")},
        **{f"{moderated}/{action}": [reason] for action in ("hide", "restore", "disqualify")},
        f"{moderated}/rerun": [{"why": "checked by the API tests"}],
        f"{moderated}/baseline": [{"baseline": True}],
        f"{base}/phases/{{phase_slug}}/final": [{"close_now": True}],
        f"{base}/teams/{{team_id}}/members/{{user_id}}/remove": [reason],
    }


def _fuzz(operation, token: str, known: dict, bodies: list, tally: Tally,
          examples: int = EXAMPLES) -> None:
    names = {p.name for p in operation.path_parameters}
    pinned = {k: v for k, v in known.items() if k in names}
    strategies = [operation.as_strategy(), operation.as_strategy(path_parameters=pinned)]
    strategies += [operation.as_strategy(path_parameters=pinned, body=body) for body in bodies]
    headers = {"Authorization": f"Bearer {token}"}
    name = _name(operation)
    tally.operations.add(name)

    @given(case=st.one_of(strategies))
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call(headers=headers)
        tally.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (FailureGroup, AssertionError) as exc:
            why = "; ".join(getattr(e, "title", str(e)) for e in getattr(exc, "exceptions",
                                                                         [exc]))
            tally.failures.append(f"{name} → {response.status_code}: {why}")
            return
        if 200 <= response.status_code < 300:
            tally.successes[operation.method.upper()] += 1
            tally.succeeded.add(name)

    check()
