"""`lai`: the argument parser and the one place that turns results and errors into output
and exit codes (0 done, 1 refused or failed, 2 usage, 3 `status --wait` on a failed run)."""

from __future__ import annotations

import argparse
import sys

from lai_client import commands
from lai_client.api import ClientError
from lai_client.config import NotLoggedIn
from lai_client.output import print_json
from lai_client.team_commands import add_team_commands

DESCRIPTION = """The LAI Challenge Platform from the command line: log in with an API token,
join a challenge, download its training data, submit an algorithm image and follow it.
Add --json to any command for machine-readable output."""

SUBMIT_HELP = """Submit IMAGE: a `docker save` tarball (a .tar.gz is sent as it is, a plain
one gzipped on the fly), or the name of a local Docker image (`docker save` gzipped on the
fly). The gzipped image is kept in the cache ($XDG_CACHE_HOME/lai, else ~/.cache/lai) until
the platform has it. The upload goes in chunks and resumes: after a dropped connection `lai`
retries for up to --retry-for seconds, sending again at most the chunk that was in flight;
if it gives up or is stopped, running the same command resumes the same upload."""

TRY_HELP = """Run IMAGE (a local Docker image name, or a `docker save` tarball, loaded first)
on this machine with the phase's hardened container settings, by the platform's own runner
code, on data you downloaded (--data: the training archive, its extracted folder or its
inputs/ folder). Then /output/predictions.json gets the platform's own checks and, where
ground_truth.csv is beside the inputs, is scored with bootstrap CIs. A failure prints the
reason and message the platform would give. Needs a local Docker Engine; exit code 3 if the
run or its predictions fail."""


def build_parser() -> argparse.ArgumentParser:
    # --json before or after the command: the subcommands' copy must not reset the flag.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print JSON for scripts")
    parser = argparse.ArgumentParser(prog="lai", description=DESCRIPTION, parents=[common])
    parser.set_defaults(json=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, run, help_: str, **kwargs) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=kwargs.pop("description", help_),
                           parents=[common], **kwargs)
        p.set_defaults(run=run)
        return p

    p = command("login", commands.login, "verify an API token and store it (mode 0600)")
    p.add_argument("url", help="the platform's address, e.g. https://lai.example.org")
    p.add_argument("--token", help="the token (otherwise asked for, or read from stdin)")
    command("challenges", commands.challenges, "list the challenges")
    p = command("join", commands.join, "join a challenge (accepting its terms)")
    p.add_argument("slug")
    p.add_argument("--accept-terms", action="store_true",
                   help="accept the challenge's terms without asking (for scripts)")
    p = command("download", commands.download,
                "download the training data (resumes a partial file, checks the SHA-256)")
    p.add_argument("slug")
    p.add_argument("dir", nargs="?", default=".", help="where to save it (default: here)")
    p.add_argument("--retries", type=int, default=3,
                   help="resume this many times after a dropped connection (default 3)")
    p = command("submit", commands.submit, "submit an algorithm image to a phase",
                description=SUBMIT_HELP)
    p.add_argument("slug")
    p.add_argument("phase")
    p.add_argument("image", help="a `docker save` tarball, or a local Docker image name")
    p.add_argument("--comment", default="", help="a note kept with the submission")
    p.add_argument("--retry-for", type=float, default=120.0, metavar="SECONDS",
                   help="how long to wait for a dropped connection to come back (default 120)")
    _try_arguments(command("try", commands.try_, "run an image here as the platform would, "
                           "and score it", description=TRY_HELP))
    p = command("status", commands.status, "a submission's state, reason and scores")
    p.add_argument("id", type=int)
    p.add_argument("--wait", action="store_true",
                   help="poll until the run has ended (exit code 3 if it failed)")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
    p.add_argument("--timeout", type=float, help="give up waiting after this many seconds")
    p = command("logs", commands.logs, "a submission's logs (where the phase shows them)")
    p.add_argument("id", type=int)
    p = command("leaderboard", commands.leaderboard, "a phase's public leaderboard")
    p.add_argument("slug")
    p.add_argument("phase")
    p.add_argument("--page", type=int, default=1)
    add_team_commands(sub, common)
    return parser


def _try_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", help="a local Docker image name, or a `docker save` tarball")
    p.add_argument("--phase", help="SLUG/PHASE (or PHASE with --challenge) whose limits and "
                                   "task to use; without it, the default limits")
    p.add_argument("--challenge", help="the challenge's slug, for a bare --phase")
    p.add_argument("--data", default=".", help="the downloaded training data (default: here)")
    p.add_argument("--limits", help='JSON overriding limits, e.g. \'{"memory_mb": 8192}\'')
    p.add_argument("--time-limit", type=float, help="override the time limit (seconds)")
    p.add_argument("--bootstrap", type=int, default=1000,
                   help="bootstrap resamples for the CIs (default 1000)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = args.run(args)
    except NotLoggedIn as exc:
        print(f"lai: {exc}", file=sys.stderr)
        return 1
    except ClientError as exc:
        print(f"lai: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("lai: interrupted", file=sys.stderr)
        return 130
    if args.json:
        print_json(result.data)
    else:
        print(result.human(result.data))
    return result.exit_code


def main_exit() -> None:
    """The console script's entry point."""
    sys.exit(main())
