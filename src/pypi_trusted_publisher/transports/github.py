"""One client for GitHub's REST API (and the one GraphQL call), with rate-limit handling in one place.

Two features use it: ``plan`` reads a repository and the files on its default branch (anonymously, or with
``GITHUB_TOKEN``/``GH_TOKEN``), and the action's new-IP confirmation works an issue (comments, permissions, closing).

Every answer carries ``X-RateLimit-Remaining`` and ``-Reset``: once the budget is spent the client stops asking,
waiting (through the injected sleep) only when the reset is a few seconds away, and otherwise says when it resets;
a 403/429 with ``Retry-After`` (the secondary limit) waits that long. A GET is tried once more after a network
error or a 5xx, and after a second network error the API counts as down for the rest of the run; a write is sent
once. A renamed repository answers 301 to ``/repositories/{id}``; only redirects to the same API origin are
followed, so the token never leaves it. Errors carry the call and the status, never a header, the token or a
response body (which may quote a comment).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from ..core.errors import UsageError
from ..core.indexes import is_loopback
from ..core.secret import Secret
from .web.http import USER_AGENT

DEFAULT_API_URL = "https://api.github.com"
MAX_WAIT = 60.0  # seconds worth waiting for the rate limit to reset; longer waits stop the work
ATTEMPTS = 2  # a GET after a network error or a 5xx answer is tried once more
WRITE_ROLES = frozenset({"admin", "maintain", "write"})
MINIMIZE = """
mutation($id: ID!) {
  minimizeComment(input: {subjectId: $id, classifier: RESOLVED}) {
    minimizedComment { isMinimized }
  }
}
"""


def api_url(env: Mapping[str, str]) -> str:
    """``GITHUB_API_URL`` (GitHub Enterprise, or a test server on loopback), else api.github.com."""
    value = (env.get("GITHUB_API_URL") or DEFAULT_API_URL).strip().rstrip("/")
    parts = urlsplit(value)
    plain_local = parts.scheme == "http" and is_loopback(parts.hostname or "")
    if not parts.hostname or not (parts.scheme == "https" or plain_local) or parts.query or parts.username:
        raise UsageError(f"GITHUB_API_URL must be an https:// URL, got {value!r}")
    return value


def api_token(env: Mapping[str, str]) -> Secret:
    return Secret((env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or "").strip())


def graphql_url(api_url: str) -> str:
    """``https://api.github.com/graphql``, or ``https://ghes/api/graphql`` on GHES."""
    base = api_url.rstrip("/")
    return base[: -len("/v3")] + "/graphql" if base.endswith("/api/v3") else base + "/graphql"


def clock_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


