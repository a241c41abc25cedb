"""Repository identity: is the publisher registered for this repository, spelled this way?

PyPI compares the owner and repository (GitHub) or namespace and project
(GitLab) with the token's claims, so a renamed, transferred or mistyped
repository fails on release day. CI's own variable names the repository
authoritatively; outside CI the git remote is the best guess (maybe a fork).
"""

from __future__ import annotations

import unicodedata

from ..core.publishers import GitHubPublisher, GitLabPublisher
from .checker import Checker
from .findings import Severity


def check_github(checker: Checker, publisher: GitHubPublisher) -> None:
    fields = {"owner": publisher.owner, "repository": publisher.repository}
    identity(checker, fields, checker.context.github_repository(), "GITHUB_REPOSITORY", case_matters=True)


def check_gitlab(checker: Checker, publisher: GitLabPublisher) -> None:
    namespace, _, project = checker.context.env.get("CI_PROJECT_PATH", "").rpartition("/")
    from_ci = (namespace, project) if namespace and project else None
    fields = {"namespace": publisher.namespace, "project": publisher.project}
    identity(checker, fields, from_ci, "CI_PROJECT_PATH", case_matters=False)


def _odd_character(value: str) -> str | None:
    """Describe the first whitespace, invisible or non-ASCII character, if any."""
    for position, char in enumerate(value, 1):
        if char.isspace() or not char.isascii() or not char.isprintable():
            name = unicodedata.name(char, "control character")
            return f"U+{ord(char):04X} {name} at position {position}"
    return None


def identity(
    checker: Checker, fields: dict[str, str], from_ci: tuple[str, str] | None, variable: str, *, case_matters: bool
) -> None:
    """Compare owner/repository with what CI's ``variable`` or the git remote says the repository is."""
    found, source, authoritative = canonical(checker, from_ci, variable)
    odd = False
    for label, value in fields.items():
        character = _odd_character(value)
        if character:
            odd = True
            checker.add(
                "error",
                "suspicious-characters",
                f"The publisher's {label} {value!r} contains {character}; "
                "PyPI compares it character for character with the token's claims.",
                f"Retype the {label} using plain ASCII letters, digits and '-'.",
            )
    if odd or found is None:
        return
    registered, actual = "/".join(fields.values()), "/".join(found)
    severity: Severity = "error" if authoritative else "warning"
    hint = "" if authoritative else " (if origin is a fork, check against the upstream repository)"
    if registered.lower() != actual.lower():
        checker.add(
            severity,
            "repository-mismatch",
            f"The publisher is for {registered}, but {source} says this repository is {actual}{hint}.",
            f"Register the publisher for {actual}; a renamed or transferred repository needs a new one.",
        )
    elif registered != actual and case_matters:
        repository_differs = list(fields.values())[-1] != found[1]
        checker.add(
            severity if repository_differs else "warning",
            "repository-case",
            f"The publisher spells the repository {registered}, but {source} spells it {actual}; "
            + (
                "PyPI compares the repository name exactly."
                if repository_differs
                else "PyPI stores GitHub's spelling of the owner, so check that it is the right account."
            ),
            f"Register the publisher as {actual}.",
        )


def canonical(
    checker: Checker, from_ci: tuple[str, str] | None, variable: str
) -> tuple[tuple[str, str] | None, str, bool]:
    """The repository's real identity: CI's variable is authoritative, the git remote (maybe a fork) is not."""
    if from_ci is not None:
        return from_ci, variable, True
    return checker.context.git_remote(), "the git remote 'origin'", False
