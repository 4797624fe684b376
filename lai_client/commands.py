"""One function per `lai` command: each gets the parsed arguments and returns what to print
(`--json` prints the returned data; otherwise `human` turns it into text)."""

from __future__ import annotations

import getpass
import json
import sys
import time
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lai_client.api import Api, ApiError, ClientError
from lai_client.config import Login, NotLoggedIn, load_login, save_login
from lai_client.output import colour, state, table
from lai_client.packing import pack
from lai_client.transfer import download_training
from lai_client.uploading import submit_packed

FINAL_STATES = ("succeeded", "failed")
EXIT_RUN_FAILED = 3  # `lai status --wait` on a run that failed


class Result:
    """What a command produced: data for --json, a way to say it for a person, an exit code."""

    def __init__(self, data: Any, human: Callable[[Any], str], exit_code: int = 0) -> None:
        self.data, self.human, self.exit_code = data, human, exit_code


def api_from_config() -> Api:
    login = load_login()
    return Api(login.url, login.token)


def login(args: Namespace) -> Result:
    url = args.url.rstrip("/")
    if "://" not in url:
        url = "https://" + url
    token = args.token or _ask_token(url)
    if not token:
        raise ClientError("No token given.", 2)
    try:
        Api(url, token).get("/challenges")  # a wrong token answers 401, not the list
    except ApiError as exc:
        if exc.status == 401:
            raise ClientError(f"The platform refused the token: {exc.message}") from None
        raise
    path = save_login(Login(url, token))
    return Result({"url": url, "config": str(path)},
                  lambda d: f"Logged in to {d['url']}; the token is kept in {d['config']} "
                            "(readable by you only).")


def _ask_token(url: str) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()  # a script piping the token in
    print(f"Create an API token on your account page ({url}/account) and paste it here.",
          file=sys.stderr)
    return getpass.getpass("API token: ").strip()


def challenges(args: Namespace) -> Result:
    data = api_from_config().get("/challenges")["challenges"]
    return Result(data, lambda rows: table(
        ["SLUG", "TITLE", "ACCESS", "SUMMARY"],
        [[c["slug"], c["title"], c["access"], c["summary"]] for c in rows])
        if rows else "No challenges yet.")


def join(args: Namespace) -> Result:
    api = api_from_config()
    challenge = api.get(f"/challenges/{args.slug}")
    if challenge.get("participation") in ("approved", "pending"):
        data = {"challenge": args.slug, "status": challenge["participation"]}
    else:
        if not args.accept_terms:
            _confirm_terms(challenge)
        data = api.post(f"/challenges/{args.slug}/join", json={"accept_terms": True})
    return Result(data, _joined)


