"""What every preflight rule shares: the index, the checkout and the findings so far.

Each rule group receives the one :class:`Checker` for the publisher being
checked and reports through :meth:`Checker.add`; CI files that cannot be read
become findings here, the same way for GitHub and GitLab.
"""

from __future__ import annotations

from pathlib import Path

from ..core.indexes import Index
from ..inputs.context import RepoContext
from .findings import Finding, Severity, Where
from .workflows import YamlMap, YamlProblem, load


def read_text(path: Path) -> str:
    """File text, or "" when unreadable: callers only search it."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


class Checker:
    """Collects findings for one publisher on one index, in one checkout."""

    def __init__(self, index: Index, context: RepoContext) -> None:
        self.index = index
        self.context = context
        self.cwd = context.cwd
        self.findings: list[Finding] = []
        # The GitHub jobs that upload this publisher's project (None: every job that uploads to the index).
        self.only_jobs: frozenset[str] | None = None

    def add(self, severity: Severity, code: str, message: str, fix: str, where: Where = ("", None)) -> None:
        self.findings.append(Finding(severity, code, message, fix, where[0], where[1]))

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.cwd).as_posix()
        except ValueError:
            return path.as_posix()

    def load(self, path: Path) -> YamlMap | None:
        """Parse a CI file; bad YAML becomes a finding."""
        rel = self.rel(path)
        try:
            data = load(path)
        except YamlProblem as exc:
            self.add(
                "error",
                "invalid-yaml",
                f"{rel} is not valid YAML: {exc.message}.",
                "Fix the YAML syntax; the CI service cannot run this file either.",
                (rel, exc.line),
            )
            return None
        if not isinstance(data, YamlMap):
            self.add(
                "error",
                "invalid-workflow",
                f"{rel} does not contain a YAML mapping, so it defines no jobs.",
                "Restore the workflow's content.",
                (rel, 1),
            )
            return None
        return data
