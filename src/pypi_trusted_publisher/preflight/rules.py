"""Compare a trusted publisher with the CI configuration in the checkout.

Most trusted-publishing failures surface only on release day, yet they are
visible in the repository beforehand (contract §13). Each rule here turns one
of those failure modes into a :class:`Finding` that names the file and line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name

from ..context import PUBLISH_ACTION, RepoContext
from ..indexes import Index, resolve_index
from ..publishers import GitHubPublisher, GitLabPublisher, Publisher
from .findings import Finding, Report, Severity
from .workflows import YamlList, YamlMap, YamlProblem, load, text_line

WORKFLOWS_DIR = ".github/workflows"
DEFAULT_UPLOAD_HOST = "pypi.org"
INDEX_NAMES = {"pypi": "pypi.org", "testpypi": "test.pypi.org"}
INDEX_LABELS = {"pypi.org": "PyPI", "test.pypi.org": "TestPyPI"}
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

# Options that choose the index, shared by twine, uv, pdm and maturin.
TARGET_FLAG_RE = re.compile(
    r"(?:^|\s)(?:--repository-url|--publish-url|--repository|--index|-r)(?:=|\s+)[\"']?([^\s\"']+)"
)
SECRET_FLAG_RE = re.compile(r"(?:^|\s)(?:-p|-P|--password|-t|--token)(?:=|\s|$)")
COMMAND_END_RE = re.compile(r"&&|\|\||[;|]")
MINT_RE = re.compile(r"https?://([^/\s\"']+)/_/oidc/(?:github/)?mint-token")
MATRIX_RE = re.compile(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}")
# An `if:` that mentions one of these decides by event, ref or repository.
GUARD_RE = re.compile(r"github\.(?:event_name|ref|repository|head_ref|event\.pull_request\.head\.repo)|refs/tags")

Where = tuple[str, int | None]


@dataclass(frozen=True)
class Tool:
    """An upload command that can use trusted publishing, and the variables it reads."""

    name: str
    pattern: re.Pattern[str]
    target_env: tuple[str, ...]
    secret_env: tuple[str, ...]


TOOLS = (
    Tool("twine", re.compile(r"\btwine\s+upload\b"), ("TWINE_REPOSITORY_URL", "TWINE_REPOSITORY"), ("TWINE_PASSWORD",)),
    Tool(
        "uv",
        re.compile(r"\buv\s+publish\b"),
        ("UV_PUBLISH_URL", "UV_PUBLISH_INDEX"),
        ("UV_PUBLISH_TOKEN", "UV_PUBLISH_PASSWORD"),
    ),
    Tool("pdm", re.compile(r"\bpdm\s+publish\b"), ("PDM_PUBLISH_REPO",), ("PDM_PUBLISH_PASSWORD",)),
    Tool(
        "maturin",
        re.compile(r"\bmaturin\s+(?:upload|publish)\b"),
        ("MATURIN_REPOSITORY_URL", "MATURIN_REPOSITORY"),
        ("MATURIN_PASSWORD", "MATURIN_PYPI_TOKEN"),
    ),
)
PUBLISH_TEXT_RE = re.compile(
    "|".join([re.escape(PUBLISH_ACTION), *(tool.pattern.pattern for tool in TOOLS)]), re.IGNORECASE
)


@dataclass(frozen=True)
class Upload:
    """One upload in a job: what does it, and which index host it targets (None: unknown)."""

    tool: str
    target: str | None
    target_where: Where
    secrets: tuple[tuple[str, Where], ...] = ()
    condition: str = ""


@dataclass(frozen=True)
class Job:
    name: str
    file: str
    line: int
    data: YamlMap
    uploads: tuple[Upload, ...]


Env = dict[str, tuple[str, Where]]


def _host(value: str) -> str | None:
    """Index host for an upload URL or a well-known repository name; None for expressions."""
    value = value.strip().strip("'\"")
    if "${{" in value or value.startswith("$"):
        return None
    if "://" in value:
        return urlsplit(value).netloc.lower().removeprefix("upload.") or None
    return INDEX_NAMES.get(value.lower())


def index_label(host: str) -> str:
    label = INDEX_LABELS.get(host)
    return f"{label} ({host})" if label else host


def upload_url(index: Index) -> str:
    if index.host == "pypi.org":
        return "https://upload.pypi.org/legacy/"
    return f"{index.url}/legacy/"


def _odd_character(value: str) -> str | None:
    """Describe the first whitespace, invisible or non-ASCII character, if any."""
    for position, char in enumerate(value, 1):
        if char.isspace() or not char.isascii() or not char.isprintable():
            name = unicodedata.name(char, "control character")
            return f"U+{ord(char):04X} {name} at position {position}"
    return None


def _strings(value: Any, container: YamlMap | YamlList, key: Any) -> list[tuple[str, YamlMap | YamlList, Any]]:
    """Script text with where it lives: a string, or a list of strings (nested lists flattened)."""
    if isinstance(value, str):
        return [(value, container, key)]
    if isinstance(value, YamlList):
        found = []
        for index, item in enumerate(value):
            found += _strings(item, value, index)
        return found
    return []


def _env(scopes: list[tuple[str, Any, str]]) -> Env:
    """Merge ``env:``/``variables:`` blocks, inner scopes last; values keep their file and line."""
    merged: Env = {}
    for file, scope, key in scopes:
        block = scope.get(key) if isinstance(scope, YamlMap) else None
        if not isinstance(block, YamlMap):
            continue
        for name, value in block.items():
            if isinstance(value, YamlMap):  # GitLab's {value: …, description: …}
                value = value.get("value")
            if value is not None:
                merged[str(name)] = (str(value), (file, block.line_of(name)))
    return merged


def scan_script(
    text: str, container: YamlMap | YamlList, key: Any, file: str, env: Env, condition: str = ""
) -> list[Upload]:
    """Find upload commands in a shell script, following ``\\`` line continuations."""
    uploads = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        first, logical = index, lines[index]
        while logical.endswith("\\") and index + 1 < len(lines):
            index += 1
            logical = logical[:-1] + " " + lines[index]
        index += 1
        where: Where = (file, text_line(container, key, first))
        mint = MINT_RE.search(logical)
        if mint:
            host = _host(f"https://{mint[1]}")
            uploads.append(Upload("mint-token", host, where, condition=condition))
        for tool in TOOLS:
            match = tool.pattern.search(logical)
            if not match:
                continue
            args = COMMAND_END_RE.split(logical[match.end() :], maxsplit=1)[0]
            target, target_where = DEFAULT_UPLOAD_HOST, where
            flag = TARGET_FLAG_RE.search(args)
            variable = next((name for name in tool.target_env if env.get(name, ("",))[0]), None)
            if flag:
                target = _host(flag[1])
            elif variable:
                target, target_where = _host(env[variable][0]), env[variable][1]
            secrets: list[tuple[str, Where]] = []
            if SECRET_FLAG_RE.search(args):
                secrets.append((f"a password or token option on `{match[0]}`", where))
            secrets += [(f"`{name}`", env[name][1]) for name in tool.secret_env if env.get(name, ("",))[0]]
            uploads.append(Upload(tool.name, target, target_where, tuple(secrets), condition))
    return uploads


def _action_upload(step: YamlMap, file: str) -> Upload:
    """The pypa/gh-action-pypi-publish step: its index comes from ``repository-url``."""
    where: Where = (file, step.line_of("uses"))
    inputs = step.get("with")
    inputs = inputs if isinstance(inputs, YamlMap) else YamlMap(step.line)
    target, target_where = DEFAULT_UPLOAD_HOST, where
    for name in ("repository-url", "repository_url"):
        if inputs.get(name):
            target, target_where = _host(str(inputs[name])), (file, inputs.line_of(name))
            break
    secrets = ()
    if str(inputs.get("password") or "").strip():
        secrets = (("the `password:` input", (file, inputs.line_of("password"))),)
    return Upload(PUBLISH_ACTION, target, target_where, secrets, str(step.get("if") or ""))


def github_uploads(workflow: YamlMap, job: YamlMap, file: str) -> list[Upload]:
    steps = job.get("steps")
    if not isinstance(steps, YamlList):
        return []
    uploads: list[Upload] = []
    for step in steps:
        if not isinstance(step, YamlMap):
            continue
        uses = step.get("uses")
        if isinstance(uses, str) and uses.split("@")[0].lower() == PUBLISH_ACTION:
            uploads.append(_action_upload(step, file))
        elif isinstance(step.get("run"), str):
            env = _env([(file, workflow, "env"), (file, job, "env"), (file, step, "env")])
            uploads += scan_script(step["run"], step, "run", file, env, str(step.get("if") or ""))
    return uploads


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


def _read(path: Path) -> str:
    """File text, or "" when unreadable: callers only search it."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _pyproject_name_line(path: Path) -> int | None:
    """Line of ``name =`` in ``[project]``: tomllib gives values but no positions."""
    text = _read(path)
    section = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line.strip("[] \t")
        elif section == "project" and re.match(r"name\s*=", line):
            return number
    return None


