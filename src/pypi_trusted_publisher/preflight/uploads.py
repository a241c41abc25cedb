"""What a CI job uploads, and to which index.

GitHub steps and GitLab scripts run the same upload tools with the same
options and variables, so both platforms' rules read their jobs through here:
each upload says which tool does it, which index host it targets and which
passwords or tokens would bypass the trusted publisher.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..core.indexes import Index
from ..inputs.context import PUBLISH_ACTION
from .findings import Where
from .workflows import YamlList, YamlMap, text_line

DEFAULT_UPLOAD_HOST = "pypi.org"
INDEX_NAMES = {"pypi": "pypi.org", "testpypi": "test.pypi.org"}
INDEX_LABELS = {"pypi.org": "PyPI", "test.pypi.org": "TestPyPI"}

# Options that choose the index, shared by twine, uv, pdm and maturin.
TARGET_FLAG_RE = re.compile(
    r"(?:^|\s)(?:--repository-url|--publish-url|--repository|--index|-r)(?:=|\s+)[\"']?([^\s\"']+)"
)
SECRET_FLAG_RE = re.compile(r"(?:^|\s)(?:-p|-P|--password|-t|--token)(?:=|\s|$)")
COMMAND_END_RE = re.compile(r"&&|\|\||[;|]")
MINT_RE = re.compile(r"https?://([^/\s\"']+)/_/oidc/(?:github/)?mint-token")


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
    """A job that uploads: where it is defined, its YAML and its uploads."""

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


def script_texts(value: Any, container: YamlMap | YamlList, key: Any) -> list[tuple[str, YamlMap | YamlList, Any]]:
    """Script text with where it lives: a string, or a list of strings (nested lists flattened)."""
    if isinstance(value, str):
        return [(value, container, key)]
    if isinstance(value, YamlList):
        found = []
        for index, item in enumerate(value):
            found += script_texts(item, value, index)
        return found
    return []


def merged_env(scopes: list[tuple[str, Any, str]]) -> Env:
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
            target: str | None = DEFAULT_UPLOAD_HOST
            target_where = where
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
    target: str | None = DEFAULT_UPLOAD_HOST
    target_where = where
    for name in ("repository-url", "repository_url"):
        if inputs.get(name):
            target, target_where = _host(str(inputs[name])), (file, inputs.line_of(name))
            break
    secrets: tuple[tuple[str, Where], ...] = ()
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
            env = merged_env([(file, workflow, "env"), (file, job, "env"), (file, step, "env")])
            uploads += scan_script(step["run"], step, "run", file, env, str(step.get("if") or ""))
    return uploads
