"""The cast of organizer stories: one person per role in the demo challenge, each with an API
token (`.api`) and a signed-in browser (`.web`)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lai_platform.accounts.users import find_user
from lai_platform.extensions import db
from tests.story import Browser, Participant, Platform

SLUG = "lai-liver"


@dataclass
class Person:
    email: str
    api: Participant
    web: Browser


class Cast:
    """platform_admin, admin, editor, reviewer, other_organizer (admin of another challenge
    only), participant (approved), pending (waiting for approval), outsider (no link)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.people: dict[str, Person] = {}

    def person(self, name: str, setup=None) -> Person:
        email = f"{name.replace('_', '-')}@example.org"
        api = self.platform.participant(email)
        if setup is not None:
            with self.platform.app.app_context():
                setup(find_user(email))
                db.session.commit()
        web = Browser(self.platform.app)
        web.log_in(email)
        self.people[name] = Person(email, api, web)
        return self.people[name]

    def __getattr__(self, name: str) -> Person:
        try:
            return self.__dict__["people"][name]
        except KeyError:
            raise AttributeError(name) from None


def make_cast(platform: Platform) -> Cast:
    from lai_platform.challenges.lookups import find_challenge
    from lai_platform.challenges.roles import set_role
    from lai_platform.models import Challenge, Participation

    cast = Cast(platform)

    def admin(user):
        user.is_admin = True

    def role(name):
        return lambda user: set_role(find_challenge(SLUG), user, name, None)

    def other(user):
        other_challenge = find_challenge("other-challenge")
        if other_challenge is None:
            other_challenge = Challenge(slug="other-challenge", title="Other challenge")
            db.session.add(other_challenge)
            db.session.flush()
        set_role(other_challenge, user, "admin", None)

    def participant(status):
        def setup(user):
            db.session.add(Participation(user_id=user.id,
                                         challenge_id=find_challenge(SLUG).id, status=status))
        return setup

    cast.person("platform_admin", admin)
    cast.person("admin", role("admin"))
    cast.person("editor", role("editor"))
    cast.person("reviewer", role("reviewer"))
    cast.person("other_organizer", other)
    cast.person("participant", participant("approved"))
    cast.person("pending", participant("pending"))
    cast.person("outsider")
    return cast


@pytest.fixture
def cast(demo_platform) -> Cast:
    return make_cast(demo_platform)
