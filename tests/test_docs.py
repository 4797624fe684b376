"""The documentation says what the code does: the README's route table is the app's, its roles
table is roles.py's, and every command the docs show exists with the options they give."""

from __future__ import annotations

import importlib.util
import re

import pytest

from evaluator.__main__ import main as evaluator_main
from lai_platform.challenges.roles import ROLE_PERMISSIONS
from tests.paths import ROOT

README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "examples").glob("*/*.md")),
        *sorted((ROOT / "lai_platform" / "templates").rglob("*.html"))]
FLASK_COMMAND = re.compile(r"flask --app app ([a-z-]+) ([a-z-]+)([^\n`]*)")


def _script():
    spec = importlib.util.spec_from_file_location("route_table", ROOT / "scripts" /
                                                  "route_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return _script().app_in(tmp_path_factory.mktemp("docs"))


def test_the_readme_route_table_is_the_apps(app):
    script = _script()
    expected = script.route_table(app)
    assert script.readme_table(README.read_text(encoding="utf-8")) == expected, (
        "README.md's route table is out of date: run "
        "`.venv/bin/python scripts/route_table.py --readme`"
    )


def test_the_route_table_names_each_routes_permission(app):
    rows = {tuple(cell.strip(" `") for cell in line.strip("|").split("|"))
            for line in _script().route_table(app).splitlines()[2:]}
    assert ("GET", "/organize/new", "platform admin") in rows
    assert ("POST", "/organize/<slug>/roles", "manage") in rows
    assert ("PUT", "/api/v1/challenges/<slug>/task", "edit") in rows
    assert ("POST", "/api/v1/challenges/<slug>/participants/<int:user_id>/ban",
            "review") in rows
    assert ("GET", "/organize/<slug>/audit", "view") in rows
    assert ("GET", "/organize/", "signed in") in rows
    assert ("POST", "/api/v1/challenges/<slug>/join", "token") in rows
    assert ("GET", "/api/v1/challenges/<slug>/announcements", "public") in rows
    assert not any(path.startswith("/static/") for _, path, _ in rows)


def test_the_readme_roles_table_is_roles_py():
    found = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| (admin|editor|reviewer) \| ([a-z, ]+) \|", line)
        if match:
            found[match.group(1)] = set(match.group(2).split(", "))
    assert found == {role.value: {p.value for p in permissions}
                     for role, permissions in ROLE_PERMISSIONS.items()}


def test_every_flask_command_in_the_docs_exists_with_its_options(app):
    seen = 0
    for path in DOCS:
        for group, command, rest in FLASK_COMMAND.findall(path.read_text(encoding="utf-8")):
            where = f"{path.relative_to(ROOT)}: flask {group} {command}"
            assert group in app.cli.commands, f"{where}: no command group {group!r}"
            commands = app.cli.commands[group].commands
            assert command in commands, f"{where}: no command {command!r}"
            options = {o for p in commands[command].params for o in p.opts if o.startswith("-")}
            for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest):
                assert option in options, f"{where}: no option {option}"
            seen += 1
    assert seen >= 8  # the scan itself finds the README's commands


def test_no_doc_mentions_the_removed_organizer_flag():
    for path in DOCS:
        assert "--organizer" not in path.read_text(encoding="utf-8"), path


def test_the_evaluator_options_in_the_docs_exist(capsys):
    with pytest.raises(SystemExit):
        evaluator_main(["--help"])
    known = set(re.findall(r"--[a-z-]+", capsys.readouterr().out))
    used = set()
    for path in DOCS:
        text = path.read_text(encoding="utf-8").replace("\\\n", " ")
        for line in re.findall(r"python -m evaluator([^\n`]*)", text):
            used |= set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", line))
    assert "--task" in used
    assert used <= known, f"options the evaluator does not have: {used - known}"
