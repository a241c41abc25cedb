"""The shape ARCHITECTURE.md describes, held by the code: the tree, the layers, no cycle, no reach into privates."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "pypi_trusted_publisher"
PKG = "pypi_trusted_publisher"
# Which layers each layer may import (ARCHITECTURE.md, "Layers"); the package root gives only __version__.
ALLOWED = {
    "core": set(),
    "credentials": {"core"},
    "inputs": {"core"},
    "transports": {"core", "credentials"},
    "engine": {"core", "credentials", "transports"},
    "render": {"core", "inputs"},
    "preflight": {"core", "inputs", "transports"},
    "plan": {"core", "credentials", "inputs", "transports", "engine", "render", "preflight"},
    "commands": {"core", "credentials", "inputs", "transports", "engine", "render", "preflight", "plan"},
    "action": {"core", "credentials", "inputs", "transports", "engine", "render", "preflight", "plan"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def imports(name: str) -> list[tuple[str, list[str], int]]:
    """(module, names, line) of every import of the package in ``name``: top-level, in functions, type-only."""
    path = modules()[name]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == PKG or target.startswith(PKG + "."):
                found.append((target, [alias.name for alias in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.startswith(PKG)]
    return found


def graph() -> dict[str, set[str]]:
    """Module → the package's modules it names (``from pkg import submodule`` counts the submodule)."""
    known = modules()
    edges: dict[str, set[str]] = {}
    for name in known:
        targets = set()
        for module, names, _ in imports(name):
            subs = [f"{module}.{n}" for n in names if f"{module}.{n}" in known]
            targets |= set(subs) if subs and len(subs) == len(names) else {module}
        edges[name] = {t for t in targets if t in known and t != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def layer(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (SRC / parts[1]).is_dir()) else ""


def test_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_cycle_finder_finds_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_a_private_name_of_another() -> None:
    private = [
        f"{modules()[name].relative_to(ROOT)}:{line} imports {n} from {module}"
        for name in modules()
        for module, names, line in imports(name)
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert private == []


def test_only_the_cli_uses_argparse() -> None:
    users = sorted(
        str(path.relative_to(SRC))
        for path in modules().values()
        if re.search(r"^\s*(import argparse|from argparse import)", path.read_text(encoding="utf-8"), re.M)
    )
    assert users and all(user.startswith("commands/") for user in users), users


def test_layers_import_only_what_is_below_them() -> None:
    wrong = []
    for name, targets in graph().items():
        here = layer(name)
        if not here:
            continue  # the package root: __init__ (the version) and __main__
        for target in targets:
            there = layer(target)
            if there and there != here and there not in ALLOWED[here]:
                wrong.append(f"{name} imports {target}")
    assert wrong == []
    assert set(ALLOWED) == {p.name for p in SRC.iterdir() if p.is_dir() and p.name != "__pycache__"}


def listed_tree() -> dict[str, str]:
    """ARCHITECTURE.md's folder tree: every path it names, with its one-line description."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    block = text.split("## Folder tree", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    lines = block.splitlines()
    assert lines[0] == "src/pypi_trusted_publisher/"
    folders: list[str] = []
    listed = {}
    for line in lines[1:]:
        depth = (len(line) - len(line.lstrip(" "))) // 2
        entry, _, description = line.strip().partition(" ")
        folders = folders[: depth - 1]
        path = "/".join([*folders, entry.rstrip("/")])
        if entry.endswith("/"):
            folders.append(entry.rstrip("/"))
        listed[path] = description.strip()
    return listed


def test_architecture_lists_every_module_and_only_those() -> None:
    listed = listed_tree()
    files = {str(p.relative_to(SRC)) for p in SRC.rglob("*.py")}
    folders = {str(p.relative_to(SRC)) for p in SRC.rglob("*") if p.is_dir() and p.name != "__pycache__"}
    assert sorted(files - set(listed)) == [], "modules missing from ARCHITECTURE.md's tree"
    assert sorted(set(listed) - files - folders) == [], "ARCHITECTURE.md lists modules that are gone"
    assert [path for path, description in listed.items() if not description] == []
