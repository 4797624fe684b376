"""Organizers' commands: users, tokens, challenges."""

from sqlalchemy import select

from lai_platform.extensions import db
from lai_platform.models import ApiToken, Challenge, User


def test_create_user_reads_password_from_stdin(platform):
    runner = platform.app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "org@example.org", "--admin"], input="a long password\n"
    )
    assert result.exit_code == 0, result.output
    with platform.app.app_context():
        user = db.session.scalar(select(User))
        assert user.is_admin
        assert user.check_password("a long password")


def test_create_user_explains_a_short_password(platform):
    result = platform.app.test_cli_runner().invoke(
        args=["users", "create", "org@example.org"], input="short\n"
    )
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output


def test_token_create_prints_a_working_token(platform):
    runner = platform.app.test_cli_runner()
    runner.invoke(args=["users", "create", "p@example.org"], input="a long password\n")
    result = runner.invoke(args=["tokens", "create", "p@example.org"])
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("lai_")
    with platform.app.app_context():
        assert db.session.scalar(select(ApiToken)).token_hash == ApiToken.hash(token)
    unknown = runner.invoke(args=["tokens", "create", "nobody@example.org"])
    assert unknown.exit_code != 0 and "No account" in unknown.output


def test_challenges_load(platform, demo_bundle):
    result = platform.app.test_cli_runner().invoke(args=["challenges", "load", str(demo_bundle)])
    assert result.exit_code == 0, result.output
    with platform.app.app_context():
        challenge = db.session.scalar(select(Challenge))
        assert [p.slug for p in challenge.phases] == ["development", "final-test"]
        assert challenge.phase("development").submissions_per_day == 10
        assert challenge.phase("final-test").submissions_total == 2
        assert not challenge.phase("final-test").logs_visible
    again = platform.app.test_cli_runner().invoke(args=["challenges", "load", str(demo_bundle)])
    assert again.exit_code != 0 and "already loaded" in again.output
