"""Plan a trusted publisher for every project of an account (or organization): one login, then reading only.

For each project the plan reads, in this order, and stops at the first answer
that settles the verdict: the user's role (the projects page), the publishers
already registered (the project's publishing page, Owners only), the repository
(the JSON API's project URLs), and the publishing job (a checkout or GitHub's
API), which the same defaults and preflight rules as ``add`` and ``check`` turn
into a publisher and its blocking findings. Nothing is posted.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import RegistrationFailed, UsageError
from ..core.indexes import Index
from ..core.models import Place, Target
from ..core.publishers import Publisher, same_publisher
from ..core.validation import normalize
from ..engine.engine import Engine
from ..inputs.options import Options, resolve
from ..preflight import Finding, check_publisher
from ..preflight.uploads import index_label
from ..transports.github import GitHubError, RateLimit
from ..transports.web.projects import ListedProject
from .jobs import Undecided, choose, upload_jobs
from .metadata import NoRepository, source_repository
from .sources import Source, SourceReader
from .verdicts import ProjectPlan, Verdict

# Warnings that mean the upload would not use the publisher, or would use another one.
BLOCKING_WARNINGS = frozenset(
    {
        "password-bypass",
        "no-publish-step",
        "reusable-workflow",
        "workflow-call-trigger",
        "repository-mismatch",
        "environment-expression",
    }
)


@dataclass(frozen=True)
class Plan:
    index: Index
    username: str
    organization: str
    projects: list[ProjectPlan]
    pypi_requests: int
    github_requests: int
    github_authenticated: bool
    github_rate: RateLimit


def one_line(finding: Finding) -> str:
    where = f"{finding.where}: " if finding.where else ""
    return f"{where}{finding.message} [{finding.code}]"


class Planner:
    def __init__(self, engine: Engine, reader: SourceReader, *, organization: str = "") -> None:
        self.engine = engine
        self.index = engine.index
        self.reader = reader
        self.organization = organization

    def run(self) -> Plan:
        """Every project's plan; raises RegistrationFailed only when the projects page cannot be read."""
        listed = self.engine.projects(self.organization)
        ordered = sorted(listed, key=lambda project: normalize(project.name))
        projects = [self.assess(project) for project in ordered]
        api = self.reader.api
        return Plan(
            self.index,
            self.engine.credentials.username,
            self.organization,
            projects,
            self.engine.requests,
            api.requests,
            api.authenticated,
            api.rate,
        )

    def assess(self, listed: ListedProject) -> ProjectPlan:
        role = "Owner" if listed.owner else "Member" if self.organization else "Maintainer"
        plan = ProjectPlan(listed.name, role, organization=listed.organization)
        if not listed.owner:
            return _settle(plan, Verdict.NOT_OWNER, "you are not an Owner of it; only an Owner (of the project or "
                           "of its organization) can add a publisher")
        try:
            _, rows = self.engine.listing(Place(self.index, listed.name, Target.PROJECT))
            plan.existing = [row.publisher for row in rows]
            repository = source_repository(self.engine.project_info(listed.name))
        except NoRepository as exc:
            return _settle(plan, Verdict.NO_REPOSITORY, exc.message)
        except RegistrationFailed as exc:
            verdict = Verdict.NOT_OWNER if exc.reason == "not-owner" else Verdict.NEEDS_WORK
            return _settle(plan, verdict, exc.message)
        plan.repository = str(repository)
        try:
            source = self.reader.read(repository)
        except GitHubError as exc:
            return _settle(plan, Verdict.NEEDS_WORK, f"{exc.message} [{exc.code}]")
        plan.repository, plan.source = str(source.repository), source.where
        plan.notes += source.notes
        try:
            publisher, findings = self._publisher(listed.name, source, plan)
        except Undecided as exc:
            return _settle(plan, Verdict.NEEDS_WORK, f"{exc.message} [{exc.code}]")
        except UsageError as exc:
            return _settle(plan, Verdict.NEEDS_WORK, f"PyPI would refuse this publisher: {exc.message}")
        plan.publisher = publisher
        blocking = [f for f in findings if f.severity == "error" or f.code in BLOCKING_WARNINGS]
        plan.notes += [one_line(f) for f in findings if f.severity == "warning" and f not in blocking]
        if any(same_publisher(existing, publisher) for existing in plan.existing):
            plan.notes += [f"still to fix in the repository: {one_line(f)}" for f in blocking]
            return _settle(plan, Verdict.REGISTERED)
        others = [p for p in plan.existing if not same_publisher(p, publisher)]
        if others:
            plan.notes.append(
                f"it has {len(others)} other publisher(s), which stay: " + "; ".join(_label(p) for p in others)
            )
        if blocking:
            plan.reasons += [one_line(f) for f in blocking]
            return _settle(plan, Verdict.NEEDS_WORK)
        return _settle(plan, Verdict.READY)

    def _publisher(self, project: str, source: Source, plan: ProjectPlan) -> tuple[Publisher, list[Finding]]:
        """The publisher the repository's CI calls for, by ``add``'s defaults, and what ``check`` finds."""
        repository = source.repository
        jobs: tuple[str, ...] | None = None
        if repository.host == "github.com":
            choice = choose(upload_jobs(source.folder, self.index.host), project, index_label(self.index.host))
            plan.notes.append(choice.why)
            jobs = choice.jobs
            options = Options(
                provider="github", index=self.index.url, project=project, target=Target.PROJECT,
                owner=repository.owner, repository=repository.name, workflow=choice.workflow,
                environment=choice.environment,
            )
        else:
            options = Options(
                provider="gitlab", index=self.index.url, project=project, target=Target.PROJECT,
                namespace=repository.owner, gitlab_project=repository.name,
            )
        context = source.context()
        registration = resolve(options, context).registration
        report = check_publisher(
            registration.publisher, index=self.index, project=project, context=context, jobs=jobs
        )
        return registration.publisher, report.findings


def _settle(plan: ProjectPlan, verdict: Verdict, reason: str = "") -> ProjectPlan:
    plan.verdict = verdict
    if reason:
        plan.reasons.append(reason)
    return plan


def _label(publisher: Publisher) -> str:
    fields = ", ".join(f"{k}={v or '(any)'}" for k, v in publisher.form_fields().items())
    return f"{publisher.title} {fields}"