class GitHubError(Exception):
    """A call failed. ``code``: github-error, repository-unreachable or github-rate-limited; ``status`` 0: no answer."""

    def __init__(self, code: str, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class RateLimited(GitHubError):
    """The rate limit is spent; ``reset`` is when it refills (epoch seconds), if GitHub said."""

    def __init__(self, reset: float | None, authenticated: bool) -> None:
        when = f"it resets at {clock_time(reset)}" if reset else "GitHub did not say when it resets"
        hint = "" if authenticated else "; a token (GITHUB_TOKEN) allows 5,000 requests an hour instead of 60"
        super().__init__("github-rate-limited", f"GitHub's API rate limit is spent ({when}{hint})", 403)
        self.reset = reset


@dataclass(frozen=True)
class RepositoryInfo:
    full_name: str
    default_branch: str
    private: bool
    renamed_from: str = ""


@dataclass
class RateLimit:
    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None


class GitHubApi:
    """A client for one GitHub instance; ``requests`` counts what it sent."""

    def __init__(
        self,
        base_url: str,
        token: Secret | str = "",
        *,
        graphql: str = "",
        timeout: float = 15.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        token = token if isinstance(token, Secret) else Secret(token)
        headers = {"User-Agent": USER_AGENT, "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28"}  # fmt: skip
        if token:
            headers["Authorization"] = "Bearer " + token.reveal()
        self.base_url = base_url.rstrip("/")
        self.graphql = graphql or graphql_url(self.base_url)
        self.authenticated = bool(token)
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout), follow_redirects=False, headers=headers, transport=transport
        )
        self.clock = clock
        self.sleep = sleep
        self.requests = 0
        self.rate = RateLimit()
        self.down: GitHubError | None = None  # the API did not answer: every later GET fails the same way at once

    def close(self) -> None:
        self.client.close()

    # -- a repository and its files (plan) -----------------------------------------------

    def repository(self, full_name: str) -> RepositoryInfo:
        """The repository as GitHub names it now (following a rename), with its default branch."""
        response = self._send("GET", f"/repos/{_quoted(full_name)}")
        renamed_from = ""
        if response.status_code in (301, 307):
            target = urlsplit(response.headers.get("Location", ""))
            if f"{target.scheme}://{target.netloc}" != _origin(self.base_url):
                raise GitHubError("github-error", f"GitHub redirected {full_name} to another host; not following it")
            renamed_from = full_name
            response = self._send("GET", target.geturl())
        if response.status_code == 404:
            raise GitHubError(
                "repository-unreachable",
                f"GitHub has no public repository {full_name} (private, deleted or misspelled)"
                + ("" if self.authenticated else "; set GITHUB_TOKEN to read private ones"),
                404,
            )
        data = self._read(response, full_name)
        if not isinstance(data, dict) or not isinstance(data.get("full_name"), str):
            raise GitHubError("github-error", f"GitHub's answer for {full_name} is not a repository")
        branch = data.get("default_branch")
        return RepositoryInfo(data["full_name"], branch if isinstance(branch, str) and branch else "main",
                              bool(data.get("private")), renamed_from)  # fmt: skip

    def folder(self, full_name: str, path: str, ref: str) -> list[tuple[str, str]]:
        """(name, type) of each entry of a folder on ``ref``; [] when it does not exist."""
        response = self._send("GET", f"/repos/{_quoted(full_name)}/contents/{quote(path)}", params={"ref": ref})
        if response.status_code == 404:
            return []
        data = self._read(response, full_name)
        if not isinstance(data, list):
            return []
        return [(str(e.get("name")), str(e.get("type"))) for e in data if isinstance(e, dict) and e.get("name")]

    def text(self, full_name: str, path: str, ref: str) -> str | None:
        """A file's text on ``ref``; None when it does not exist or is not a readable text file."""
        response = self._send("GET", f"/repos/{_quoted(full_name)}/contents/{quote(path)}", params={"ref": ref})
        if response.status_code == 404:
            return None
        data = self._read(response, full_name)
        if not isinstance(data, dict) or data.get("type") != "file" or data.get("encoding") != "base64":
            return None  # a folder, a symlink, or a file too large for the contents API
        try:
            return base64.b64decode(str(data.get("content", ""))).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None

    # -- an issue (the action's new-IP confirmation) -------------------------------------

    def create_issue(self, repo: str, title: str, body: str) -> dict[str, Any]:
        return self._object("POST", f"/repos/{repo}/issues", json={"title": title, "body": body})

    def comment(self, repo: str, number: int, body: str) -> dict[str, Any]:
        return self._object("POST", f"/repos/{repo}/issues/{number}/comments", json={"body": body})

    def comments(self, repo: str, number: int, since: str) -> list[dict[str, Any]]:
        """Comments updated since ``since`` (ISO 8601), oldest first, all pages."""
        found: list[dict[str, Any]] = []
        page = 1
        path = f"/repos/{repo}/issues/{number}/comments"
        while True:
            batch = self._json("GET", path, params={"since": since, "per_page": "100", "page": str(page)})
            if not isinstance(batch, list):
                raise GitHubError("github-error", f"GitHub API GET {path} failed (not a JSON list)", 200)
            found.extend(item for item in batch if isinstance(item, dict))
            if len(batch) < 100:
                return found
            page += 1

    def can_write(self, repo: str, login: str) -> bool:
        """True when ``login`` has admin, maintain or write access to ``repo``."""
        try:
            data = self._object("GET", f"/repos/{repo}/collaborators/{quote(login, safe='')}/permission")
        except GitHubError as exc:
            if exc.status == 404:  # not a collaborator (or not a user at all)
                return False
            raise
        roles = {str(data.get("permission", "")), str(data.get("role_name", ""))}
        return bool(roles & WRITE_ROLES)

    def delete_comment(self, repo: str, comment_id: int) -> None:
        self._checked("DELETE", f"/repos/{repo}/issues/comments/{comment_id}")

    def minimize_comment(self, node_id: str) -> bool:
        """Fold a comment away as resolved; False when GitHub would not (the comment is deleted anyway)."""
        try:
            response = self._send("POST", self.graphql, json={"query": MINIMIZE, "variables": {"id": node_id}})
            data = response.json().get("data") if response.status_code == 200 else None
        except (GitHubError, ValueError, AttributeError):
            return False
        minimized = ((data or {}).get("minimizeComment") or {}).get("minimizedComment") or {}
        return bool(minimized.get("isMinimized"))

    def close_issue(self, repo: str, number: int, *, completed: bool) -> None:
        reason = "completed" if completed else "not_planned"
        self._checked("PATCH", f"/repos/{repo}/issues/{number}", json={"state": "closed", "state_reason": reason})

    # -- transport -----------------------------------------------------------------------

    def _send(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, json: object = None
    ) -> httpx.Response:
        """One call within the rate limit; a GET once more after a network error or a 5xx."""
        if self.down is not None:
            raise self.down
        what = f"{method} {urlsplit(path).path}"
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        errors = waits = 0
        while True:
            waits += self._wait_for_budget(may_wait=waits == 0)
            self.requests += 1
            try:
                response = self.client.request(method, url, params=params, json=json)
            except httpx.HTTPError as exc:
                errors += 1
                if method != "GET":
                    raise GitHubError("github-error", f"GitHub API {what} failed (no response)") from None
                if errors >= ATTEMPTS:
                    self.down = GitHubError("github-error", f"GitHub's API did not answer ({type(exc).__name__})")
                    raise self.down from None
                self.sleep(1.0)
                continue
            self._note_rate(response)
            if self._rate_limited(response):
                continue  # the next turn waits for the reset, or raises RateLimited
            if method == "GET" and response.status_code >= 500 and errors + 1 < ATTEMPTS:
                errors += 1
                self.sleep(1.0)
                continue
            return response

    def _checked(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, json: object = None
    ) -> httpx.Response:
        response = self._send(method, path, params=params, json=json)
        if response.status_code >= 400:
            status = response.status_code
            raise GitHubError("github-error", f"GitHub API {method} {path} failed (HTTP {status})", status)
        return response

    def _json(self, method: str, path: str, **send: Any) -> object:
        response = self._checked(method, path, **send)
        try:
            return response.json()
        except ValueError:
            raise GitHubError("github-error", f"GitHub API {method} {path} failed (not JSON)", 200) from None

    def _object(self, method: str, path: str, **send: Any) -> dict[str, Any]:
        data = self._json(method, path, **send)
        if not isinstance(data, dict):
            raise GitHubError("github-error", f"GitHub API {method} {path} failed (not a JSON object)", 200)
        return data

    def _read(self, response: httpx.Response, full_name: str) -> object:
        if response.status_code != 200:
            raise GitHubError(
                "github-error",
                f"GitHub's API answered HTTP {response.status_code} for {full_name}",
                response.status_code,
            )
        try:
            return response.json()
        except ValueError:
            raise GitHubError("github-error", f"GitHub's API sent something that is not JSON for {full_name}") from None

    def _note_rate(self, response: httpx.Response) -> None:
        headers = response.headers
        for name, attribute in (("X-RateLimit-Limit", "limit"), ("X-RateLimit-Remaining", "remaining")):
            if headers.get(name, "").isdigit():
                setattr(self.rate, attribute, int(headers[name]))
        if headers.get("X-RateLimit-Reset", "").isdigit():
            self.rate.reset = float(headers["X-RateLimit-Reset"])

    def _rate_limited(self, response: httpx.Response) -> bool:
        """A 403/429 with no budget left, or with Retry-After (the secondary limit)."""
        if response.status_code not in (403, 429):
            return False
        retry_after = response.headers.get("Retry-After", "")
        if retry_after.isdigit():
            self.rate.remaining = 0
            self.rate.reset = self.clock() + int(retry_after)
            return True
        return self.rate.remaining == 0

    def _wait_for_budget(self, *, may_wait: bool) -> int:
        """Nothing while budget is left; a spent one waits for a near reset (1 returned), else raises."""
        if self.rate.remaining != 0:
            return 0
        reset = self.rate.reset
        wait = reset - self.clock() if reset is not None else None
        if wait is not None and wait <= 0 and may_wait:
            self.rate.remaining = None  # a new window: ask again
            return 0
        if wait is None or wait > MAX_WAIT or not may_wait:
            raise RateLimited(reset, self.authenticated)
        self.sleep(wait + 1)
        self.rate.remaining = None
        return 1


def _quoted(full_name: str) -> str:
    owner, _, name = full_name.partition("/")
    return f"{quote(owner, safe='')}/{quote(name, safe='')}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
