"""A team's members share its quota exactly, however many of them upload at once."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from lai_platform.extensions import db
from lai_platform.models import Submission, Team
from tests.teams.conftest import joined, team_of_people


def test_four_members_uploading_twenty_at_once_get_exactly_the_teams_three(
        demo_platform_any_db, image):
    platform = demo_platform_any_db
    platform.set_phase("final-test", submissions_total=3, submissions_per_day=None,
                       submissions_concurrent=None)
    members = joined(platform, "ada", "bob", "cyd", "dan")
    team_of_people(platform, "Four Hands", *members)
    tarball = image.read_bytes()
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def upload(person) -> None:
        barrier.wait()
        statuses.append(person.submit(tarball, phase="final-test").status_code)

    threads = [threading.Thread(target=upload, args=(members[i % 4],)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [202] * 3 + [429] * 17
    with platform.app.app_context():
        team_id = db.session.scalar(sa.select(Team.id).where(Team.name == "Four Hands"))
        stamped = db.session.scalars(sa.select(Submission.team_id)).all()
    assert stamped == [team_id] * 3  # every accepted one is the team's
