"""The plan for people (a count per verdict, then one row per project) and as one JSON document."""

from __future__ import annotations

from datetime import UTC, datetime

from ..transports.github import clock_time
from .batch_file import comment
from .planner import Plan
from .verdicts import ProjectPlan, counts


def github_line(plan: Plan) -> str:
    """Requests made to GitHub's API and what is left of its rate limit."""
    rate = plan.github_rate
    how = "with a token" if plan.github_authenticated else "anonymously (set GITHUB_TOKEN for 5,000 an hour)"
    line = f"GitHub API: {plan.github_requests} request(s) {how}"
    if rate.remaining is not None and rate.limit is not None:
        line += f"; {rate.remaining} of {rate.limit} left"
    if rate.reset is not None:
        line += f", the limit resets at {clock_time(rate.reset)}"
    return line


def _detail(project: ProjectPlan) -> str:
    if project.reasons:
        more = f" (+{len(project.reasons) - 1} more in the plan)" if len(project.reasons) > 1 else ""
        return comment(project.reasons[0]) + more
    publisher = project.publisher
    if publisher is None:
        return ""
    environment = getattr(publisher, "environment", "")
    return f"{publisher.label()}, environment {environment or '(any)'}"


def render_text(plan: Plan, output: str, command: str) -> str:
    who = f"organization {plan.organization}" if plan.organization else f"account {plan.username}"
    tally = counts(plan.projects)
    lines = [
        f"{len(plan.projects)} project(s) of the {who} on {plan.index.url}: "
        + ", ".join(f"{n} {verdict}" for verdict, n in tally.items()),
        "",
    ]
    headers = ("project", "role", "verdict", "repository", "publisher, or what stands in the way")
    rows = [(p.name, p.role, p.verdict.value, p.repository or "-", _detail(p)) for p in plan.projects]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers[:-1])]
    for *cells, detail in [headers, *rows]:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + "  " + detail)
    lines += ["", f"PyPI: {plan.pypi_requests} request(s). {github_line(plan)}."]
    ready = tally["ready"]
    if ready:
        lines.append(f"Wrote {output}; register the {ready} ready publisher(s) with:\n  {command}")
    else:
        lines.append(f"Wrote {output}; no project is ready to register yet.")
    return "\n".join(lines)


def render_json(plan: Plan, output: str, command: str) -> dict[str, object]:
    rate = plan.github_rate
    reset = datetime.fromtimestamp(rate.reset, UTC).isoformat() if rate.reset is not None else None
    return {
        "status": "ok",
        "index": plan.index.url,
        "account": plan.username,
        "organization": plan.organization or None,
        "output": output,
        "command": command,
        "counts": counts(plan.projects),
        "projects": [p.to_dict() for p in plan.projects],
        "requests": {"pypi": plan.pypi_requests, "github": plan.github_requests},
        "github_rate_limit": {
            "authenticated": plan.github_authenticated,
            "limit": rate.limit,
            "remaining": rate.remaining,
            "reset": reset,
        },
    }
