"""Project names: does the publisher cover the project this checkout builds?

A trusted publisher's token only uploads to the projects that list it, so the
name in pyproject.toml must match the publisher's project (PEP 503 normalised).
"""

from __future__ import annotations

import re
from pathlib import Path

from packaging.utils import canonicalize_name

from .checker import Checker, read_text
from .findings import Where


def _pyproject_name_line(path: Path) -> int | None:
    """Line of ``name =`` in ``[project]``: tomllib gives values but no positions."""
    text = read_text(path)
    section = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line.strip("[] \t")
        elif section == "project" and re.match(r"name\s*=", line):
            return number
    return None


def check(checker: Checker, project: str, pending: bool) -> None:
    """The pending name must be the name the build uploads (PEP 503 normalised)."""
    name = checker.context.pyproject_name()
    if not name or canonicalize_name(name) == canonicalize_name(project):
        return
    where: Where = ("pyproject.toml", _pyproject_name_line(checker.cwd / "pyproject.toml"))
    built = canonicalize_name(name)
    if pending:
        checker.add(
            "error",
            "project-name-mismatch",
            f"The pending publisher is for project '{project}', but pyproject.toml builds '{name}' "
            f"(normalised '{built}'); the upload goes to a project this publisher does not cover.",
            f"Register the pending publisher for '{built}', or rename [project].name to '{project}'.",
            where,
        )
    else:
        checker.add(
            "warning",
            "project-name-mismatch",
            f"The publisher is registered on project '{project}', but pyproject.toml builds "
            f"'{name}' (normalised '{built}'); the token only covers projects that list this publisher.",
            f"Add the publisher to '{built}' too, or check which pyproject.toml the workflow builds.",
            where,
        )
