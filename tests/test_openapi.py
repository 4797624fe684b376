"""The OpenAPI 3.1 description of /api/v1 (api/openapi.py): valid, complete (every route is
documented), and true: Schemathesis sends generated requests to every operation, as a
participant with a real token and as an organizer for the reads, and checks that no answer
is a 5xx and that each status, media type and body is the one the description gives.

Left out of the generated requests (see SKIPPED): the uploads (multi-GB bodies).
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lai_platform.api.openapi import api_rules, openapi_path, undocumented_routes

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
SKIPPED = {  # operation → why no request is generated for it
    "POST /api/v1/challenges/{slug}/phases/{phase_slug}/submissions":
        "uploads a container image (GBs); tested in test_submission_runs/test_admission",
    "POST /api/v1/challenges/{slug}/datasets": "uploads a dataset (multipart archives)",
    "POST /api/v1/challenges": "platform admins; also takes a bundle archive as the body",
}
EXAMPLES = 12  # per operation and caller


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
    generated or those of the demo challenge and Ada's scored submission."""
    sub_id = ada.submit(image).get_json()["id"]
    demo_platform.run_queued()
    organizer = demo_platform.organizer("grace@example.org", "lai-liver")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", demo_platform.app)
    known = {"slug": "lai-liver", "phase_slug": "development", "submission_id": sub_id,
             "user_id": 1, "rescoring_id": 1}
    seen: Counter = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        name = f"{operation.method.upper()} {operation.path}"
        if name in SKIPPED:
            continue
        callers = [ada.token] + ([organizer.token] if operation.method == "get" else [])
        for token in callers:
            _fuzz(operation, token, known, seen)
    print(f"\nSchemathesis: {seen.total()} requests; statuses {sorted(seen.items())}")
    assert seen[200] > 0


def _fuzz(operation, token: str, known: dict, seen: Counter) -> None:
    names = {p.name for p in operation.path_parameters}
    pinned = {k: v for k, v in known.items() if k in names}
    strategy = st.one_of(operation.as_strategy(), operation.as_strategy(path_parameters=pinned))
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call(headers=headers)
        seen[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()
