"""The plan as the batch file ``add --config`` reads: a ``[[publisher]]`` table per ready project.

Every other project is a comment saying why it is not in the batch, one line per
blocking finding. Comments and values carry text from workflows and metadata, so
both are written so that nothing in them can end a comment or a string (a newline
in a workflow's environment name must not become a table of its own).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ..core.publishers import GitHubPublisher, GitLabPublisher, Publisher
from .planner import Plan
from .verdicts import ProjectPlan, Verdict, counts


def toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, plus DEL, which TOML does not allow bare."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def comment(text: str) -> str:
    """One comment line's text: no control characters, no line breaks."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def publisher_keys(publisher: Publisher) -> list[tuple[str, str]]:
    """The batch file's keys (``add``'s option names) for a GitHub or GitLab publisher."""
    if isinstance(publisher, GitHubPublisher):
        return [
            ("owner", publisher.owner),
            ("repository", publisher.repository),
            ("workflow", publisher.workflow_filename),
            ("environment", publisher.environment),
        ]
    assert isinstance(publisher, GitLabPublisher)
    return [
        ("provider", "gitlab"),
        ("namespace", publisher.namespace),
        ("gitlab-project", publisher.project),
        ("workflow-path", publisher.workflow_filepath),
        ("environment", publisher.environment),
        ("issuer-url", publisher.issuer_url),
    ]


def render_batch(plan: Plan, command: str, now: float) -> str:
    """The whole file: a header, the ready tables, then the other projects as comments."""
    who = f"the organization {plan.organization}" if plan.organization else f"the account {plan.username}"
    when = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M UTC")
    tally = ", ".join(f"{verdict} {n}" for verdict, n in counts(plan.projects).items())
    lines = [
        f"# Trusted publishers for every project of {comment(who)} on {plan.index.url},",
        f"# planned by 'pypi-trusted-publisher plan' on {when}: {tally}.",
        "# Register the ready ones below; a run that reaches PyPI's daily limit stops and the next one continues:",
        f"#   {comment(command)}",
        "",
    ]
    ready = [p for p in plan.projects if p.verdict is Verdict.READY]
    for project in ready:
        lines += _table(project)
    others = [p for p in plan.projects if p.verdict is not Verdict.READY]
    if others:
        lines.append("# Not in this batch:")
        lines.append("#")
    for project in others:
        lines += _not_ready(project)
    return "\n".join(lines).rstrip("\n") + "\n"


def _table(project: ProjectPlan) -> list[str]:
    assert project.publisher is not None
    lines = [f"# {comment(project.name)}: {comment(project.repository)}, read from {comment(project.source)}"]
    lines += [f"#   note: {comment(note)}" for note in project.notes]
    lines += ["[[publisher]]", f"project = {toml_string(project.name)}", "existing = true"]
    lines += [f"{key} = {toml_string(value)}" for key, value in publisher_keys(project.publisher)]
    return [*lines, ""]


def _not_ready(project: ProjectPlan) -> list[str]:
    where = f" ({comment(project.repository)})" if project.repository else ""
    lines = [f"# {comment(project.name)}: {project.verdict}{where}"]
    if project.verdict is Verdict.REGISTERED and project.publisher is not None:
        fields = ", ".join(f"{key} {value or '(any)'}" for key, value in publisher_keys(project.publisher))
        lines.append(f"#   already registered: {comment(fields)}")
    lines += [f"#   {comment(reason)}" for reason in project.reasons]
    lines += [f"#   note: {comment(note)}" for note in project.notes]
    return [*lines, "#"]
