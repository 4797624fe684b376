"""A team's members share its quota exactly, however many of them upload at once."""

from __future__ import annotations

from functools import partial

import sqlalchemy as sa

from lai_platform.extensions import db
from lai_platform.models import Submission, Team
from tests.story import together
from tests.teams.conftest import joined, team_of_people


def test_four_members_uploading_twenty_at_once_get_exactly_the_teams_three(
        demo_platform_any_db, image):
    platform = demo_platform_any_db
    platform.set_phase("final-test", submissions_total=3, submissions_per_day=None,
                       submissions_concurrent=None)
    members = joined(platform, "ada", "bob", "cyd", "dan")
    team_of_people(platform, "Four Hands", *members)
    tarball = image.read_bytes()
    statuses = [r.status_code for r in together(
        [partial(members[i % 4].submit, tarball, phase="final-test") for i in range(20)])]

    assert sorted(statuses) == [202] * 3 + [429] * 17
    with platform.app.app_context():
        team_id = db.session.scalar(sa.select(Team.id).where(Team.name == "Four Hands"))
        stamped = db.session.scalars(sa.select(Submission.team_id)).all()
    assert stamped == [team_id] * 3  # every accepted one is the team's
