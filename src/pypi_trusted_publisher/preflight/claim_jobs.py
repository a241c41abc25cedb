"""A claim step (``claim: true``, ``mode: claim``, or ``pypi-trusted-publisher claim``) where PyPI will match it.

PyPI matches the claim's token as it matches an upload's (docs/protocol/publish-time.md#github-lookup): by the
workflow *file name* in ``job_workflow_ref`` and by the job's environment. A claim in another workflow, or in a job
without the registered environment, fails with ``invalid-publisher``; one without ``id-token: write`` gets no token.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import UsageError
from ..core.indexes import resolve_index
from ..core.publishers import GitHubPublisher
from .checker import Checker
from .findings import Where
from .github_jobs import WORKFLOWS_DIR, grants_id_token
from .workflows import YamlList, YamlMap

ACTION_NAME = "pypi-trusted-publisher"
TRUE = ("true", "True", "TRUE")


def _claims(step: YamlMap) -> bool:
    """Does this step exchange the job's token: our action with claim or mode claim, or the CLI's claim?"""
    uses = str(step.get("uses") or "")
    if ACTION_NAME in uses.split("@", 1)[0]:
        given = step.get("with")
        if isinstance(given, YamlMap):
            return str(given.get("claim", "")).strip() in TRUE or str(given.get("mode", "")).strip() == "claim"
        return False
    run = str(step.get("run") or "")
    return any(f"{ACTION_NAME} claim" in " ".join(line.split()) for line in run.splitlines())


def _claim_index(step: YamlMap) -> str | None:
    """The index a claim step exchanges with (pypi by default), None when an expression decides it."""
    given = step.get("with")
    value = str(given.get("index") or "pypi") if isinstance(given, YamlMap) else "pypi"
    words = str(step.get("run") or "").split()
    if "--index" in words[:-1]:
        value = words[words.index("--index") + 1]
    value = value.split(",")[0].strip()
    if "${{" in value or value.startswith("$"):
        return None
    try:
        return resolve_index(value).host
    except UsageError:
        return None


def _environment(job: YamlMap) -> str | None:
    value = job.get("environment")
    if isinstance(value, YamlMap):
        value = value.get("name")
    return str(value) if value is not None else None


def check(checker: Checker, publisher: GitHubPublisher) -> None:
    """Every claim step in .github/workflows, against the publisher's workflow file and environment."""
    folder = checker.cwd / WORKFLOWS_DIR
    if not folder.is_dir():
        return
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file()):
        workflow = checker.load(path)
        jobs = workflow.get("jobs") if workflow is not None else None
        if workflow is None or not isinstance(jobs, YamlMap):
            continue
        for name, job in jobs.items():
            steps = job.get("steps") if isinstance(job, YamlMap) else None
            if not isinstance(steps, YamlList):
                continue
            for index, step in enumerate(steps):
                if isinstance(step, YamlMap) and _claims(step) and _claim_index(step) in (None, checker.index.host):
                    where: Where = (checker.rel(path), steps.line_of(index))
                    _check_job(checker, publisher, path, workflow, str(name), job, where)


def _check_job(
    checker: Checker, publisher: GitHubPublisher, path: Path, workflow: YamlMap, name: str, job: YamlMap, where: Where
) -> None:
    registered = publisher.workflow_filename
    if path.name != registered:
        checker.add(
            "warning",
            "claim-elsewhere",
            f"Job '{name}' in {path.name} claims, but the publisher is registered for {registered}; PyPI matches "
            "the token's workflow file name, so this claim fails with invalid-publisher.",
            f"Run the claim as a job of {registered} (add a workflow_dispatch trigger there), or register "
            f"{path.name}.",
            where,
        )
        return
    environment = _environment(job)
    wanted = publisher.environment
    if wanted and (environment is None or environment.lower() != wanted.lower()):
        now = f"runs in environment '{environment}'" if environment else "has no `environment:`"
        checker.add(
            "warning",
            "claim-environment",
            f"Job '{name}' claims but {now}; the publisher requires environment '{wanted}', so PyPI refuses the "
            "claim's token.",
            f"Add `environment: {wanted}` to job '{name}'.",
            where,
        )
    permissions = job.get("permissions") if "permissions" in job else workflow.get("permissions")
    if not grants_id_token(permissions):
        checker.add(
            "warning",
            "claim-without-id-token",
            f"Job '{name}' claims without `id-token: write`, so it cannot request the OIDC token the claim sends.",
            f"Add `id-token: write` under `permissions:` of job '{name}'.",
            where,
        )