class Checker:
    """Collects findings for one publisher on one index, in one checkout."""

    def __init__(self, index: Index, context: RepoContext) -> None:
        self.index = index
        self.context = context
        self.cwd = context.cwd
        self.findings: list[Finding] = []

    def add(self, severity: Severity, code: str, message: str, fix: str, where: Where = ("", None)) -> None:
        self.findings.append(Finding(severity, code, message, fix, where[0], where[1]))

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.cwd).as_posix()
        except ValueError:
            return path.as_posix()

    def load(self, path: Path) -> YamlMap | None:
        """Parse a CI file; bad YAML becomes a finding."""
        rel = self.rel(path)
        try:
            data = load(path)
        except YamlProblem as exc:
            self.add(
                "error",
                "invalid-yaml",
                f"{rel} is not valid YAML: {exc.message}.",
                "Fix the YAML syntax; the CI service cannot run this file either.",
                (rel, exc.line),
            )
            return None
        if not isinstance(data, YamlMap):
            self.add(
                "error",
                "invalid-workflow",
                f"{rel} does not contain a YAML mapping, so it defines no jobs.",
                "Restore the workflow's content.",
                (rel, 1),
            )
            return None
        return data

    # Identity and project name (all platforms)

    def identity(
        self,
        fields: dict[str, str],
        canonical: tuple[str, str] | None,
        source: str,
        authoritative: bool,
        case_matters: bool,
    ) -> None:
        """Compare owner/repository with what CI or the git remote says the repository is."""
        odd = False
        for label, value in fields.items():
            character = _odd_character(value)
            if character:
                odd = True
                self.add(
                    "error",
                    "suspicious-characters",
                    f"The publisher's {label} {value!r} contains {character}; "
                    "PyPI compares it character for character with the token's claims.",
                    f"Retype the {label} using plain ASCII letters, digits and '-'.",
                )
        if odd or canonical is None:
            return
        registered, actual = "/".join(fields.values()), "/".join(canonical)
        severity: Severity = "error" if authoritative else "warning"
        hint = "" if authoritative else " (if origin is a fork, check against the upstream repository)"
        if registered.lower() != actual.lower():
            self.add(
                severity,
                "repository-mismatch",
                f"The publisher is for {registered}, but {source} says this repository is {actual}{hint}.",
                f"Register the publisher for {actual}; a renamed or transferred repository needs a new one.",
            )
        elif registered != actual and case_matters:
            repository_differs = list(fields.values())[-1] != canonical[1]
            self.add(
                severity if repository_differs else "warning",
                "repository-case",
                f"The publisher spells the repository {registered}, but {source} spells it {actual}; "
                + (
                    "PyPI compares the repository name exactly."
                    if repository_differs
                    else "PyPI stores GitHub's spelling of the owner, so check that it is the right account."
                ),
                f"Register the publisher as {actual}.",
            )

    def canonical(
        self, from_ci: tuple[str, str] | None, variable: str
    ) -> tuple[tuple[str, str] | None, str, bool]:
        """The repository's real identity: CI's variable is authoritative, the git remote (maybe a fork) is not."""
        if from_ci is not None:
            return from_ci, variable, True
        return self.context.git_remote(), "the git remote 'origin'", False

    def project_name(self, project: str, pending: bool) -> None:
        """The pending name must be the name the build uploads (PEP 503 normalised)."""
        name = self.context.pyproject_name()
        if not name or canonicalize_name(name) == canonicalize_name(project):
            return
        where: Where = ("pyproject.toml", _pyproject_name_line(self.cwd / "pyproject.toml"))
        built = canonicalize_name(name)
        if pending:
            self.add(
                "error",
                "project-name-mismatch",
                f"The pending publisher is for project '{project}', but pyproject.toml builds '{name}' "
                f"(normalised '{built}'); the upload goes to a project this publisher does not cover.",
                f"Register the pending publisher for '{built}', or rename [project].name to '{project}'.",
                where,
            )
        else:
            self.add(
                "warning",
                "project-name-mismatch",
                f"The publisher is registered on project '{project}', but pyproject.toml builds "
                f"'{name}' (normalised '{built}'); the token only covers projects that list this publisher.",
                f"Add the publisher to '{built}' too, or check which pyproject.toml the workflow builds.",
                where,
            )

    # Shared job rules

    def relevant(self, jobs: list[Job]) -> list[Job]:
        """Jobs that upload to this publisher's index; when there are none, each upload is wrong-index."""
        host = self.index.host
        relevant = [job for job in jobs if any(u.target in (None, host) for u in job.uploads)]
        if relevant:
            return relevant
        wrong = [(job, upload, target) for job in jobs for upload in job.uploads if (target := upload.target)]
        for job, upload, target in wrong:
            self.add(
                "error",
                "wrong-index",
                f"Job '{job.name}' uploads to {index_label(target)}, but this publisher is registered on "
                f"{index_label(host)}; each index needs its own publisher.",
                f"Upload to {upload_url(self.index)} (the `repository-url` input or `--repository-url`), "
                f"or register the publisher on {index_label(target)}.",
                upload.target_where,
            )
        return jobs

    def environment(self, job: Job, holder: YamlMap | None, file: str, wanted: str, *, exact: bool) -> None:
        """The job's ``environment:`` must name the publisher's environment (GitHub ignores case)."""
        if not wanted:
            return
        raw = holder.get("environment") if holder is not None else None
        where: Where = (file, holder.line_of("environment") if holder is not None else job.line)
        if isinstance(raw, YamlMap):
            raw, where = raw.get("name"), (file, raw.line_of("name"))
        if not isinstance(raw, str) or not raw.strip():
            self.add(
                "error",
                "environment-missing",
                f"The publisher requires environment '{wanted}', but job '{job.name}' declares no "
                "`environment:`, so its token carries no environment claim.",
                f"Add `environment: {wanted}` to job '{job.name}'.",
                (job.file, job.line),
            )
            return
        if "${{" in raw or (exact and "$" in raw):
            self.add(
                "warning",
                "environment-expression",
                f"Job '{job.name}' chooses its environment at run time ({raw}); the publisher requires '{wanted}'.",
                f"Make sure the expression evaluates to '{wanted}' for this index.",
                where,
            )
            return
        same = raw == wanted if exact else raw.lower() == wanted.lower()
        if not same:
            case = " (GitLab compares environment names exactly)" if raw.lower() == wanted.lower() else ""
            self.add(
                "error",
                "environment-mismatch",
                f"The publisher requires environment '{wanted}', but job '{job.name}' runs in '{raw}'{case}.",
                f"Use `environment: {wanted}` in job '{job.name}', or register the publisher with environment '{raw}'.",
                where,
            )

    def secrets(self, job: Job) -> None:
        for upload in job.uploads:
            for what, where in upload.secrets:
                self.add(
                    "warning",
                    "password-bypass",
                    f"Job '{job.name}' gives the upload {what}, so it uploads with that token instead of "
                    "through the trusted publisher.",
                    f"Remove {what} from the workflow (and delete the old API token).",
                    where,
                )

    # GitHub

    def github(self, publisher: GitHubPublisher) -> None:
        canonical, source, authoritative = self.canonical(self.context.github_repository(), "GITHUB_REPOSITORY")
        self.identity(
            {"owner": publisher.owner, "repository": publisher.repository},
            canonical,
            source,
            authoritative,
            case_matters=True,
        )
        name = publisher.workflow_filename.strip()
        if "/" in name:
            name = PurePosixPath(name).name
            self.add(
                "error",
                "workflow-is-path",
                f"The registered workflow '{publisher.workflow_filename}' is a path; PyPI matches only the "
                "file name in the token's job_workflow_ref.",
                f"Register the workflow as '{name}'.",
                (WORKFLOWS_DIR, None),
            )
        folder = self.cwd / WORKFLOWS_DIR
        if not folder.is_dir():
            self.add(
                "error",
                "no-workflows-folder",
                f"There is no {WORKFLOWS_DIR} folder here, so the workflow '{name}' cannot run.",
                f"Run the check from the repository root, or add {WORKFLOWS_DIR}/{name}.",
                (WORKFLOWS_DIR, None),
            )
            return
        path = self.find_workflow(folder, name)
        if path is None:
            return
        workflow = self.load(path)
        if workflow is None:
            return
        rel = self.rel(path)
        jobs = workflow.get("jobs")
        if not isinstance(jobs, YamlMap):
            self.add(
                "error",
                "invalid-workflow",
                f"{rel} has no `jobs:` mapping, so it runs nothing.",
                "Add the publishing job under `jobs:`.",
                (rel, workflow.line),
            )
            return
        self.github_jobs(publisher, workflow, jobs, rel, path.name)

    def find_workflow(self, folder: Path, name: str) -> Path | None:
        """The registered file, or a differently-cased one; anything else is a finding."""
        files = {p.name: p for p in folder.iterdir() if p.is_file()}
        if name in files:
            return files[name]
        same = sorted(n for n in files if n.lower() == name.lower())
        if same:
            self.add(
                "error",
                "workflow-case-mismatch",
                f"The publisher names workflow '{name}', but the file is '{same[0]}'; PyPI compares the "
                "file name exactly.",
                f"Register '{same[0]}', or rename the file to '{name}'.",
                (self.rel(files[same[0]]), None),
            )
            return files[same[0]]
        # Compare names rather than globbing: a registered name is data, not a pattern.
        nested = sorted(p for p in folder.rglob("*") if p.name == name and p.is_file())
        publishing = sorted(
            p.name for p in files.values() if p.suffix in (".yml", ".yaml") and PUBLISH_TEXT_RE.search(_read(p))
        )
        if nested:
            message = (
                f"The workflow '{name}' is at {self.rel(nested[0])}, but GitHub only runs workflows "
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
        self.add("error", "workflow-not-found", message, fix, (WORKFLOWS_DIR, None))
        return None

    def github_jobs(
        self, publisher: GitHubPublisher, workflow: YamlMap, jobs: YamlMap, rel: str, filename: str
    ) -> None:
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
                    reusable |= self.reusable_call(str(name), uses, where, filename)
                else:
                    remote_calls.append((str(name), where, uses))
                continue
            uploads = github_uploads(workflow, data, rel)
            if uploads:
                direct.append(Job(str(name), rel, jobs.line_of(name), data, tuple(uploads)))
        triggers = _triggers(workflow)
        if not direct:
            for name, where, uses in remote_calls:
                self.add(
                    "warning",
                    "reusable-workflow",
                    f"Job '{name}' calls {uses}; if that workflow uploads, the token's job_workflow_ref "
                    f"names it instead of {filename}, and PyPI refuses the token.",
                    f"Upload from a job defined in {filename} itself.",
                    where,
                )
            if not remote_calls and not reusable:
                self.add(
                    "warning",
                    "no-publish-step",
                    f"{filename} has no job that uploads with {PUBLISH_ACTION}, twine, uv, pdm or maturin, "
                    "so nothing in it uses this publisher.",
                    "Register the workflow that uploads, or add the upload job to this one.",
                    (rel, None),
                )
            return
        if "workflow_call" in triggers:
            self.add(
                "warning",
                "workflow-call-trigger",
                f"{filename} is a reusable workflow (on: workflow_call); when another workflow calls it, "
                "the token's workflow_ref names the caller, and PyPI does not support publishing from "
                "reusable workflows.",
                "Upload from a top-level workflow (on: push, release or workflow_dispatch) and register it.",
                (rel, triggers["workflow_call"]),
            )
        for job in self.relevant(direct):
            self.permissions(workflow, job)
            self.environment(job, job.data, rel, publisher.environment, exact=False)
            self.runner(job)
            self.secrets(job)
            self.pull_requests(jobs, job, triggers)

    def reusable_call(self, name: str, uses: str, where: Where, filename: str) -> bool:
        """A job that calls a local reusable workflow which uploads to this index."""
        path = self.cwd / uses[2:].split("@", 1)[0]
        called = self.load(path) if path.is_file() else None
        jobs = called.get("jobs") if called is not None else None
        if called is None or not isinstance(jobs, YamlMap):
            return False
        uploads = [
            upload
            for data in jobs.values()
            if isinstance(data, YamlMap)
            for upload in github_uploads(called, data, self.rel(path))
            if upload.target in (None, self.index.host)
        ]
        if not uploads:
            return False
        self.add(
            "error",
            "reusable-workflow",
            f"Job '{name}' calls the reusable workflow {path.name}, which uploads; the token's "
            f"job_workflow_ref then names {path.name}, not {filename}, and PyPI refuses it.",
            f"Move the upload job into {filename}: PyPI does not support publishing from reusable workflows.",
            where,
        )
        return True

    def permissions(self, workflow: YamlMap, job: Job) -> None:
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
        self.add(
            "error",
            "missing-id-token",
            message,
            f"Add `id-token: write` under `permissions:` of job '{job.name}'.",
            where,
        )

    def runner(self, job: Job) -> None:
        """pypa/gh-action-pypi-publish is a Docker action: Linux runners only."""
        if not any(upload.tool == PUBLISH_ACTION for upload in job.uploads):
            return
        for label, line in self.runner_labels(job.data):
            if label.lower().startswith(("windows", "macos")):
                self.add(
                    "error",
                    "unsupported-runner",
                    f"Job '{job.name}' runs {PUBLISH_ACTION} on '{label}', but it is a Docker container "
                    "action, and those run only on Linux runners.",
                    "Build on any OS, pass the dists on as an artifact, and upload from a job with "
                    "`runs-on: ubuntu-latest`.",
                    (job.file, line),
                )
                return

    @staticmethod
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

    def pull_requests(self, jobs: YamlMap, job: Job, triggers: dict[str, int]) -> None:
        """PyPI refuses pull_request_target; fork pull requests get no token at all."""
        if self.guarded(jobs, job):
            return
        if "pull_request_target" in triggers:
            self.add(
                "error",
                "pull-request-target",
                f"The workflow runs on pull_request_target and job '{job.name}' uploads without an `if:` "
                "that excludes it; PyPI refuses tokens from pull_request_target runs.",
                "Publish on `push` of tags or `release: published`, and remove pull_request_target from this workflow.",
                (job.file, triggers["pull_request_target"]),
            )
        if "pull_request" in triggers:
            self.add(
                "warning",
                "fork-pull-request",
                f"Job '{job.name}' also uploads for pull requests: runs from forks get no OIDC token, and "
                "runs from branches would upload on every pull request.",
                f"Guard job '{job.name}' with `if: github.event_name == 'push'` (or "
                "`startsWith(github.ref, 'refs/tags/')`).",
                (job.file, triggers["pull_request"]),
            )

    @staticmethod
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

    # GitLab

    def gitlab(self, publisher: GitLabPublisher) -> None:
        path_value = self.context.env.get("CI_PROJECT_PATH", "")
        namespace, _, project = path_value.rpartition("/")
        found = (namespace, project) if namespace and project else None
        canonical, source, authoritative = self.canonical(found, "CI_PROJECT_PATH")
        self.identity(
            {"namespace": publisher.namespace, "project": publisher.project},
            canonical,
            source,
            authoritative,
            case_matters=False,
        )
        rel = publisher.workflow_filepath.strip()
        path = self.cwd / rel
        if not path.is_file():
            same = sorted(
                p
                for p in (path.parent.iterdir() if path.parent.is_dir() else ())
                if p.is_file() and p.name.lower() == path.name.lower()
            )
            if not same:
                self.add(
                    "error",
                    "workflow-not-found",
                    f"The publisher names the top-level pipeline '{rel}', but no such file exists here.",
                    "Register the path of the pipeline file that uploads (usually .gitlab-ci.yml).",
                    (rel, None),
                )
                return
            path = same[0]
            self.add(
                "error",
                "workflow-case-mismatch",
                f"The publisher names pipeline '{rel}', but the file is '{self.rel(path)}'; PyPI compares "
                "the path exactly.",
                f"Register '{self.rel(path)}'.",
                (self.rel(path), None),
            )
        pipeline = self.load(path)
        if pipeline is None:
            return
        documents = [(self.rel(path), pipeline), *self.gitlab_includes(pipeline)]
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
            layers = self.gitlab_layers(file, data, templates, 0)
            scopes = [(documents[0][0], pipeline, "variables")] + [(f, m, "variables") for f, m in layers]
            env = _env(scopes)
            uploads = []
            for key in ("before_script", "script", "after_script"):
                for layer_file, layer in reversed(layers):
                    if key in layer:
                        for text, container, at in _strings(layer[key], layer, key):
                            uploads += scan_script(text, container, at, layer_file, env)
                        break
            if uploads:
                job_line = next((document.line_of(name) for f, document in documents if f == file), data.line)
                jobs.append((Job(str(name), file, job_line, data, tuple(uploads)), layers))
        if not jobs:
            self.add(
                "warning",
                "no-publish-step",
                f"{self.rel(path)} has no job whose script uploads (twine, uv, pdm, maturin or a "
                "mint-token request), so nothing in it uses this publisher.",
                "Register the pipeline that uploads, or add the upload job to it.",
                (self.rel(path), None),
            )
            return
        layers_of = {job.name: layers for job, layers in jobs}
        for job in self.relevant([job for job, _ in jobs]):
            layers = layers_of[job.name]
            self.id_tokens(job, layers)
            holder = next(((f, m) for f, m in reversed(layers) if "environment" in m), None)
            self.environment(
                job, holder[1] if holder else None, holder[0] if holder else job.file, publisher.environment, exact=True
            )

    def gitlab_includes(self, pipeline: YamlMap) -> list[tuple[str, YamlMap]]:
        """Local ``include:`` files, where the publishing job often lives."""
        include = pipeline.get("include")
        items = include if isinstance(include, YamlList) else [include]
        documents = []
        for item in items:
            local = item.get("local") if isinstance(item, YamlMap) else item
            if not isinstance(local, str) or "://" in local or "*" in local:
                continue
            path = self.cwd / local.lstrip("/")
            data = self.load(path) if path.is_file() else None
            if data is not None:
                documents.append((self.rel(path), data))
        return documents

    def gitlab_layers(
        self, file: str, data: YamlMap, templates: dict[Any, tuple[str, YamlMap]], depth: int
    ) -> list[tuple[str, YamlMap]]:
        """The job and what it ``extends:``, base first (GitLab merges in that order)."""
        extends = data.get("extends")
        names = [extends] if isinstance(extends, str) else list(extends) if isinstance(extends, YamlList) else []
        layers: list[tuple[str, YamlMap]] = []
        for name in names:
            if isinstance(name, str) and name in templates and depth < 10:
                layers += self.gitlab_layers(*templates[name], templates, depth + 1)
        return [*layers, (file, data)]

    def id_tokens(self, job: Job, layers: list[tuple[str, YamlMap]]) -> None:
        """GitLab issues an ID token only for ``id_tokens:`` whose ``aud`` is the index's audience."""
        expected = AUDIENCES.get(self.index.host)
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
            self.add(
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
                self.add(
                    "error",
                    "wrong-index",
                    f"Job '{job.name}' requests an ID token for {index_label(other)} (aud '{aud}'), but this "
                    f"publisher is on {index_label(self.index.host)}, whose audience is '{expected}'.",
                    f"Set `aud: {expected}`, or register the publisher on {index_label(other)}.",
                    where,
                )
            else:
                self.add(
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
    project = canonicalize_name(project) if project else ""  # as results name it
    checker = Checker(index, context)
    if isinstance(publisher, GitHubPublisher):
        checker.github(publisher)
    elif isinstance(publisher, GitLabPublisher):
        checker.gitlab(publisher)
    else:
        checker.add(
            "notice",
            "not-checked",
            f"{publisher.title} publishers have no workflow file in the repository to compare with.",
            f"Check the {publisher.title} side by hand: the identity that uploads must match the publisher.",
        )
    if project:
        checker.project_name(project, pending)
    return Report(checker.findings, [describe(publisher, index, project, pending)])
