"""The house rules, checked by reading the source: no import cycle, small files and
functions, and first-party imports at the top of a module unless a comment says why."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.paths import ROOT

PACKAGES = ("lai_platform", "evaluator", "lai_client")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def modules() -> dict[str, Path]:
    """Module name -> file, for every source file of our packages (migrations aside)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue
            name = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


MODULES = modules()


def first_party(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def imported(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules an import statement reads (`from a import b` reads a.b if it is one)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if first_party(alias.name)]
    if node.level:  # relative import
        base = module.rsplit(".", node.level)[0]
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    if not first_party(source):
        return []
    return [f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source
            for a in node.names]


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        edges = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges.update(m for m in imported(name, node) if m in MODULES and m != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_graph_sees_the_packages():
    graph = import_graph()
    assert "lai_platform.services" in graph["lai_platform.jobs.pipeline"]
    assert "evaluator.rank_methods" in graph["evaluator"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_files_and_functions_are_small(name):
    source = MODULES[name].read_text()
    assert len(source.splitlines()) <= MAX_FILE_LINES, f"{name} is over {MAX_FILE_LINES} lines"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{name}.{node.name} has {length} lines"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_first_party_imports_are_at_the_top_or_say_why(name):
    source = MODULES[name].read_text()
    lines = source.splitlines()
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom) and imported(name, node):
                assert "#" in lines[node.lineno - 1], (
                    f"{name}.{function.name} imports {imported(name, node)} inside the "
                    "function without a comment saying why"
                )
