"""From raw user input (CLI flags or action inputs) to a validated Registration.

Both front ends fill an :class:`Options`; :func:`resolve` applies the defaults
from the repository context, records where each value came from, and runs the
local validation. Nothing here touches the network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from ..core.errors import UsageError
from ..core.indexes import Index, resolve_index
from ..core.models import Registration, Target
from ..core.publishers import (
    GITLAB_ISSUER,
    KINDS,
    ActiveStatePublisher,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
    Publisher,
)
from ..core.validation import validate_project_name, validate_publisher
from .context import RepoContext, parse_remote, shown_remote

# "*" means any environment, as the empty string does (which is how PyPI stores "any").
ANY_ENVIRONMENT = "*"


@dataclass
class Options:
    """Everything a user can say about one registration; None means "default"."""

    provider: str = "github"
    index: str = "pypi"
    project: str | None = None
    target: Target = Target.AUTO
    organization: str = ""
    # GitHub
    owner: str | None = None
    repository: str | None = None
    workflow: str | None = None
    environment: str | None = None
    # GitLab
    namespace: str | None = None
    gitlab_project: str | None = None
    workflow_path: str | None = None
    issuer_url: str | None = None
    # Google
    email: str | None = None
    sub: str | None = None
    # ActiveState
    activestate_org: str | None = None
    activestate_project: str | None = None
    actor: str | None = None


@dataclass(frozen=True)
class Default:
    """A value the tool chose, and where it came from (printed to the user)."""

    field: str
    value: str
    source: str


@dataclass
class Resolved:
    registration: Registration
    defaults: list[Default] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Resolver:
    def __init__(self, options: Options, context: RepoContext) -> None:
        self.options = options
        self.context = context
        self.defaults: list[Default] = []
        self.warnings: list[str] = []
        self.not_derived = ""  # why owner and repository have no default, when they have none

    def pick(self, name: str, given: str | None, *candidates: Callable[[], tuple[str | None, str]]) -> str:
        """The given value, else the first candidate's value (recorded with its source).

        Candidates are callables so that a given value costs no file read or git call.
        """
        if given is not None:
            if name == "environment":  # kept as typed (Warehouse rejects edge spaces), except "any"
                return "" if given.strip() == ANY_ENVIRONMENT else given
            return given.strip()
        for candidate in candidates:
            value, source = candidate()
            if value:
                self.defaults.append(Default(name, value, source))
                return value
        return ""

    def project(self) -> str:
        return self.pick(
            "project", self.options.project, lambda: (self.context.pyproject_name(), "pyproject.toml [project].name")
        )

    def owner_repo(self) -> tuple[str, str, str]:
        """Owner, repository and their source: GITHUB_* in Actions, else the git remote."""
        ctx = self.context
        if ctx.in_github_actions and (found := ctx.github_repository()):
            return (*found, "GITHUB_REPOSITORY")
        url = ctx.git_remote_url()
        if url and (remote := parse_remote(url)):
            return (*remote, "git remote origin")
        looked = ["GITHUB_REPOSITORY is not set"] if ctx.in_github_actions else []
        looked.append(
            f"the git remote 'origin' is {shown_remote(url)}, not a github.com repository"
            if url else f"there is no git remote 'origin' in {ctx.cwd}"
        )
        self.not_derived = f"could not derive it: {', and '.join(looked)}. Pass --owner and --repo."
        return ("", "", "")

    def github(self, index: Index) -> GitHubPublisher:
        ctx, opts = self.context, self.options
        found = cache(self.owner_repo)
        owner = self.pick("owner", opts.owner, lambda: (found()[0], found()[2]))
        repository = self.pick("repository", opts.repository, lambda: (found()[1], found()[2]))
        running = ctx.running_workflow() if ctx.in_github_actions else None
        publishing = cache(ctx.publishing_workflow)
        workflow = self.pick(
            "workflow",
            opts.workflow,
            lambda: (publishing(), "the workflow that uses pypa/gh-action-pypi-publish"),
            lambda: (running, "GITHUB_WORKFLOW_REF"),
            lambda: ("release.yml", "built-in default"),
        )
        if opts.workflow is None and workflow == running and workflow != publishing():
            self.warnings.append(
                f"The workflow defaulted to {workflow!r}, the workflow running now. A bootstrap "
                "workflow normally registers the *release* workflow: pass its filename explicitly."
            )

        def job_environment() -> tuple[str | None, str]:
            # The environment the publishing job really uses beats a generic default
            # (docs/protocol/publish-time.md#environment-mismatch).
            found = ctx.publishing_environment(workflow, index.host) if "/" not in workflow else None
            return (found[0], f"job '{found[1]}' in {workflow}") if found else (None, "")

        environment = self.pick(
            "environment",
            opts.environment,
            job_environment,
            lambda: (index.default_environment, "index default"),
        )
        return GitHubPublisher(owner, repository, workflow, environment)

    def gitlab(self, index: Index) -> GitLabPublisher:
        opts = self.options
        environment = self.pick(
            "environment", opts.environment, lambda: (index.default_environment, "index default")
        )
        return GitLabPublisher(
            namespace=(opts.namespace or "").strip(),
            project=(opts.gitlab_project or "").strip(),
            workflow_filepath=self.pick(
                "workflow-path", opts.workflow_path, lambda: (".gitlab-ci.yml", "built-in default")
            ),
            environment=environment,
            issuer_url=(opts.issuer_url or GITLAB_ISSUER).strip(),
        )

    def publisher(self, index: Index) -> Publisher:
        kind = self.options.provider.strip().lower()
        if kind not in KINDS:
            raise UsageError(
                f"--provider must be one of {', '.join(KINDS)}, got {self.options.provider!r}",
                field="provider",
            )
        opts = self.options
        if kind == "github":
            return self.github(index)
        if kind == "gitlab":
            return self.gitlab(index)
        if kind == "google":
            return GooglePublisher((opts.email or "").strip(), (opts.sub or "").strip())
        return ActiveStatePublisher(
            (opts.activestate_org or "").strip(),
            (opts.activestate_project or "").strip(),
            (opts.actor or "").strip(),
        )


def resolve(options: Options, context: RepoContext | None = None) -> Resolved:
    """Apply defaults and validate; raises UsageError with Warehouse's message."""
    resolver = _Resolver(options, context or RepoContext())
    index = resolve_index(options.index)
    project = resolver.project()
    organization = options.organization.strip()
    if organization and options.target is Target.PROJECT:
        raise UsageError("--organization registers a pending publisher; it cannot go with --existing")
    target = Target.PENDING if organization else options.target
    publisher = resolver.publisher(index)
    account_pending = target is Target.PENDING and not organization
    try:
        publisher = validate_publisher(publisher, pending=account_pending)
    except UsageError as exc:
        if exc.field in ("owner", "repository") and resolver.not_derived:
            raise UsageError(f"{exc.message}; {resolver.not_derived}", field=exc.field) from None
        raise
    validate_project_name(project, pending=target is Target.PENDING)
    registration = Registration(index, project, publisher, target, organization)
    return Resolved(registration, resolver.defaults, resolver.warnings)
