"""`lai team ...`: one's team in a challenge — show it, create one, join with an invite
token or link, renew the link, leave. Members share the phase quotas and are one
leaderboard row."""

from __future__ import annotations

import argparse
from argparse import Namespace

from lai_client.commands import Result, api_from_config


def add_team_commands(sub, common: argparse.ArgumentParser) -> None:
    team = sub.add_parser("team", help="your team in a challenge (show, create, join, leave)",
                          description="Your team in a challenge: members share the phase "
                          "quotas and are one leaderboard row.", parents=[common])
    actions = team.add_subparsers(dest="team_action", required=True, metavar="ACTION")
    for name, run, help_, arguments in ACTIONS:
        p = actions.add_parser(name, help=help_, parents=[common])
        for argument in arguments:
            p.add_argument(argument)
        p.set_defaults(run=run)


def show(args: Namespace) -> Result:
    return Result(api_from_config().get(f"/challenges/{args.slug}/team"), _team)


def create(args: Namespace) -> Result:
    team = api_from_config().post(f"/challenges/{args.slug}/teams", json={"name": args.name})
    return Result(team, _team)


def join(args: Namespace) -> Result:
    token = args.invite.rstrip("/").rsplit("/", 1)[-1]  # a whole link works too
    return Result(api_from_config().post("/teams/join", json={"token": token}), _team)


def renew(args: Namespace) -> Result:
    return Result(api_from_config().post(f"/challenges/{args.slug}/team/invite"), _team)


def leave(args: Namespace) -> Result:
    left = api_from_config().post(f"/challenges/{args.slug}/team/leave")
    return Result(left, lambda d: "You left the team" + (
        "; it had no one else and is deleted." if d.get("team_deleted") else "."))


def _team(team: dict) -> str:
    names = ", ".join(member["name"] for member in team["members"])
    lines = [f"Team {team['name']} in {team['challenge']}: {names}",
             f"Invite link: {team['invite_url']}"]
    if team.get("changes_close_at"):
        lines.append(f"Team changes close at {team['changes_close_at']}.")
    return "\n".join(lines)


# name, function, help, positional arguments
ACTIONS = [
    ("show", show, "your team, its members and invite link", ["slug"]),
    ("create", create, "create a team (you are its first member)", ["slug", "name"]),
    ("join", join, "join a team with its invite link (…/teams/join/TOKEN) or token",
     ["invite"]),
    ("renew", renew, "replace the invite link (the old one stops working)", ["slug"]),
    ("leave", leave, "leave your team (not once you have submitted in it)", ["slug"]),
]
