"""GitLab: the registered top-level pipeline, its local includes and the jobs that upload.

PyPI matches the pipeline by its path, and GitLab gives a job an OIDC token
only through ``id_tokens:`` with the index's audience. Jobs are read as GitLab
merges them: included files and ``extends:`` templates first, the job last.
"""

from __future__ import annotations

from typing import Any

from ..core.publishers import GitLabPublisher
from .checker import Checker
from .findings import Where
from .job_rules import environment, relevant
from .uploads import Job, index_label, merged_env, scan_script, script_texts
from .workflows import YamlList, YamlMap

# The `aud` each index's /_/oidc/audience returns (docs/protocol/testpypi.md#audiences).
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


def check(checker: Checker, publisher: GitLabPublisher) -> None:
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
    documents = [(checker.rel(path), pipeline), *includes(checker, pipeline)]
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


def includes(checker: Checker, pipeline: YamlMap) -> list[tuple[str, YamlMap]]:
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
