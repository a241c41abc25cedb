"""Local validation that mirrors Warehouse's form rules and messages (docs/protocol/validation.md).

Everything here runs before any network call, so bad input costs no login, no
registration attempt and no rate-limit hit. Checks that need Warehouse's
database or an external service (unknown GitHub owner, existing or too-similar
project names, ActiveState lookups) stay on the server; we map its answers.
"""

from __future__ import annotations

import re
import sys
from functools import cache

from .errors import UsageError
from .publishers import (
    GITLAB_ISSUER,
    ActiveStatePublisher,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
    Publisher,
)

# Warehouse writes these with ``$``, which also matches before a trailing newline; we use
# ``fullmatch`` so that "repo\n" is refused here rather than stored as a broken publisher.
GITHUB_OWNER_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*$")
GITHUB_REPOSITORY_RE = re.compile(r"^[a-zA-Z0-9-_.]+$")
GITHUB_ENV_FORBIDDEN_RE = re.compile(r"[\x00-\x1F\x7F'\"`,;\\]")
GITLAB_NAMESPACE_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-_./+]*[a-zA-Z0-9]$")
GITLAB_PROJECT_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*[a-zA-Z0-9]$")
GITLAB_CONSECUTIVE_RE = re.compile(r"[._-]{2}")
GITLAB_ENV_RE = re.compile(r"^[a-zA-Z0-9\-_/${} ]+$")
ACTIVESTATE_PROJECT_RE = re.compile(r"^[.a-zA-Z0-9-]{3,40}$")
PROJECT_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])\Z", re.IGNORECASE | re.ASCII)
# A pragmatic version of wtforms' Email(): one @, a dotted domain, no spaces.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
# Seconds per HTTP request, for the CLI's --timeout and the action's timeout input alike.
TIMEOUT_LIMITS = (1.0, 300.0)


@cache
def stdlib_names() -> frozenset[str]:
    """Warehouse's STDLIB_PROHIBITED: the canonicalised stdlib module names."""
    from packaging.utils import canonicalize_name

    return frozenset(canonicalize_name(name) for name in sys.stdlib_module_names)


def normalize(name: str) -> str:
    """PEP 503 normalisation, by ``packaging`` (imported on first use: it is slow to import)."""
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)


def number_in_range(name: str, value: str, low: float, high: float, *, field: str = "") -> float:
    """``value`` as a number from ``low`` to ``high``; words, nan and inf are refused like any other."""
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not low <= number <= high:  # False for nan
        raise UsageError(f"{name} must be a number from {low:g} to {high:g}, got {value!r}", field=field or name)
    return number


def _fail(field: str, message: str, value: str | None = None) -> UsageError:
    """``field 'value': message``: the value is named, so a batch says which one is wrong."""
    if value is None:
        return UsageError(f"{field}: {message}", field=field)
    shown = value if len(value) <= 60 else value[:59] + "…"
    return UsageError(f"{field} {shown!r}: {message}", field=field)


def validate_github(p: GitHubPublisher) -> GitHubPublisher:
    if not p.owner:
        raise _fail("owner", "Specify GitHub repository owner (username or organization)")
    if not GITHUB_OWNER_RE.fullmatch(p.owner) or not p.owner.isascii():
        raise _fail("owner", "Invalid GitHub user or organization name.", p.owner)
    if not p.repository:
        raise _fail("repository", "Specify repository name")
    if not GITHUB_REPOSITORY_RE.fullmatch(p.repository) or not p.repository.isascii():
        raise _fail("repository", "Invalid repository name", p.repository)
    workflow = p.workflow_filename.strip()
    if not workflow:
        raise _fail("workflow", "Specify workflow filename")
    if not workflow.endswith((".yml", ".yaml")):
        raise _fail("workflow", "Workflow name must end with .yml or .yaml", workflow)
    if "/" in workflow:
        raise _fail("workflow", "Workflow filename must be a filename only, without directories", workflow)
    environment = p.environment
    if environment:
        if len(environment) > 255:
            raise _fail("environment", "Environment name is too long (maximum is 255 characters)", environment)
        if environment[0].isspace():
            raise _fail("environment", "Environment name may not start with whitespace", environment)
        if environment[-1].isspace():
            raise _fail("environment", "Environment name may not end with whitespace", environment)
        if GITHUB_ENV_FORBIDDEN_RE.search(environment):
            raise _fail(
                "environment",
                "Environment name must not contain non-printable characters or the "
                "characters \"'\", '\"', \"`\", \",\", \";\", \"\\\"",
                environment,
            )
    # Warehouse lower-cases the environment; empty means "any environment".
    return GitHubPublisher(p.owner, p.repository, workflow, environment.lower())


