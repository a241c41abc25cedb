"""Which workflow job publishes a project: the workflow file and the environment its publisher names.

A repository usually has one job that uploads to the index, and its workflow and
environment are the publisher. A monorepo has one job per package, each with its
own environment (one repository/workflow/environment can be pending for only one
name, docs/protocol/publish-time.md#pending-lifecycle); the job that publishes a project is the one that names it:
the environment's ``url`` (``https://pypi.org/p/<name>``, as PyPA's guide writes
it), else the environment, job or ``packages-dir`` named after the project.
Uploads are found by the same reader as ``check`` (:mod:`..preflight.uploads`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..core.validation import normalize
from ..preflight.uploads import github_uploads
from ..preflight.workflows import YamlMap, YamlProblem, load
from .sources import WORKFLOWS

PROJECT_URL_RE = re.compile(r"^/(?:p|project)/([^/]+)/?$")


@dataclass(frozen=True)
class UploadJob:
    """A job that uploads to the index (or to an index chosen at run time)."""

    workflow: str
    job: str
    environment: str  # "" when the job declares none
    environment_url: str = ""
    packages_dir: str = ""


@dataclass(frozen=True)
class Choice:
    """The publisher's workflow and environment, and the jobs that upload with it."""

    workflow: str
    environment: str
    jobs: tuple[str, ...]
    why: str  # how the job was chosen, for the plan's notes


class Undecided(Exception):
    """No job, or no single job, publishes the project; the message says which and how to fix it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def upload_jobs(folder: Path, index_host: str) -> list[UploadJob]:
    """Every job of every workflow directly in .github/workflows that uploads to ``index_host``."""
    directory = folder / WORKFLOWS
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(p for p in directory.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file()):
        try:
            workflow = load(path)
        except YamlProblem:
            continue  # `check` reports it if this file is the one registered
        jobs = workflow.get("jobs") if isinstance(workflow, YamlMap) else None
        for name, job in jobs.items() if isinstance(jobs, YamlMap) else ():
            if not isinstance(job, YamlMap):
                continue
            uploads = github_uploads(workflow, job, f"{WORKFLOWS}/{path.name}")
            if any(upload.target in (None, index_host) for upload in uploads):
                found.append(_upload_job(path.name, str(name), job))
    return found


def _upload_job(workflow: str, name: str, job: YamlMap) -> UploadJob:
    environment = job.get("environment")
    url = ""
    if isinstance(environment, YamlMap):
        url = str(environment.get("url") or "")
        environment = environment.get("name")
    packages_dir = ""
    for step in job.get("steps") or ():
        inputs = step.get("with") if isinstance(step, YamlMap) else None
        if isinstance(inputs, YamlMap) and not packages_dir:
            packages_dir = str(inputs.get("packages-dir") or inputs.get("packages_dir") or "")
    return UploadJob(workflow, name, str(environment or "").strip(), url.strip(), packages_dir)


def choose(jobs: list[UploadJob], project: str, index_label: str) -> Choice:
    """The job that publishes ``project``; raises :class:`Undecided` when none or several could."""
    if not jobs:
        raise Undecided(
            "no-upload",
            f"no workflow in {WORKFLOWS} uploads to {index_label} (pypa/gh-action-pypi-publish, twine, uv, pdm or "
            "maturin); add a publishing job",
        )
    groups = _groups(jobs)
    if len(groups) == 1:
        (key, members), = groups.items()
        return _choice(key, members, "the only job that uploads")
    named: list[UploadJob] = []
    for level in (_names_by_url, _names_exactly, _names_in_part):
        named = [job for job in jobs if level(job, normalize(project))]
        matching = _groups(named)
        if len(matching) == 1:
            (key, members), = matching.items()
            return _choice(key, members, f"the job named after {project}")
        if matching:
            break
    listed = ", ".join(f"{job.workflow}:{job.job} ({job.environment or 'no environment'})" for job in jobs)
    raise Undecided(
        "several-uploads",
        f"several jobs upload to {index_label} with different workflows or environments ({listed}) and "
        f"{'more than one' if named else 'none'} names {project}: give the job that publishes it "
        f"`environment: {{name: …, url: https://pypi.org/p/{normalize(project)}}}`",
    )


def _groups(jobs: list[UploadJob]) -> dict[tuple[str, str], list[UploadJob]]:
    groups: dict[tuple[str, str], list[UploadJob]] = {}
    for job in jobs:
        groups.setdefault((job.workflow, job.environment.lower()), []).append(job)
    return groups


def _choice(key: tuple[str, str], members: list[UploadJob], why: str) -> Choice:
    names = ", ".join(f"'{job.job}'" for job in members)
    return Choice(key[0], members[0].environment, tuple(job.job for job in members), f"job {names} in {key[0]}: {why}")


def _names_by_url(job: UploadJob, wanted: str) -> bool:
    """The environment's URL is the project's page: ``https://pypi.org/p/<name>`` (or ``/project/<name>``)."""
    match = PROJECT_URL_RE.match(urlsplit(job.environment_url).path)
    return match is not None and normalize(match[1]) == wanted


def _words(job: UploadJob) -> list[str]:
    """The job's environment and name, and the folders of its ``packages-dir``, as lower-case dashed words."""
    words = [job.environment, job.job, *job.packages_dir.split("/")]
    return [re.sub(r"[^a-z0-9]+", "-", word.lower()).strip("-") for word in words if word.strip("/ .")]


def _names_exactly(job: UploadJob, wanted: str) -> bool:
    return wanted in _words(job)


def _names_in_part(job: UploadJob, wanted: str) -> bool:
    """``pypi-octo-core`` or ``publish-octo-core`` name ``octo-core``: a whole dash-separated part."""
    return any(f"-{wanted}-" in f"-{word}-" for word in _words(job))
