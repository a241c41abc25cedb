"""GitHub: the registered workflow file and the jobs in it that upload.

PyPI matches the workflow by file name in the token's job_workflow_ref, and
the job that uploads must be able to get a token at all: ``id-token: write``,
the right environment, a Linux runner for the publish action, no pull-request
triggers and no reusable workflow in between.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

from ..core.publishers import GitHubPublisher
from ..inputs.context import PUBLISH_ACTION
from .checker import Checker, read_text
from .findings import Where
from .job_rules import environment, relevant, secrets
from .uploads import PUBLISH_TEXT_RE, Job, github_uploads
from .workflows import YamlList, YamlMap

WORKFLOWS_DIR = ".github/workflows"
MATRIX_RE = re.compile(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}")
# An `if:` that mentions one of these decides by event, ref or repository.
GUARD_RE = re.compile(r"github\.(?:event_name|ref|repository|head_ref|event\.pull_request\.head\.repo)|refs/tags")


def _triggers(workflow: YamlMap) -> dict[str, int]:
    """Event name → line, for the string, list and mapping forms of ``on:``."""
    on = workflow.get("on")
    line = workflow.line_of("on")
    if isinstance(on, str):
        return {on: line}
    if isinstance(on, YamlList):
        return {str(event): on.line_of(i) for i, event in enumerate(on)}
    if isinstance(on, YamlMap):
        return {str(event): on.line_of(event) for event in on}
    return {}


def grants_id_token(permissions: Any) -> bool:
    if isinstance(permissions, str):
        return permissions.strip() == "write-all"
    return isinstance(permissions, YamlMap) and str(permissions.get("id-token", "")).strip() == "write"


def check(checker: Checker, publisher: GitHubPublisher) -> None:
    """Find the registered workflow in .github/workflows, then check its jobs."""
    name = publisher.workflow_filename.strip()
    if "/" in name:
        name = PurePosixPath(name).name
        checker.add(
            "error",
            "workflow-is-path",
            f"The registered workflow '{publisher.workflow_filename}' is a path; PyPI matches only the "
            "file name in the token's job_workflow_ref.",
            f"Register the workflow as '{name}'.",
            (WORKFLOWS_DIR, None),
        )
    folder = checker.cwd / WORKFLOWS_DIR
    if not folder.is_dir():
        checker.add(
            "error",
            "no-workflows-folder",
            f"There is no {WORKFLOWS_DIR} folder here, so the workflow '{name}' cannot run.",
            f"Run the check from the repository root, or add {WORKFLOWS_DIR}/{name}.",
            (WORKFLOWS_DIR, None),
        )
        return
    path = find_workflow(checker, folder, name)
    if path is None:
        return
    workflow = checker.load(path)
    if workflow is None:
        return
    rel = checker.rel(path)
    jobs = workflow.get("jobs")
    if not isinstance(jobs, YamlMap):
        checker.add(
            "error",
            "invalid-workflow",
            f"{rel} has no `jobs:` mapping, so it runs nothing.",
            "Add the publishing job under `jobs:`.",
            (rel, workflow.line),
        )
        return
    check_jobs(checker, publisher, workflow, jobs, rel, path.name)


def find_workflow(checker: Checker, folder: Path, name: str) -> Path | None:
    """The registered file, or a differently-cased one; anything else is a finding."""
    files = {p.name: p for p in folder.iterdir() if p.is_file()}
    if name in files:
        return files[name]
    same = sorted(n for n in files if n.lower() == name.lower())
    if same:
        checker.add(
            "error",
            "workflow-case-mismatch",
            f"The publisher names workflow '{name}', but the file is '{same[0]}'; PyPI compares the file name exactly.",
            f"Register '{same[0]}', or rename the file to '{name}'.",
            (checker.rel(files[same[0]]), None),
        )
        return files[same[0]]
    # Compare names rather than globbing: a registered name is data, not a pattern.
    nested = sorted(p for p in folder.rglob("*") if p.name == name and p.is_file())
    publishing = sorted(
        p.name for p in files.values() if p.suffix in (".yml", ".yaml") and PUBLISH_TEXT_RE.search(read_text(p))
    )
    if nested:
        message = (
            f"The workflow '{name}' is at {checker.rel(nested[0])}, but GitHub only runs workflows "
            f"directly in {WORKFLOWS_DIR}."
        )
        fix = f"Move it to {WORKFLOWS_DIR}/{name}."
    else:
        message = f"No workflow named '{name}' exists in {WORKFLOWS_DIR}."
        fix = (
            f"Register the workflow that uploads ({', '.join(publishing)}), or rename it to '{name}'."
            if publishing
            else f"Add {WORKFLOWS_DIR}/{name}, or register the workflow that uploads."
        )
    checker.add("error", "workflow-not-found", message, fix, (WORKFLOWS_DIR, None))
    return None


def check_jobs(
    checker: Checker, publisher: GitHubPublisher, workflow: YamlMap, jobs: YamlMap, rel: str, filename: str
) -> None:
    """Check each job that uploads to this index; with none, say why the file uses no publisher."""
    direct: list[Job] = []
    remote_calls: list[tuple[str, Where, str]] = []
    reusable = False
    for name, data in jobs.items():
        if not isinstance(data, YamlMap):
            continue
        where: Where = (rel, data.line_of("uses"))
        uses = data.get("uses")
        if isinstance(uses, str):
            if uses.startswith("./"):
                reusable |= reusable_call(checker, str(name), uses, where, filename)
            else:
                remote_calls.append((str(name), where, uses))
            continue
        uploads = github_uploads(workflow, data, rel)
        if uploads and (checker.only_jobs is None or str(name) in checker.only_jobs):
            direct.append(Job(str(name), rel, jobs.line_of(name), data, tuple(uploads)))
    triggers = _triggers(workflow)
    if not direct:
        for name, where, uses in remote_calls:
            checker.add(
                "warning",
                "reusable-workflow",
                f"Job '{name}' calls {uses}; if that workflow uploads, the token's job_workflow_ref "
                f"names it instead of {filename}, and PyPI refuses the token.",
                f"Upload from a job defined in {filename} itself.",
                where,
            )
        if not remote_calls and not reusable:
            checker.add(
                "warning",
                "no-publish-step",
                f"{filename} has no job that uploads with {PUBLISH_ACTION}, twine, uv, pdm or maturin, "
                "so nothing in it uses this publisher.",
                "Register the workflow that uploads, or add the upload job to this one.",
                (rel, None),
            )
        return
    if "workflow_call" in triggers:
        checker.add(
            "warning",
            "workflow-call-trigger",
            f"{filename} is a reusable workflow (on: workflow_call); when another workflow calls it, "
            "the token's workflow_ref names the caller, and PyPI does not support publishing from "
            "reusable workflows.",
            "Upload from a top-level workflow (on: push, release or workflow_dispatch) and register it.",
            (rel, triggers["workflow_call"]),
        )
    for job in relevant(checker, direct):
        permissions(checker, workflow, job)
        environment(checker, job, job.data, rel, publisher.environment, exact=False)
        runner(checker, job)
        secrets(checker, job)
        pull_requests(checker, jobs, job, triggers)


def reusable_call(checker: Checker, name: str, uses: str, where: Where, filename: str) -> bool:
    """A job that calls a local reusable workflow which uploads to this index."""
    path = checker.cwd / uses[2:].split("@", 1)[0]
    called = checker.load(path) if path.is_file() else None
    jobs = called.get("jobs") if called is not None else None
    if called is None or not isinstance(jobs, YamlMap):
        return False
    uploads = [
        upload
        for data in jobs.values()
        if isinstance(data, YamlMap)
        for upload in github_uploads(called, data, checker.rel(path))
        if upload.target in (None, checker.index.host)
    ]
    if not uploads:
        return False
    checker.add(
        "error",
        "reusable-workflow",
        f"Job '{name}' calls the reusable workflow {path.name}, which uploads; the token's "
        f"job_workflow_ref then names {path.name}, not {filename}, and PyPI refuses it.",
        f"Move the upload job into {filename}: PyPI does not support publishing from reusable workflows.",
        where,
    )
    return True


def permissions(checker: Checker, workflow: YamlMap, job: Job) -> None:
    """``id-token: write`` must apply to the job; job-level permissions replace the workflow's."""
    if "permissions" in job.data:
        granted, where = job.data["permissions"], (job.file, job.data.line_of("permissions"))
        if grants_id_token(granted):
            return
        overrides = (
            " job-level permissions replace the workflow's, and"
            if grants_id_token(workflow.get("permissions"))
            else ""
        )
        message = (
            f"Job '{job.name}' sets `permissions:` without `id-token: write`;{overrides} "
            "without it the job cannot request an OIDC token."
        )
    elif "permissions" in workflow:
        if grants_id_token(workflow["permissions"]):
            return
        where = (job.file, workflow.line_of("permissions"))
        message = (
            f"The workflow's `permissions:` do not grant `id-token: write`, so job '{job.name}' "
            "cannot request an OIDC token."
        )
    else:
        where = (job.file, job.line)
        message = (
            f"Job '{job.name}' has no `id-token: write` permission (the default token permissions "
            "do not include it), so it cannot request an OIDC token."
        )
    checker.add(
        "error",
        "missing-id-token",
        message,
        f"Add `id-token: write` under `permissions:` of job '{job.name}'.",
        where,
    )


