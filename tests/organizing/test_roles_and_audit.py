"""Roles per challenge and the audit log."""

import pytest
import sqlalchemy as sa

from lai_platform.extensions import db
from lai_platform.models import AuditEvent
from tests.organizing.conftest import make_cast


def test_an_admin_grants_a_role_and_the_audit_log_shows_it(cast):
    page = "/organize/lai-liver/roles"
    response = cast.admin.web.post_form(page, email=cast.outsider.email, role="reviewer")
    assert response.status_code == 200
    assert "outsider@example.org: reviewer in this challenge." in response.get_data(as_text=True)
    assert cast.outsider.web.client.get("/organize/lai-liver/audit").status_code == 200
    audit = cast.admin.web.client.get("/organize/lai-liver/audit").get_data(as_text=True)
    assert "role.set" in audit and "outsider@example.org" in audit


def test_an_editor_may_not_grant_roles(cast):
    response = cast.editor.web.post_form("/organize/lai-liver/roles",
                                         email=cast.outsider.email, role="admin")
    assert response.status_code == 403
    assert cast.outsider.web.client.get("/organize/lai-liver/").status_code == 403


def test_the_desk_lists_only_the_challenges_one_organizes(cast):
    other = cast.other_organizer.web.client.get("/organize/").get_data(as_text=True)
    assert "other-challenge" in other and "lai-liver" not in other
    assert "lai-liver" in cast.reviewer.web.client.get("/organize/").get_data(as_text=True)


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET action = 'nothing'",
    "DELETE FROM audit_events",
])
def test_the_audit_log_is_append_only(demo_platform_any_db, statement):
    cast = make_cast(demo_platform_any_db)
    cast.admin.web.post_form("/organize/lai-liver/roles", email=cast.outsider.email,
                             role="editor")
    with cast.platform.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) >= 1
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
