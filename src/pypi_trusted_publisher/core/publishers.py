"""The four kinds of trusted publisher, as plain data.

Each kind knows the Warehouse form field names it posts (docs/protocol/registration.md#field-sets), the text
Warehouse uses for it in flash messages (``str(publisher)``), and how two
publishers compare the way Warehouse compares them at token time (docs/protocol/registration.md#matching).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

GITLAB_ISSUER = "https://gitlab.com"


@dataclass(frozen=True)
class GitHubPublisher:
    owner: str
    repository: str
    workflow_filename: str
    environment: str = ""

    kind: ClassVar[str] = "github"
    title: ClassVar[str] = "GitHub"

    def form_fields(self) -> dict[str, str]:
        return {
            "owner": self.owner,
            "repository": self.repository,
            "workflow_filename": self.workflow_filename,
            "environment": self.environment,
        }

    def label(self) -> str:
        return self.workflow_filename

    def url(self) -> str:
        return f"https://github.com/{self.owner}/{self.repository}"

    def identity(self) -> tuple[str, ...]:
        # GitHub logins are case-insensitive and Warehouse stores GitHub's
        # canonical casing; environments are lower-cased on both sides.
        return (
            self.owner.lower(),
            self.repository,
            self.workflow_filename,
            self.environment.lower(),
        )


@dataclass(frozen=True)
class GitLabPublisher:
    namespace: str
    project: str
    workflow_filepath: str
    environment: str = ""
    issuer_url: str = GITLAB_ISSUER

    kind: ClassVar[str] = "gitlab"
    title: ClassVar[str] = "GitLab"

    def form_fields(self) -> dict[str, str]:
        return {
            "namespace": self.namespace,
            "project": self.project,
            "workflow_filepath": self.workflow_filepath,
            "environment": self.environment,
            "issuer_url": self.issuer_url,
        }

    def label(self) -> str:
        return self.workflow_filepath

    def url(self) -> str:
        return f"{self.issuer_url.rstrip('/')}/{self.namespace}/{self.project}"

    def identity(self) -> tuple[str, ...]:
        # Namespace and project compare case-insensitively at token time;
        # the pipeline path and the environment compare exactly.
        return (
            self.namespace.lower(),
            self.project.lower(),
            self.workflow_filepath,
            self.environment,
            self.issuer_url.rstrip("/"),
        )


@dataclass(frozen=True)
class GooglePublisher:
    email: str
    sub: str = ""

    kind: ClassVar[str] = "google"
    title: ClassVar[str] = "Google"

    def form_fields(self) -> dict[str, str]:
        return {"email": self.email, "sub": self.sub}

    def label(self) -> str:
        return self.email

    def url(self) -> str:
        return ""

    def identity(self) -> tuple[str, ...]:
        return (self.email.lower(), self.sub)


@dataclass(frozen=True)
class ActiveStatePublisher:
    organization: str
    project: str
    actor: str

    kind: ClassVar[str] = "activestate"
    title: ClassVar[str] = "ActiveState"

    def form_fields(self) -> dict[str, str]:
        return {
            "organization": self.organization,
            "project": self.project,
            "actor": self.actor,
        }

    def label(self) -> str:
        return self.url()

    def url(self) -> str:
        return f"https://platform.activestate.com/{self.organization}/{self.project}"

    def identity(self) -> tuple[str, ...]:
        return (self.organization.lower(), self.project.lower(), self.actor.lower())


Publisher = GitHubPublisher | GitLabPublisher | GooglePublisher | ActiveStatePublisher

KINDS: dict[str, type[Publisher]] = {
    cls.kind: cls
    for cls in (GitHubPublisher, GitLabPublisher, GooglePublisher, ActiveStatePublisher)
}


def same_publisher(a: Publisher, b: Publisher) -> bool:
    """True when Warehouse would treat both as the same publisher."""
    return a.kind == b.kind and a.identity() == b.identity()


def to_dict(publisher: Publisher) -> dict[str, str]:
    """``{"kind": …, <field>: …}``: the shape used in JSON and outputs."""
    return {"kind": publisher.kind, **asdict(publisher)}