def runner(checker: Checker, job: Job) -> None:
    """pypa/gh-action-pypi-publish is a Docker action: Linux runners only."""
    if not any(upload.tool == PUBLISH_ACTION for upload in job.uploads):
        return
    for label, line in runner_labels(job.data):
        if label.lower().startswith(("windows", "macos")):
            checker.add(
                "error",
                "unsupported-runner",
                f"Job '{job.name}' runs {PUBLISH_ACTION} on '{label}', but it is a Docker container "
                "action, and those run only on Linux runners.",
                "Build on any OS, pass the dists on as an artifact, and upload from a job with "
                "`runs-on: ubuntu-latest`.",
                (job.file, line),
            )
            return


def runner_labels(job: YamlMap) -> list[tuple[str, int]]:
    """Every label ``runs-on`` can take, expanding ``${{ matrix.x }}`` from the job's matrix."""
    runs_on, line = job.get("runs-on"), job.line_of("runs-on")
    if isinstance(runs_on, YamlMap):
        runs_on = runs_on.get("labels")
    labels = [(runs_on, line)] if isinstance(runs_on, str) else []
    if isinstance(runs_on, YamlList):
        labels = [(v, runs_on.line_of(i)) for i, v in enumerate(runs_on) if isinstance(v, str)]
    strategy = job.get("strategy")
    matrix = strategy.get("matrix") if isinstance(strategy, YamlMap) else None
    expanded: list[tuple[str, int]] = []
    for label, label_line in labels:
        reference = MATRIX_RE.fullmatch(label.strip())
        if not reference or not isinstance(matrix, YamlMap):
            expanded.append((label, label_line))
            continue
        key = reference[1]
        values = matrix.get(key)
        if isinstance(values, YamlList):
            expanded += [(str(v), values.line_of(i)) for i, v in enumerate(values)]
        include = matrix.get("include")
        if isinstance(include, YamlList):
            expanded += [(str(e[key]), e.line_of(key)) for e in include if isinstance(e, YamlMap) and key in e]
    return expanded


