"""Compare a trusted publisher with the CI configuration in the checkout.

Most trusted-publishing failures surface only on release day, yet they are
visible in the repository beforehand (docs/protocol/publish-time.md#failure-modes). Each rule turns one of
those failure modes into a :class:`Finding` that names the file and line; the
rules live in one module per thing they look at, and this one decides which
of them apply to a publisher and in what order:

- :mod:`.repository`: the repository's identity (owner/repository, namespace/project);
- :mod:`.github_jobs`: the GitHub workflow file and the jobs in it that upload;
- :mod:`.gitlab_pipelines`: the GitLab pipeline, its includes and the jobs that upload;
- :mod:`.project_names`: the project the checkout builds.

Both CI groups read jobs through :mod:`.uploads` (what a job uploads, and where)
and :mod:`.workflows` (YAML with line numbers), and share :mod:`.job_rules`
(index, environment, secrets); every group reports through :mod:`.checker`.
"""

from __future__ import annotations

from collections.abc import Collection

from ..core.indexes import Index, resolve_index
from ..core.publishers import GitHubPublisher, GitLabPublisher, Publisher
from ..core.validation import normalize
from ..inputs.context import RepoContext
from . import claim_jobs, github_jobs, gitlab_pipelines, project_names, repository
from .checker import Checker
from .findings import Report
from .uploads import index_label


def describe(publisher: Publisher, index: Index, project: str, pending: bool) -> str:
    """One line naming what was checked, for the report header."""
    if isinstance(publisher, GitHubPublisher):
        what = f"{publisher.owner}/{publisher.repository}, workflow {publisher.workflow_filename}"
    elif isinstance(publisher, GitLabPublisher):
        what = f"{publisher.namespace}/{publisher.project}, pipeline {publisher.workflow_filepath}"
    else:
        what = publisher.label()
    environment = getattr(publisher, "environment", None)
    if environment is not None:
        what += f", environment {environment}" if environment else ", any environment"
    target = f" for {'pending ' if pending else ''}project {project}" if project else ""
    return f"{publisher.title} publisher {what} on {index_label(index.host)}{target}"


def check_publisher(
    publisher: Publisher,
    *,
    index: Index | None = None,
    project: str = "",
    pending: bool = False,
    context: RepoContext | None = None,
    jobs: Collection[str] | None = None,
) -> Report:
    """Check one publisher against the checkout; never raises for bad or missing files.

    ``jobs`` names the workflow jobs that publish this project when others in the same
    workflow publish other projects (a monorepo): only those are held to its environment.
    """
    index = index or resolve_index("pypi")
    context = context or RepoContext()
    project = normalize(project) if project else ""  # as results name it
    checker = Checker(index, context)
    checker.only_jobs = frozenset(jobs) if jobs is not None else None
    if isinstance(publisher, GitHubPublisher):
        repository.check_github(checker, publisher)
        github_jobs.check(checker, publisher)
        claim_jobs.check(checker, publisher)
    elif isinstance(publisher, GitLabPublisher):
        repository.check_gitlab(checker, publisher)
        gitlab_pipelines.check(checker, publisher)
    else:
        checker.add(
            "notice",
            "not-checked",
            f"{publisher.title} publishers have no workflow file in the repository to compare with.",
            f"Check the {publisher.title} side by hand: the identity that uploads must match the publisher.",
        )
    if project:
        project_names.check(checker, project, pending)
    return Report(checker.findings, [describe(publisher, index, project, pending)])