def _confirm_terms(challenge: dict) -> None:
    if not sys.stdin.isatty():
        raise ClientError("Joining means accepting the challenge's terms: read them "
                          f"(lai join {challenge['slug']} on a terminal, or the challenge "
                          "page) and pass --accept-terms.", 2)
    print(challenge.get("terms") or "(This challenge states no terms.)", file=sys.stderr)
    answer = input(f"Accept the terms of {challenge['title']}? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise ClientError("Not joined: the terms were not accepted.")


def _joined(data: dict) -> str:
    if data["status"] == "pending":
        return f"Asked to join {data['challenge']}: the organizers review your request."
    return f"Joined {data['challenge']}: {state(data['status'])}."


def download(args: Namespace) -> Result:
    summary = download_training(api_from_config(), args.slug, Path(args.dir), args.retries)

    def say(d: dict) -> str:
        if d.get("already_there"):
            return f"{d['path']} is already there and matches sha256 {d['sha256']}."
        resumed = f", resumed at byte {d['resumed_at'][-1]}" if d["resumed_at"] else ""
        return (f"Saved {d['path']} ({d['size']} bytes{resumed}); sha256 {d['sha256']} "
                f"{colour('verified', 'green')}.")

    return Result(summary, say)


def submit(args: Namespace) -> Result:
    api = api_from_config()  # not logged in: said before a large image is compressed
    data = submit_packed(api, args.slug, args.phase, pack(args.image), args.comment,
                         args.retry_for)
    return Result(data, lambda d: f"Submission {d['id']} is {state(d['status'])}. Follow it "
                                  f"with: lai status {d['id']} --wait")


def status(args: Namespace) -> Result:
    api = api_from_config()
    sub = api.get(f"/submissions/{args.id}")
    deadline = time.monotonic() + args.timeout if args.timeout else None
    last = None
    while args.wait and sub["status"] not in FINAL_STATES:
        if sys.stderr.isatty() and sub["status"] != last:
            print(f"{args.id}: {sub['status']}", file=sys.stderr)
        last = sub["status"]
        if deadline is not None and time.monotonic() > deadline:
            raise ClientError(f"Submission {args.id} is still {sub['status']} after "
                              f"{args.timeout:g} s.")
        time.sleep(args.interval)
        sub = api.get(f"/submissions/{args.id}")
    failed = args.wait and sub["status"] == "failed"
    return Result(sub, _describe, EXIT_RUN_FAILED if failed else 0)


def _describe(sub: dict) -> str:
    rows = [("submission", f"{sub['id']} ({sub['challenge']}/{sub['phase']})"),
            ("state", state(sub["status"]))]
    # Given by newer platforms only: shown when the API sends them.
    if sub.get("queue_position") is not None:
        rows.append(("queue position", sub["queue_position"]))
    if sub.get("expected_start"):
        rows.append(("expected start", sub["expected_start"]))
    for label, key in (("waiting for", "waiting_for"), ("reason", "failure_reason"),
                       ("message", "failure_message"), ("rank", "rank"),
                       ("moderation", "moderation")):
        if sub.get(key) is not None:
            rows.append((label, sub[key]))
    metrics = (sub.get("metrics") or {}).get("metrics") or {}
    if metrics:
        rows.append(("metrics", ", ".join(f"{name} {_value(m)}" for name, m in
                                          sorted(metrics.items()))))
    return "\n".join(f"{label + ':':<16}{value}" for label, value in rows)


def _value(metric: Any) -> str:
    value = metric.get("value") if isinstance(metric, dict) else metric
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def logs(args: Namespace) -> Result:
    sub = api_from_config().get(f"/submissions/{args.id}")
    if "logs" not in sub:
        raise ClientError("Only the person who submitted and the organizers see its logs.")
    data = {"id": sub["id"], "logs": sub["logs"], "logs_visible": sub.get("logs_visible")}
    if sub["logs"] is None:
        reason = ("This phase does not show logs to participants." if not
                  sub.get("logs_visible") else "This run has left no logs (yet).")
        return Result(data, lambda d: reason)
    return Result(data, lambda d: d["logs"].rstrip("\n"))


def leaderboard(args: Namespace) -> Result:
    board = api_from_config().get(
        f"/challenges/{args.slug}/phases/{args.phase}/leaderboard", params={"page": args.page})

    def say(b: dict) -> str:
        if not b["entries"]:
            return f"No entries on {b['challenge']}/{b['phase']} yet."
        columns = b.get("columns") or [b["primary_metric"]]
        rows = [[e["rank"], e["participant"] + (" (baseline)" if e["is_baseline"] else ""),
                 e["submission_id"], *[_value((e["metrics"] or {}).get(c, {}).get("value"))
                                       for c in columns]] for e in b["entries"]]
        footer = f"\npage {b['page']}, {b['total']} entries, scored on {b['scored_on']}"
        return table(["RANK", "PARTICIPANT", "ID", *[c.upper() for c in columns]],
                     rows) + footer

    return Result(board, say)



def try_(args: Namespace) -> Result:
    # It brings the platform's runner (and Flask) with it, which no other command needs.
    from lai_client import trying  # lazily: only `lai try` imports the platform

    challenge, phase, source = _phase_of(args)
    overrides = _limits_arg(args.limits) | {"time_limit_s": args.time_limit}
    trial = trying.Trial(image=args.image, limits=trying.phase_limits(phase, overrides),
                         task=trying.challenge_task(challenge), source=source,
                         n_bootstrap=args.bootstrap)
    report = trying.run_trial(trial, args.data)
    return Result(report, trying.describe, 0 if report["ok"] else EXIT_RUN_FAILED)


def _phase_of(args: Namespace) -> tuple[dict | None, dict | None, str]:
    """The challenge and phase whose settings the trial uses (None, None: the defaults)."""
    if not args.phase:
        if args.challenge:
            raise ClientError("--challenge needs --phase.", 2)
        return None, None, "the platform's default limits: no --phase given"
    slug, _, phase_slug = args.phase.rpartition("/")
    slug = slug or args.challenge
    if not slug:
        raise ClientError("Name the phase as SLUG/PHASE, or give --challenge SLUG.", 2)
    try:
        challenge = api_from_config().get(f"/challenges/{slug}")
    except NotLoggedIn as exc:
        raise ClientError(f"{exc} (Or leave out --phase to try with the default limits, "
                          "adjusted with --limits.)") from None
    for phase in challenge.get("phases", []):
        if phase["slug"] == phase_slug:
            return challenge, phase, f"phase {slug}/{phase_slug}"
    known = ", ".join(p["slug"] for p in challenge.get("phases", []))
    raise ClientError(f"{slug} has no phase {phase_slug!r} (its phases: {known}).", 2)


def _limits_arg(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ClientError('--limits takes a JSON object, e.g. \'{"memory_mb": 8192}\'.', 2)
    return value
