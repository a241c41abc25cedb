"""Where a project's source lives, from its public metadata (the JSON API's ``info``, read by the engine).

The latest release's ``info.project_urls`` (which Warehouse builds with the home
page first) and ``info.home_page`` name the repository for most projects. A
project without a release answers 404, like a missing one (recorded page 74):
it has no metadata, so nothing names its repository.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..core.validation import GITHUB_OWNER_RE, GITHUB_REPOSITORY_RE, GITLAB_NAMESPACE_RE, GITLAB_PROJECT_RE

HOSTS = {"github.com": "github.com", "www.github.com": "github.com", "gitlab.com": "gitlab.com",
         "www.gitlab.com": "gitlab.com"}
# Project-URL labels most likely to name the repository, normalised as PEP 753 does; then any other.
LABELS = ("source", "sourcecode", "repository", "code", "github", "gitlab", "homepage", "home")
# First path segments that are GitHub or GitLab pages, not owners.
NOT_OWNERS = frozenset({"orgs", "users", "sponsors", "topics", "marketplace", "apps", "features", "settings",
                        "explore", "groups", "dashboard", "search", "collections", "about"})


@dataclass(frozen=True)
class SourceRepository:
    """A repository on GitHub (``owner/name``) or GitLab (``namespace/…/project``)."""

    host: str
    path: str
    url: str = ""  # the project URL that named it
    label: str = ""

    @property
    def owner(self) -> str:
        return self.path.rpartition("/")[0]

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def key(self) -> tuple[str, str]:
        return self.host, self.path.lower()

    def __str__(self) -> str:
        return f"{self.host}/{self.path}"


class NoRepository(Exception):
    """The metadata names no repository; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def source_repository(info: dict[str, Any] | None) -> SourceRepository:
    """The repository the metadata names, by label preference; raises :class:`NoRepository`."""
    if info is None:
        raise NoRepository("it has no release yet, so PyPI has no project URLs for it")
    urls = _labelled_urls(info)
    if not urls:
        raise NoRepository("its latest release lists no project URLs and no home page")
    ranked = sorted(urls, key=lambda item: _rank(item[0]))
    on_hosts = []
    for label, url in ranked:
        parts = urlsplit(url.strip())
        host = HOSTS.get((parts.hostname or "").lower())
        if host is None or parts.scheme not in ("http", "https"):
            continue
        on_hosts.append(url)
        path = _repository_path(host, parts.path)
        if path:
            return SourceRepository(host, path, url, label)
    if on_hosts:
        raise NoRepository(f"its project URLs point to {', '.join(on_hosts)}, which is not a repository")
    hosts = sorted({urlsplit(url).hostname or url for _, url in urls})
    raise NoRepository(f"its project URLs ({', '.join(hosts)}) name no GitHub or GitLab repository")


def _labelled_urls(info: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    project_urls = info.get("project_urls")
    if isinstance(project_urls, dict):
        found += [(str(k), v) for k, v in project_urls.items() if isinstance(v, str) and v.strip()]
    home = info.get("home_page")
    if isinstance(home, str) and home.strip() and home not in (url for _, url in found):
        found.append(("Homepage", home))
    return found


def _rank(label: str) -> int:
    """PEP 753 normalisation (no punctuation or whitespace, lower case), then the preference order."""
    key = label.translate(str.maketrans("", "", string.punctuation + string.whitespace)).lower()
    return LABELS.index(key) if key in LABELS else len(LABELS)


def _repository_path(host: str, path: str) -> str:
    """``owner/name`` (GitHub) or ``namespace/project`` (GitLab) at the start of a URL path, or ""."""
    segments = [s for s in path.split("/") if s]
    if host == "gitlab.com" and "-" in segments:
        segments = segments[: segments.index("-")]  # /group/project/-/tree/main
    if len(segments) < 2 or segments[0].lower() in NOT_OWNERS:
        return ""
    if host == "github.com":
        owner, name = segments[0], segments[1].removesuffix(".git")
        ok = bool(GITHUB_OWNER_RE.fullmatch(owner) and GITHUB_REPOSITORY_RE.fullmatch(name)) and name not in (".", "..")
        return f"{owner}/{name}" if ok else ""
    namespace, name = "/".join(segments[:-1]), segments[-1].removesuffix(".git")
    ok = bool(GITLAB_NAMESPACE_RE.fullmatch(namespace) and GITLAB_PROJECT_RE.fullmatch(name))
    return f"{namespace}/{name}" if ok else ""
