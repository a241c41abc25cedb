"""Compare a trusted publisher with the CI configuration in the checkout.

Most trusted-publishing failures surface only on release day, yet they are
visible in the repository beforehand (contract §13). Each rule here turns one
of those failure modes into a :class:`Finding` that names the file and line.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

from ..context import PUBLISH_ACTION, RepoContext
from ..indexes import Index, resolve_index
from ..publishers import GitHubPublisher, GitLabPublisher, Publisher
from . import project_names, repository
from .checker import Checker, read_text
from .findings import Report, Where
from .job_rules import environment, relevant, secrets
from .uploads import PUBLISH_TEXT_RE, Job, github_uploads, index_label, merged_env, scan_script, script_texts
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


def _grants_id_token(permissions: Any) -> bool:
    if isinstance(permissions, str):
        return permissions.strip() == "write-all"
    return isinstance(permissions, YamlMap) and str(permissions.get("id-token", "")).strip() == "write"


def check_github(checker: Checker, publisher: GitHubPublisher) -> None:
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
        if uploads:
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
        if _grants_id_token(granted):
            return
        overrides = (
            " job-level permissions replace the workflow's, and"
            if _grants_id_token(workflow.get("permissions"))
            else ""
        )
        message = (
            f"Job '{job.name}' sets `permissions:` without `id-token: write`;{overrides} "
            "without it the job cannot request an OIDC token."
        )
    elif "permissions" in workflow:
        if _grants_id_token(workflow["permissions"]):
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


# The `aud` each index's /_/oidc/audience returns (contract §8).
AUDIENCES = {"pypi.org": "pypi", "test.pypi.org": "testpypi"}
GITLAB_KEYWORDS = frozenset(
    {
        "default",
        "include",
        "stages",
        "variables",
        "workflow",
        "image",
        "services",
        "cache",
        "before_script",
        "after_script",
        "types",
        "spec",
    }
)


def check_gitlab(checker: Checker, publisher: GitLabPublisher) -> None:
    """Find the registered pipeline file, then check the jobs that upload from it or its includes."""
    rel = publisher.workflow_filepath.strip()
    path = checker.cwd / rel
    if not path.is_file():
        same = sorted(
            p
            for p in (path.parent.iterdir() if path.parent.is_dir() else ())
            if p.is_file() and p.name.lower() == path.name.lower()
        )
        if not same:
            checker.add(
                "error",
                "workflow-not-found",
                f"The publisher names the top-level pipeline '{rel}', but no such file exists here.",
                "Register the path of the pipeline file that uploads (usually .gitlab-ci.yml).",
                (rel, None),
            )
            return
        path = same[0]
        checker.add(
            "error",
            "workflow-case-mismatch",
            f"The publisher names pipeline '{rel}', but the file is '{checker.rel(path)}'; PyPI compares "
            "the path exactly.",
            f"Register '{checker.rel(path)}'.",
            (checker.rel(path), None),
        )
    pipeline = checker.load(path)
    if pipeline is None:
        return
    documents = [(checker.rel(path), pipeline), *gitlab_includes(checker, pipeline)]
    # Definitions in the top-level file win over included ones.
    templates = {
        name: (file, data)
        for file, document in reversed(documents)
        for name, data in document.items()
        if isinstance(data, YamlMap)
    }
    jobs: list[tuple[Job, list[tuple[str, YamlMap]]]] = []
    for name, (file, data) in templates.items():
        if name in GITLAB_KEYWORDS or str(name).startswith("."):
            continue
        layers = extends_layers(file, data, templates, 0)
        scopes = [(documents[0][0], pipeline, "variables")] + [(f, m, "variables") for f, m in layers]
        env = merged_env(scopes)
        uploads = []
        for key in ("before_script", "script", "after_script"):
            for layer_file, layer in reversed(layers):
                if key in layer:
                    for text, container, at in script_texts(layer[key], layer, key):
                        uploads += scan_script(text, container, at, layer_file, env)
                    break
        if uploads:
            job_line = next((document.line_of(name) for f, document in documents if f == file), data.line)
            jobs.append((Job(str(name), file, job_line, data, tuple(uploads)), layers))
    if not jobs:
        checker.add(
            "warning",
            "no-publish-step",
            f"{checker.rel(path)} has no job whose script uploads (twine, uv, pdm, maturin or a "
            "mint-token request), so nothing in it uses this publisher.",
            "Register the pipeline that uploads, or add the upload job to it.",
            (checker.rel(path), None),
        )
        return
    layers_of = {job.name: layers for job, layers in jobs}
    for job in relevant(checker, [job for job, _ in jobs]):
        layers = layers_of[job.name]
        id_tokens(checker, job, layers)
        holder = next(((f, m) for f, m in reversed(layers) if "environment" in m), None)
        environment(
            checker,
            job,
            holder[1] if holder else None,
            holder[0] if holder else job.file,
            publisher.environment,
            exact=True,
        )


def gitlab_includes(checker: Checker, pipeline: YamlMap) -> list[tuple[str, YamlMap]]:
    """Local ``include:`` files, where the publishing job often lives."""
    include = pipeline.get("include")
    items = include if isinstance(include, YamlList) else [include]
    documents = []
    for item in items:
        local = item.get("local") if isinstance(item, YamlMap) else item
        if not isinstance(local, str) or "://" in local or "*" in local:
            continue
        path = checker.cwd / local.lstrip("/")
        data = checker.load(path) if path.is_file() else None
        if data is not None:
            documents.append((checker.rel(path), data))
    return documents


def extends_layers(
    file: str, data: YamlMap, templates: dict[Any, tuple[str, YamlMap]], depth: int
) -> list[tuple[str, YamlMap]]:
    """The job and what it ``extends:``, base first (GitLab merges in that order)."""
    extends = data.get("extends")
    names = [extends] if isinstance(extends, str) else list(extends) if isinstance(extends, YamlList) else []
    layers: list[tuple[str, YamlMap]] = []
    for name in names:
        if isinstance(name, str) and name in templates and depth < 10:
            layers += extends_layers(*templates[name], templates, depth + 1)
    return [*layers, (file, data)]


def id_tokens(checker: Checker, job: Job, layers: list[tuple[str, YamlMap]]) -> None:
    """GitLab issues an ID token only for ``id_tokens:`` whose ``aud`` is the index's audience."""
    expected = AUDIENCES.get(checker.index.host)
    audiences: list[tuple[str, Where]] = []
    holder = next(((f, m["id_tokens"]) for f, m in reversed(layers) if "id_tokens" in m), None)
    if holder and isinstance(holder[1], YamlMap):
        file, tokens = holder
        for token in tokens.values():
            if not isinstance(token, YamlMap):
                continue
            aud = token.get("aud")
            values = aud if isinstance(aud, YamlList) else [aud]
            audiences += [(str(v), (file, token.line_of("aud"))) for v in values if v is not None]
    example = expected or "<the index's audience>"
    fix = f"Add `id_tokens: {{PYPI_ID_TOKEN: {{aud: {example}}}}}` to job '{job.name}'."
    if not audiences:
        checker.add(
            "error",
            "missing-id-token",
            f"Job '{job.name}' declares no `id_tokens:`, so GitLab gives it no OIDC token to exchange.",
            fix,
            (job.file, job.line),
        )
    elif expected and all(aud != expected for aud, _ in audiences):
        aud, where = audiences[0]
        other = next((host for host, name in AUDIENCES.items() if name == aud), None)
        if other:
            checker.add(
                "error",
                "wrong-index",
                f"Job '{job.name}' requests an ID token for {index_label(other)} (aud '{aud}'), but this "
                f"publisher is on {index_label(checker.index.host)}, whose audience is '{expected}'.",
                f"Set `aud: {expected}`, or register the publisher on {index_label(other)}.",
                where,
            )
        else:
            checker.add(
                "error",
                "missing-id-token",
                f"Job '{job.name}' requests ID tokens only for audience '{aud}', not '{expected}'.",
                fix,
                where,
            )


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
) -> Report:
    """Check one publisher against the checkout; never raises for bad or missing files."""
    index = index or resolve_index("pypi")
    context = context or RepoContext()
    checker = Checker(index, context)
    if isinstance(publisher, GitHubPublisher):
        repository.check_github(checker, publisher)
        check_github(checker, publisher)
    elif isinstance(publisher, GitLabPublisher):
        repository.check_gitlab(checker, publisher)
        check_gitlab(checker, publisher)
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
