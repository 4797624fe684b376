"""Organizers' chores as `flask --app app <group> <command>`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import yaml
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from evaluator import RANKING_METHODS
from lai_platform.accounts.users import create_user, find_user, revoke_sessions
from lai_platform.audit import record
from lai_platform.challenges.bundles import BundleError, load_challenge
from lai_platform.challenges.demo import prepare_demo
from lai_platform.challenges.lookups import find_challenge
from lai_platform.challenges.roles import Role, set_role
from lai_platform.extensions import db
from lai_platform.leaderboards.ranking_job import rank_phase
from lai_platform.leaderboards.ranks import DISPLAY_MODES
from lai_platform.leaderboards.settings import configure_phase
from lai_platform.models import ApiToken, Submission
from lai_platform.scoring.evaluation_images import set_evaluation_image
from lai_platform.storage import cli as storage_cli
from lai_platform.submissions.moderation import set_baseline

users = AppGroup("users", help="Manage accounts.")
tokens = AppGroup("tokens", help="Manage API tokens.")
challenges = AppGroup("challenges", help="Manage challenges.")
demo = AppGroup("demo", help="The LAI demo challenge.")
phases = AppGroup("phases", help="Configure phases.")
submissions = AppGroup("submissions", help="Manage submissions.")
roles = AppGroup("roles", help="Roles per challenge: admin, editor, reviewer.")


@users.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="A platform admin: creates challenges, grants roles.")
@click.option("--name", default="", help="Name shown on leaderboards.")
def create_user_command(email: str, admin: bool, name: str) -> None:
    """Create an account; the password is read from standard input."""
    password = sys.stdin.readline().rstrip("\n")
    try:
        user = create_user(email, password, name, admin=admin)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"created {user.email} (id {user.id})")


@roles.command("grant")
@click.argument("email")
@click.argument("slug")
@click.argument("role", type=click.Choice([r.value for r in Role]))
def grant_role_command(email: str, slug: str, role: str) -> None:
    """Give EMAIL the ROLE in challenge SLUG (the first organizer of a new platform)."""
    user = find_user(email)
    challenge = find_challenge(slug)
    if user is None or challenge is None:
        raise click.ClickException(f"No account {email}." if user is None
                                   else f"No challenge {slug}.")
    before, after = set_role(challenge, user, role, None)
    record(None, challenge, "role.set", user.email, {"role": before}, {"role": after})
    db.session.commit()
    click.echo(f"{user.email} is {role} of {slug}")


@users.command("revoke-sessions")
@click.argument("email")
def revoke_sessions_command(email: str) -> None:
    """Sign EMAIL out of every browser (API tokens are revoked on the account page)."""
    user = find_user(email)
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    revoke_sessions(user)
    db.session.commit()
    click.echo(f"{user.email}: every browser session ended")


@tokens.command("create")
@click.argument("email")
@click.option("--label", default="cli")
def create_token_command(email: str, label: str) -> None:
    """Print a new API token for EMAIL (shown once; only its hash is stored)."""
    user = find_user(email)
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    row, token = ApiToken.issue(user, label)
    db.session.add(row)
    db.session.commit()
    click.echo(token)


@challenges.command("load")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--option", "options", multiple=True, help="Generator option KEY=VALUE.")
def load_challenge_command(path: Path, options: tuple[str, ...]) -> None:
    """Load a challenge bundle (a folder with challenge.yaml)."""
    try:
        challenge = load_challenge(path, _parse_options(options))
    except BundleError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"loaded {challenge.slug} with {len(challenge.phases)} phases")


@demo.command("prepare")
def demo_prepare_command() -> None:
    """Load the demo challenge, build the baseline image and submit it (queued)."""
    prepare_demo(click.echo)


@phases.command("set-evaluator")
@click.argument("challenge")
@click.argument("phase")
@click.argument("tarball", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--clear", is_flag=True, help="Go back to the built-in evaluator.")
def set_evaluator_command(challenge: str, phase: str, tarball: Path | None, clear: bool) -> None:
    """Score PHASE with an organizer's evaluation image (a `docker save` TARBALL)."""
    try:
        image_id = set_evaluation_image(challenge, phase, None if clear else tarball)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{challenge}/{phase}: " + (f"evaluated by {image_id}" if image_id
                                            else "built-in evaluator"))


def _configure_command() -> click.Command:
    """`phases configure`, built when an app is made: its choices and help list the ranking
    methods registered by then."""
    methods = "; ".join(f"{m.name}: {m.summary}" for m in RANKING_METHODS.values())

    @click.command("configure")
    @click.argument("challenge")
    @click.argument("phase")
    @click.option("--ranking", "method", type=click.Choice(list(RANKING_METHODS)),
                  help=f"How entries rank ({methods}).")
    @click.option("--metrics", help="Comma-separated ranking metrics (mean/median/case rank).")
    @click.option("--alpha", type=float, help="Significance level for test_then_rank.")
    @click.option("--display", type=click.Choice(DISPLAY_MODES))
    @click.option("--closes-at", type=click.DateTime(), help="UTC time the phase closes.")
    @with_appcontext
    def configure(challenge: str, phase: str, method: str | None, metrics: str | None,
                  alpha: float | None, display: str | None, closes_at) -> None:
        """Change how a phase ranks and shows entries; ranks are recomputed at once."""
        try:
            configure_phase(challenge, phase, method=method, alpha=alpha, display=display,
                            metrics=metrics.split(",") if metrics is not None else None,
                            closes_at=closes_at)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{challenge}/{phase}: configured and re-ranked")

    return configure


@submissions.command("mark-baseline")
@click.argument("submission_id", type=int)
@click.option("--unset", is_flag=True)
def mark_baseline_command(submission_id: int, unset: bool) -> None:
    """Show a submission as a baseline: on the leaderboard, with the rank it would have."""
    sub = db.session.get(Submission, submission_id)
    if sub is None:
        raise click.ClickException(f"No submission {submission_id}.")
    set_baseline(sub, not unset, None)  # the same change (and audit event) as the pages
    rank_phase(sub.phase_id)  # at once: no ranking worker may run beside a command
    click.echo(f"submission {submission_id}: baseline={not unset}")


def _parse_options(options: tuple[str, ...]) -> dict:
    parsed = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.ClickException(f"--option takes KEY=VALUE, got {item!r}")
        parsed[key] = yaml.safe_load(value)
    return parsed


def register(app: Flask) -> None:
    phases.add_command(_configure_command())
    for group in (users, tokens, challenges, demo, phases, submissions, roles):
        app.cli.add_command(group)
    app.cli.add_command(storage_cli.storage)
