"""Teams' stories: people on the demo challenge, the team API, submissions made directly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lai_platform.extensions import db
from lai_platform.models import ContainerImage, Phase, Submission, User
from lai_platform.teams.entrants import team_id_of


@pytest.fixture
def executor_factory(fake):
    """Runs through the real pipeline with a fake executor (no Docker)."""
    return lambda: fake


def joined(platform, *names: str):
    """People who have joined the demo challenge (open access: approved at once)."""
    people = [platform.participant(f"{name}@example.org") for name in names]
    for person in people:
        assert person.join().status_code == 200
    return people


def create_team(person, name: str, challenge: str = "lai-liver"):
    return person.post_json(f"/api/v1/challenges/{challenge}/teams", {"name": name})


def join_team(person, token: str):
    return person.post_json("/api/v1/teams/join", {"token": token})


def my_team(person, challenge: str = "lai-liver"):
    return person.get(f"/api/v1/challenges/{challenge}/team")


def renew_invite(person, challenge: str = "lai-liver"):
    return person.post_json(f"/api/v1/challenges/{challenge}/team/invite", {})


def leave_team(person, challenge: str = "lai-liver"):
    return person.post_json(f"/api/v1/challenges/{challenge}/team/leave", {})


def team_of_people(platform, name: str, *people) -> str:
    """The first person creates the team, the others join by its invite; its token."""
    created = create_team(people[0], name)
    assert created.status_code == 201, created.get_json()
    token = created.get_json()["invite_token"]
    for person in people[1:]:
        answer = join_team(person, token)
        assert answer.status_code == 200, answer.get_json()
    return token


def error(answer) -> tuple[int, str, str]:
    body = answer.get_json()["error"]
    return answer.status_code, body["code"], body["message"]


def made_submissions(platform, email: str, phase_slug: str, n: int,
                     status: str = "succeeded") -> list[int]:
    """N submissions of the phase, in STATUS, without runs or scores, stamped with the
    person's team as admission stamps them."""
    with platform.app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        phase = db.session.scalar(sa.select(Phase).where(Phase.slug == phase_slug))
        image = ContainerImage(user_id=user.id, image_id="sha256:" + "1" * 64,
                               storage_key="images/none", size_bytes=0, architecture="amd64")
        team_id = team_id_of(user.id, phase.challenge_id)
        subs = [Submission(phase=phase, user=user, image=image, status=status,
                           team_id=team_id) for _ in range(n)]
        db.session.add_all(subs)
        db.session.commit()
        return [s.id for s in subs]