def _gitlab_name(value: str, field: str, required: str, pattern: re.Pattern[str], invalid: str) -> None:
    if not value:
        raise _fail(field, required)
    if value.lower().endswith((".git", ".atom")):
        raise _fail(field, "Name ends with .git or .atom", value)
    if not pattern.fullmatch(value) or GITLAB_CONSECUTIVE_RE.search(value) or not value.isascii():
        raise _fail(field, invalid, value)


def validate_gitlab(p: GitLabPublisher, *, pending: bool = False) -> GitLabPublisher:
    _gitlab_name(
        p.namespace,
        "namespace",
        "Specify GitLab namespace (username or group/subgroup)",
        GITLAB_NAMESPACE_RE,
        "Invalid GitLab username or group/subgroup name.",
    )
    _gitlab_name(
        p.project, "gitlab-project", "Specify project name", GITLAB_PROJECT_RE, "Invalid project name"
    )
    path = p.workflow_filepath.strip()
    if not path:
        raise _fail("workflow-path", "Specify top-level pipeline file path")
    if not path.endswith((".yml", ".yaml")):
        raise _fail("workflow-path", "Top-level pipeline file path must end with .yml or .yaml", path)
    if path.startswith("/") or path.endswith("/"):
        raise _fail("workflow-path", "Top-level pipeline file path cannot start or end with /", path)
    environment = "" if not p.environment.strip() else p.environment
    if environment and (not GITLAB_ENV_RE.fullmatch(environment) or not environment.isascii()):
        raise _fail("environment", "Invalid environment name", environment)
    issuer = (p.issuer_url or GITLAB_ISSUER).rstrip("/")
    if not issuer.startswith("https://"):
        raise _fail("issuer-url", "Choose GitLab issuer URL (an https:// URL)", issuer)
    if pending and issuer != GITLAB_ISSUER:
        # The account page builds its GitLab form without custom issuers.
        raise _fail("issuer-url", f"Pending publishers on your account only accept {GITLAB_ISSUER}", issuer)
    return GitLabPublisher(p.namespace, p.project, path, environment, issuer)


def validate_google(p: GooglePublisher) -> GooglePublisher:
    if not p.email:
        raise _fail("email", "This field is required.")
    if not EMAIL_RE.fullmatch(p.email):
        raise _fail("email", "Invalid email address.", p.email)
    return GooglePublisher(p.email, p.sub.strip())


def validate_activestate(p: ActiveStatePublisher) -> ActiveStatePublisher:
    if not p.organization:
        raise _fail("activestate-organization", "Specify ActiveState organization name")
    if not p.project:
        raise _fail("activestate-project", "Specify ActiveState project name")
    if not ACTIVESTATE_PROJECT_RE.fullmatch(p.project) or not p.project.isascii():
        raise _fail("activestate-project", "Invalid ActiveState project name", p.project)
    if "--" in p.project:
        raise _fail("activestate-project", "Double dashes are not allowed in the name", p.project)
    if p.project.startswith("-") or p.project.endswith("-"):
        raise _fail("activestate-project", "Leading or trailing dashes are not allowed in the name", p.project)
    if not p.actor:
        raise _fail("actor", "Specify the ActiveState actor username")
    return p


def validate_publisher(publisher: Publisher, *, pending: bool = False) -> Publisher:
    """Return the publisher as Warehouse would store it, or raise UsageError."""
    if isinstance(publisher, GitHubPublisher):
        return validate_github(publisher)
    if isinstance(publisher, GitLabPublisher):
        return validate_gitlab(publisher, pending=pending)
    if isinstance(publisher, GooglePublisher):
        return validate_google(publisher)
    return validate_activestate(publisher)


def validate_project_name(name: str, *, pending: bool) -> str:
    """Check a project name; pending names get Warehouse's full rules (docs/protocol/validation.md#project-name)."""
    if not name:
        raise _fail("project", "Specify project name")
    if not PROJECT_NAME_RE.fullmatch(name):
        raise _fail("project", "Invalid project name", name)
    if pending and normalize(name) in stdlib_names():
        raise _fail(
            "project",
            "This project name isn't allowed (conflict with the Python standard library module name)",
            name,
        )
    return name