def pull_requests(checker: Checker, jobs: YamlMap, job: Job, triggers: dict[str, int]) -> None:
    """PyPI refuses pull_request_target; fork pull requests get no token at all."""
    if guarded(jobs, job):
        return
    if "pull_request_target" in triggers:
        checker.add(
            "error",
            "pull-request-target",
            f"The workflow runs on pull_request_target and job '{job.name}' uploads without an `if:` "
            "that excludes it; PyPI refuses tokens from pull_request_target runs.",
            "Publish on `push` of tags or `release: published`, and remove pull_request_target from this workflow.",
            (job.file, triggers["pull_request_target"]),
        )
    if "pull_request" in triggers:
        checker.add(
            "warning",
            "fork-pull-request",
            f"Job '{job.name}' also uploads for pull requests: runs from forks get no OIDC token, and "
            "runs from branches would upload on every pull request.",
            f"Guard job '{job.name}' with `if: github.event_name == 'push'` (or "
            "`startsWith(github.ref, 'refs/tags/')`).",
            (job.file, triggers["pull_request"]),
        )


def guarded(jobs: YamlMap, job: Job) -> bool:
    """True when the upload step, the job or a job it needs has an event/ref/repository ``if:``."""
    if any(GUARD_RE.search(upload.condition) for upload in job.uploads):
        return True
    seen: set[str] = set()
    todo = [job.name]
    while todo:
        name = todo.pop()
        data = jobs.get(name)
        if name in seen or not isinstance(data, YamlMap):
            continue
        seen.add(name)
        if GUARD_RE.search(str(data.get("if") or "")):
            return True
        needs = data.get("needs")
        if isinstance(needs, str):
            todo.append(needs)
        elif isinstance(needs, YamlList):
            todo += [str(need) for need in needs]
    return False
