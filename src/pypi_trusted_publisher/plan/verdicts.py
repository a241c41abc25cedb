"""What the plan says about each project, as plain data for the batch file and the renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ..core.publishers import Publisher, to_dict


class Verdict(StrEnum):
    READY = "ready"  # a complete publisher can be registered
    REGISTERED = "registered"  # an identical publisher is already there
    NEEDS_WORK = "needs-work"  # the repository must change first (or could not be read)
    NOT_OWNER = "not-owner"  # only an Owner can add publishers
    NO_REPOSITORY = "no-repository"  # the metadata names no repository


ORDER = tuple(Verdict)


@dataclass
class ProjectPlan:
    """One project: the user's role, the verdict, and why."""

    name: str
    role: str  # "Owner", "Maintainer" (account page) or "Member" (organization page)
    verdict: Verdict = Verdict.READY
    organization: str = ""
    repository: str = ""  # "github.com/owner/name" once known
    source: str = ""  # where the workflow was read
    publisher: Publisher | None = None
    reasons: list[str] = field(default_factory=list)  # what blocks it, one line each
    notes: list[str] = field(default_factory=list)  # what the user should know, not blocking
    existing: list[Publisher] = field(default_factory=list)  # publishers the project has now

    def to_dict(self) -> dict[str, object]:
        return {
            "project": self.name,
            "role": self.role,
            "verdict": self.verdict.value,
            "organization": self.organization or None,
            "repository": self.repository or None,
            "source": self.source or None,
            "publisher": to_dict(self.publisher) if self.publisher is not None else None,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "existing_publishers": [to_dict(p) for p in self.existing],
        }


def counts(projects: list[ProjectPlan]) -> dict[str, int]:
    """How many projects got each verdict, in a fixed order."""
    return {verdict.value: sum(p.verdict is verdict for p in projects) for verdict in ORDER}
