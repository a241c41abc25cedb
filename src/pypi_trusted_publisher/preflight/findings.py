"""What the pre-flight check found, and the four ways to show it.

One data shape (:class:`Finding`) feeds a terminal report, JSON for scripts,
GitHub workflow-command annotations and a job-summary section, so every
output says the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

Severity = Literal["error", "warning", "notice"]
# error: the publish will fail; warning: likely problem; notice: not checked.
# The file and line a finding points at; line None means the whole file.
Where = tuple[str, int | None]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "notice": 2}
MARKDOWN_ICON = {"error": "❌", "warning": "⚠️", "notice": "ℹ️"}


@dataclass(frozen=True)
class Finding:
    """One problem: where it is, why it breaks publishing, and how to fix it."""

    severity: Severity
    code: str
    message: str
    fix: str
    file: str = ""
    line: int | None = None
    # Which publisher (or token) it is about, once a report covers several.
    subject: str = ""

    @property
    def where(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass
class Report:
    """All findings for one or more publishers, errors first.

    ``claims`` holds the OIDC claims seen by ``check --oidc`` (never the token).
    """

    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    claims: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unique = dict.fromkeys(self.findings)
        self.findings = sorted(unique, key=lambda f: (SEVERITY_ORDER[f.severity], f.file, f.line or 0, f.code))

    @classmethod
    def combine(cls, reports: Iterable[Report]) -> Report:
        """Merge reports (several publishers, or workflow + OIDC checks), dropping repeats.

        With several subjects, each finding says which one it is about.
        """
        reports = list(reports)
        several = len({subject for report in reports for subject in report.checked}) > 1
        findings: list[Finding] = []
        checked: list[str] = []
        claims: dict[str, str] = {}
        for report in reports:
            subject = report.checked[0] if several and report.checked else ""
            findings += [f if f.subject or not subject else replace(f, subject=subject) for f in report.findings]
            checked += [c for c in report.checked if c not in checked]
            claims = claims or report.claims
        return cls(findings, checked, claims)

    def count(self, severity: Severity) -> int:
        return sum(f.severity == severity for f in self.findings)

    @property
    def has_errors(self) -> bool:
        return self.count("error") > 0

    @property
    def exit_code(self) -> int:
        return 1 if self.has_errors else 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _summary(report: Report) -> str:
    return f"{_plural(report.count('error'), 'error')}, {_plural(report.count('warning'), 'warning')}"


def render_text(report: Report) -> str:
    """A compiler-style report: ``file:line: severity: message [code]`` then the fix."""
    lines = [f"Checked {subject}" for subject in report.checked]
    if lines:
        lines.append("")
    for f in report.findings:
        prefix = f"{f.where}: " if f.where else ""
        lines.append(f"{prefix}{f.severity}: {f.message} [{f.code}]")
        if f.subject:
            lines.append(f"  for: {f.subject}")
        lines.append(f"  fix: {f.fix}")
    if report.claims:
        lines += ["", "OIDC token claims (for debugging; MISSING when absent):"]
        lines += [f"  * {name}: {value}" for name, value in report.claims.items()]
    if report.findings or report.claims:
        lines.append("")
    lines.append(_summary(report) if report.findings else "No problems found.")
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> dict[str, object]:
    data: dict[str, object] = {
        "checked": list(report.checked),
        "findings": [asdict(f) for f in report.findings],
        "errors": report.count("error"),
        "warnings": report.count("warning"),
    }
    if report.claims:
        data["claims"] = dict(report.claims)
    return data


@dataclass(frozen=True)
class Annotation:
    """A finding as a run-page annotation: plain text, escaped by whoever writes the workflow command."""

    severity: Severity
    title: str
    message: str
    file: str = ""
    line: int | None = None


def render_annotations(report: Report) -> list[Annotation]:
    """One annotation per finding, pointing at its file and line."""
    return [
        Annotation(
            f.severity,
            f"Trusted publishing: {f.code}",
            (f"For {f.subject}:\n" if f.subject else "") + f"{f.message}\nFix: {f.fix}",
            f.file,
            f.line,
        )
        for f in report.findings
    ]


def _cell(value: str) -> str:
    # Workflow content reaches the job summary: keep it out of HTML and table syntax.
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("\r", "")
        .replace("\n", "<br>")
    )


def render_markdown(report: Report) -> str:
    """A section for ``$GITHUB_STEP_SUMMARY``."""
    lines = ["### Trusted publishing check", ""]
    lines += [f"Checked {_cell(subject)}  " for subject in report.checked]
    if report.checked:
        lines.append("")
    if report.findings:
        lines += ["| | Where | Problem | Fix |", "|---|---|---|---|"]
        for f in report.findings:
            where = f"`{_cell(f.where)}`" if f.where else ""
            about = f"For {_cell(f.subject)}: " if f.subject else ""
            problem = f"{about}{_cell(f.message)} (`{f.code}`)"
            lines.append(f"| {MARKDOWN_ICON[f.severity]} {f.severity} | {where} | {problem} | {_cell(f.fix)} |")
        lines += ["", f"**{_summary(report)}.**"]
    else:
        lines.append("✅ No problems found.")
    if report.claims:
        lines += ["", "OIDC token claims (for debugging only; `MISSING` when absent):", ""]
        lines += [f"* `{name}`: `{_cell(value)}`" for name, value in report.claims.items()]
    return "\n".join(lines) + "\n"
