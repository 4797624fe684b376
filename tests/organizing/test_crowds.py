"""Twenty organizers at once: the same phase created twenty times, twenty phases created at
once, twenty challenges with one slug. One wins where one must; nobody sees a server error."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lai_platform.extensions import db
from lai_platform.models import AuditEvent, Phase
from tests.organizing.conftest import make_cast
from tests.story import together

CROWD = 20


@pytest.fixture
def crowd_cast(demo_platform_any_db):
    return make_cast(demo_platform_any_db)


def test_one_phase_slug_chosen_twenty_times_at_once(crowd_cast):
    admin = crowd_cast.admin.api
    responses = together([
        lambda: admin.post_json("/api/v1/challenges/lai-liver/phases",
                                {"slug": "extra", "title": "Extra"})
        for _ in range(CROWD)
    ])
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1, codes
    assert all(c in (400, 409) for c in codes if c != 201), codes
    for r in responses:
        if r.status_code != 201:
            assert "extra" in r.get_json()["error"]["message"] or \
                r.get_json()["error"]["code"] == "conflict"
    with crowd_cast.platform.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Phase.slug == "extra")) == 1
        events = db.session.scalar(sa.select(sa.func.count()).where(
            AuditEvent.action == "phase.create"))
        assert events == 1


def test_twenty_phases_created_at_once_each_get_their_own_place(crowd_cast):
    admin = crowd_cast.admin.api
    responses = together([
        (lambda i=i: admin.post_json("/api/v1/challenges/lai-liver/phases",
                                     {"slug": f"round-{i}", "title": f"Round {i}"}))
        for i in range(CROWD)
    ])
    assert [r.status_code for r in responses] == [201] * CROWD
    with crowd_cast.platform.app.app_context():
        positions = db.session.scalars(sa.select(Phase.position)).all()
        assert len(positions) == len(set(positions)) == CROWD + 2


def test_twenty_challenges_with_one_slug(crowd_cast):
    admin = crowd_cast.platform_admin.api
    responses = together([
        lambda: admin.post_json("/api/v1/challenges", {"slug": "twin", "title": "Twin"})
        for _ in range(CROWD)
    ])
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1, codes
    assert all(c in (400, 409) for c in codes if c != 201), codes
