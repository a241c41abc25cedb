"""The plain data that flows through the tool.

inputs → :class:`Registration` (validated) → transport → :class:`Result` → renderers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from .indexes import Index
from .publishers import Publisher, to_dict
from .validation import normalize


class Status(StrEnum):
    REGISTERED = "registered"
    EXISTS = "exists"
    DRY_RUN = "dry-run"
    NEEDS_CONFIRMATION = "needs-confirmation"
    FAILED = "failed"
    REMOVED = "removed"

    @property
    def ok(self) -> bool:
        return self in (Status.REGISTERED, Status.EXISTS, Status.DRY_RUN, Status.REMOVED)


class Target(StrEnum):
    """Where the publisher goes: an existing project, or a pending one."""

    AUTO = "auto"
    PROJECT = "project"
    PENDING = "pending"


@dataclass(frozen=True)
class Place:
    """A publishing page: a project's, the account's pending one, or an organization's."""

    index: Index
    project: str = ""
    target: Target = Target.AUTO
    organization: str = ""

    @property
    def normalized_project(self) -> str:
        return normalize(self.project)


@dataclass(frozen=True)
class Registration:
    """One validated publisher to register on one index."""

    index: Index
    project: str
    publisher: Publisher
    target: Target = Target.AUTO
    organization: str = ""

    @property
    def normalized_project(self) -> str:
        return normalize(self.project)

    @property
    def place(self) -> Place:
        return Place(self.index, self.project, self.target, self.organization)


@dataclass(frozen=True)
class Result:
    status: Status
    registration: Registration
    pending: bool | None  # None: whether the project exists is not known (auto, nothing reached)
    message: str
    manage_url: str
    manual_url: str
    reason: str = ""
    method: str = "web"
    manual_steps: tuple[str, ...] = ()
    retry_after: int | None = None

    @property
    def exit_code(self) -> int:
        return 0 if self.status.ok else 1

    def to_dict(self) -> dict[str, object]:
        reg = self.registration
        data: dict[str, object] = {
            "status": self.status.value,
            "index": reg.index.url,
            "project": reg.normalized_project,
            "pending": self.pending,
            "organization": reg.organization or None,
            "publisher": to_dict(reg.publisher),
            "method": self.method,
            "manage_url": self.manage_url,
            "manual_url": self.manual_url,
            "message": self.message,
            "reason": self.reason or None,
        }
        if self.manual_steps:
            data["manual_steps"] = list(self.manual_steps)
        if self.retry_after is not None:
            data["retry_after"] = self.retry_after
        return data


@dataclass(frozen=True)
class Row:
    """One publisher row of a listing."""

    publisher_id: str
    publisher: Publisher
    project_name: str = ""  # pending listings only


class ClaimStatus(StrEnum):
    CLAIMED = "claimed"  # a pending publisher became the project
    PROVEN = "proven"  # a normal publisher accepted this job's token
    FAILED = "failed"
    SKIPPED = "skipped"  # not asked, or not possible in this job (the action says why)

    @property
    def ok(self) -> bool:
        return self in (ClaimStatus.CLAIMED, ClaimStatus.PROVEN, ClaimStatus.SKIPPED)


@dataclass(frozen=True)
class ClaimResult:
    status: ClaimStatus
    index: Index
    project: str
    message: str
    reason: str = ""
    fix: str = ""
    code: str = ""  # PyPI's error code, when it refused
    expires: int | None = None  # when the dropped upload token expires (epoch seconds)
    verified: bool | None = None  # the index lists the project afterwards
    claims: Mapping[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 0 if self.status.ok else 1

    def to_dict(self) -> dict[str, object]:
        return {
            "status": self.status.value,
            "index": self.index.url,
            "project": self.project,
            "message": self.message,
            "reason": self.reason or None,
            "fix": self.fix or None,
            "code": self.code or None,
            "expires": iso_time(self.expires) if self.expires is not None else None,
            "verified": self.verified,
            "claims": dict(self.claims),
        }


def iso_time(epoch: int) -> str:
    """``2026-12-07T13:32:10Z``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
