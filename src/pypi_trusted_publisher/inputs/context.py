"""Facts about the repository we run in, used for defaults.

Each function reads one source (``pyproject.toml``, the git remote, the
workflow files, the ``GITHUB_*`` variables) and returns None when it has no
answer, so the caller can say where every default came from.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

PUBLISH_ACTION = "pypa/gh-action-pypi-publish"
REMOTE_RE = re.compile(
    r"""^(?:
        (?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/   # https://github.com/, ssh://git@github.com/
      | [^@/:]+@(?P<scp_host>[^:/]+):                               # git@github.com:
    )(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?/?$""",
    re.VERBOSE,
)
# Trusted publishing trusts github.com only; another host's owner is not a GitHub owner.
GITHUB_HOSTS = frozenset({"github.com", "www.github.com", "ssh.github.com"})


@dataclass(frozen=True)
class RepoContext:
    """Where we run: a directory and an environment."""

    cwd: Path = field(default_factory=Path.cwd)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def in_github_actions(self) -> bool:
        return self.env.get("GITHUB_ACTIONS") == "true"

    def pyproject_name(self) -> str | None:
        import tomllib

        path = self.cwd / "pyproject.toml"
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
        name = data.get("project", {}).get("name")
        return name if isinstance(name, str) and name else None

    def git_remote(self) -> tuple[str, str] | None:
        """Owner and repository of ``origin`` on GitHub (https, ssh and scp-like forms)."""
        url = self.git_remote_url()
        return parse_remote(url) if url else None

    def git_remote_url(self) -> str | None:
        """The URL of ``origin`` as git has it (may hold credentials: show it with :func:`shown_remote`)."""
        import subprocess

        try:
            proc = subprocess.run(
                ["git", "remote", "get-url", "origin"],  # noqa: S607 - git from PATH, as the user runs it
                cwd=self.cwd,
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip() or None if proc.returncode == 0 else None

    def github_repository(self) -> tuple[str, str] | None:
        value = self.env.get("GITHUB_REPOSITORY", "")
        owner, _, repo = value.partition("/")
        if not owner or not repo:
            return None
        return self.env.get("GITHUB_REPOSITORY_OWNER") or owner, repo

    def running_workflow(self) -> str | None:
        """Basename of the workflow file this job runs (``GITHUB_WORKFLOW_REF``)."""
        ref = self.env.get("GITHUB_WORKFLOW_REF", "")
        path = ref.split("@refs/", 1)[0].split("@", 1)[0]
        name = PurePosixPath(path).name
        return name if name.endswith((".yml", ".yaml")) else None

    def workflow_files(self) -> list[Path]:
        folder = self.cwd / ".github" / "workflows"
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())

    def publishing_workflow(self) -> str | None:
        """The workflow file that uses pypa/gh-action-pypi-publish, if exactly one does."""
        found = []
        for path in self.workflow_files():
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if PUBLISH_ACTION in text:
                found.append(path.name)
        return found[0] if len(found) == 1 else None


    def publishing_environment(self, workflow: str, index_host: str) -> tuple[str, str] | None:
        """The ``environment:`` of the job in ``workflow`` that publishes to ``index_host``.

        Returns (environment, job name) when exactly one such job names a plain
        environment; None when there is no such job, several, or an expression.
        """
        try:
            text = (self.cwd / ".github" / "workflows" / workflow).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        import yaml  # only now: it is slow to import, and most runs have a file to parse or none at all

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            return None
        jobs = data.get("jobs") if isinstance(data, dict) else None
        found = set()
        for name, job in (jobs or {}).items():
            if not isinstance(job, dict) or _upload_host(job) != index_host:
                continue
            environment = job.get("environment")
            if isinstance(environment, dict):
                environment = environment.get("name")
            if isinstance(environment, str) and environment and "${{" not in environment:
                found.add((environment, str(name)))
        return found.pop() if len(found) == 1 else None


def _upload_host(job: dict[str, object]) -> str | None:
    """Which index a job's pypa/gh-action-pypi-publish step uploads to (None: no such step)."""
    from urllib.parse import urlsplit

    steps = job.get("steps")
    for step in steps if isinstance(steps, list) else []:
        if isinstance(step, dict) and str(step.get("uses", "")).startswith(PUBLISH_ACTION):
            given = step.get("with")
            inputs = given if isinstance(given, dict) else {}
            url = str(inputs.get("repository-url") or inputs.get("repository_url") or "https://upload.pypi.org/")
            host = urlsplit(url).hostname or ""
            return {"upload.pypi.org": "pypi.org", "test.pypi.org": "test.pypi.org"}.get(host, host)
    return None


def parse_remote(url: str) -> tuple[str, str] | None:
    match = REMOTE_RE.match(url)
    if not match or (match["host"] or match["scp_host"]).lower() not in GITHUB_HOSTS:
        return None
    return match["owner"], match["repo"]


def shown_remote(url: str) -> str:
    """A remote URL without the user and password an https remote may carry."""
    return re.sub(r"^([a-z+]+://)[^@/]*@", r"\1", url)
