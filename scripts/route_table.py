"""Print the README's route table: every route of the app, its methods and who may use it.

    .venv/bin/python scripts/route_table.py            # the Markdown table on stdout
    .venv/bin/python scripts/route_table.py --readme   # rewrite the table in README.md

The permission comes from the view itself: organizer routes carry `.permission` (set by the
decorators in lai_platform/web/organize/access.py and lai_platform/api/access.py); the
others are `signed in` (web, `login_required`), `token` (API, `token_required`), `token or
signed in` (API, `token_or_session_user`) or `public`.
tests/test_docs.py fails when README.md's table differs from this output.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START, END = "<!-- route-table:start -->", "<!-- route-table:end -->"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
LABELS = {"platform_admin": "platform admin", "signed_in": "signed in"}


def route_table(app: Flask) -> str:
    """The Markdown table, one row per method and path (/static/ left out)."""
    from lai_platform.api.auth import token_or_session_user, token_required
    from lai_platform.web.auth import login_required

    # Each wrapper these decorators make shares its inner function's code object.
    wrappers = {login_required(_nothing).__code__: "signed in",
                token_required(_nothing).__code__: "token",
                token_or_session_user(_nothing).__code__: "token or signed in"}
    rows = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        who = _permission(app.view_functions[rule.endpoint], wrappers)
        for method in METHODS:
            if method in (rule.methods or ()):
                rows.append((rule.rule, METHODS.index(method), method, who))
    lines = ["| method | path | permission |", "|---|---|---|"]
    lines += [f"| {method} | `{path}` | {who} |" for path, _, method, who in sorted(rows)]
    return "\n".join(lines) + "\n"


def _permission(view: Callable, wrappers: dict) -> str:
    permission = getattr(view, "permission", None)
    if permission is not None:
        return LABELS.get(str(permission), str(permission))
    while view is not None:
        code = getattr(view, "__code__", None)
        if code in wrappers:
            return wrappers[code]
        view = getattr(view, "__wrapped__", None)
    return "public"


def _nothing(**kwargs) -> None:
    return None


def readme_table(text: str) -> str:
    """The table between the README's markers."""
    match = re.search(re.escape(START) + r"\n(.*?)" + re.escape(END), text, re.S)
    if match is None:
        raise ValueError(f"README.md has no {START} ... {END} block")
    return match.group(1)


def with_table(text: str, table: str) -> str:
    readme_table(text)  # the markers must be there
    return re.sub(re.escape(START) + r"\n.*?" + re.escape(END),
                  lambda _: f"{START}\n{table}{END}", text, count=1, flags=re.S)


def app_in(data_dir: Path) -> Flask:
    """An app on an empty data folder: nothing is started, nothing is migrated."""
    from lai_platform import create_app
    from lai_platform.config import Settings

    return create_app(Settings.from_env({"LAI_DATA_DIR": str(data_dir)}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="rewrite README.md's table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lai-routes-") as tmp:
        table = route_table(app_in(Path(tmp)))
    if args.readme:
        README.write_text(with_table(README.read_text(encoding="utf-8"), table),
                          encoding="utf-8")
    else:
        sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
