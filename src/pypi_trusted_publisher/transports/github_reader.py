"""A small read-only client for GitHub's REST API: a repository and the files on its default branch.

Anonymous callers get 60 requests an hour, a token (``GITHUB_TOKEN``/``GH_TOKEN``)
5,000. Every answer carries ``X-RateLimit-Remaining`` and ``-Reset``: once the
budget is spent the client stops asking, waiting (through the injected sleep)
only when the reset is a few seconds away, and otherwise says when it resets.
A renamed repository answers 301 to ``/repositories/{id}``; only redirects to the
same API origin are followed, so the token never leaves it. Messages never quote
headers or the token.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import httpx

from ..core.errors import UsageError
from ..core.indexes import is_loopback
from .web.http import USER_AGENT

DEFAULT_API_URL = "https://api.github.com"
MAX_WAIT = 60.0  # seconds worth waiting for the rate limit to reset; longer waits stop the reading
ATTEMPTS = 2  # network errors and 5xx answers are tried once more


def api_url(env: Mapping[str, str]) -> str:
    """``GITHUB_API_URL`` (GitHub Enterprise, or a test server on loopback), else api.github.com."""
    value = (env.get("GITHUB_API_URL") or DEFAULT_API_URL).strip().rstrip("/")
    parts = urlsplit(value)
    plain_local = parts.scheme == "http" and is_loopback(parts.hostname or "")
    if not parts.hostname or not (parts.scheme == "https" or plain_local) or parts.query or parts.username:
        raise UsageError(f"GITHUB_API_URL must be an https:// URL, got {value!r}")
    return value


def api_token(env: Mapping[str, str]) -> str:
    return (env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or "").strip()


def clock_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


class Unreadable(Exception):
    """GitHub did not give us what we asked for; ``code`` says why (repository-unreachable, github-error …)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RateLimited(Unreadable):
    """The rate limit is spent; ``reset`` is when it refills (epoch seconds), if GitHub said."""

    def __init__(self, reset: float | None, authenticated: bool) -> None:
        when = f"it resets at {clock_time(reset)}" if reset else "GitHub did not say when it resets"
        hint = "" if authenticated else "; a token (GITHUB_TOKEN) allows 5,000 requests an hour instead of 60"
        super().__init__("github-rate-limited", f"GitHub's API rate limit is spent ({when}{hint})")
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
    def __init__(
        self,
        base_url: str,
        token: str = "",
        *,
        timeout: float = 15.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url
        self.authenticated = bool(token)
        self.client = httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, headers=headers,
                                   transport=transport)
        self.clock = clock
        self.sleep = sleep
        self.requests = 0
        self.rate = RateLimit()
        self.down: Unreadable | None = None  # the API did not answer: every later call fails the same way at once

    def close(self) -> None:
        self.client.close()

    # -- what the plan reads -----------------------------------------------------------

    def repository(self, full_name: str) -> RepositoryInfo:
        """The repository as GitHub names it now (following a rename), with its default branch."""
        response = self._get(f"/repos/{_quoted(full_name)}")
        renamed_from = ""
        if response.status_code in (301, 307):
            target = urlsplit(response.headers.get("Location", ""))
            if f"{target.scheme}://{target.netloc}" != _origin(self.base_url):
                raise Unreadable("github-error", f"GitHub redirected {full_name} to another host; not following it")
            renamed_from = full_name
            response = self._get(target.geturl())
        if response.status_code == 404:
            raise Unreadable(
                "repository-unreachable",
                f"GitHub has no public repository {full_name} (private, deleted or misspelled)"
                + ("" if self.authenticated else "; set GITHUB_TOKEN to read private ones"),
            )
        data = self._json(response, full_name)
        if not isinstance(data, dict) or not isinstance(data.get("full_name"), str):
            raise Unreadable("github-error", f"GitHub's answer for {full_name} is not a repository")
        branch = data.get("default_branch")
        return RepositoryInfo(data["full_name"], branch if isinstance(branch, str) and branch else "main",
                              bool(data.get("private")), renamed_from)

    def folder(self, full_name: str, path: str, ref: str) -> list[tuple[str, str]]:
        """(name, type) of each entry of a folder on ``ref``; [] when it does not exist."""
        response = self._get(f"/repos/{_quoted(full_name)}/contents/{quote(path)}", {"ref": ref})
        if response.status_code == 404:
            return []
        data = self._json(response, full_name)
        if not isinstance(data, list):
            return []
        return [(str(e.get("name")), str(e.get("type"))) for e in data if isinstance(e, dict) and e.get("name")]

    def text(self, full_name: str, path: str, ref: str) -> str | None:
        """A file's text on ``ref``; None when it does not exist or is not a readable text file."""
        response = self._get(f"/repos/{_quoted(full_name)}/contents/{quote(path)}", {"ref": ref})
        if response.status_code == 404:
            return None
        data = self._json(response, full_name)
        if not isinstance(data, dict) or data.get("type") != "file" or data.get("encoding") != "base64":
            return None  # a folder, a symlink, or a file too large for the contents API
        try:
            return base64.b64decode(str(data.get("content", ""))).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None

    # -- transport -----------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        """GET once more after a network error or a 5xx; after a spent limit only once its reset is near."""
        if self.down is not None:
            raise self.down
        errors = waits = 0
        while True:
            waits += self._wait_for_budget(may_wait=waits == 0)
            self.requests += 1
            try:
                url = path if path.startswith(("http://", "https://")) else self.base_url + path
                response = self.client.get(url, params=params)
            except httpx.HTTPError as exc:
                errors += 1
                if errors >= ATTEMPTS:
                    self.down = Unreadable("github-error", f"GitHub's API did not answer ({type(exc).__name__})")
                    raise self.down from None
                self.sleep(1.0)
                continue
            self._note_rate(response)
            if self._rate_limited(response):
                continue  # the next turn waits for the reset, or raises RateLimited
            if response.status_code >= 500 and errors + 1 < ATTEMPTS:
                errors += 1
                self.sleep(1.0)
                continue
            return response

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

    def _json(self, response: httpx.Response, full_name: str) -> object:
        if response.status_code != 200:
            raise Unreadable("github-error", f"GitHub's API answered HTTP {response.status_code} for {full_name}")
        try:
            return response.json()
        except ValueError:
            raise Unreadable("github-error", f"GitHub's API sent something that is not JSON for {full_name}") from None


def _quoted(full_name: str) -> str:
    owner, _, name = full_name.partition("/")
    return f"{quote(owner, safe='')}/{quote(name, safe='')}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
