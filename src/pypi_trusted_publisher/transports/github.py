"""The few GitHub REST and GraphQL calls the confirmation flow needs.

Errors carry the HTTP status and the API path only: paths here never hold a
secret, and response bodies (which may quote a comment) are never shown.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from .. import __version__

USER_AGENT = f"pypi-trusted-publisher-action/{__version__} (+confirmation via issue comments)"
WRITE_ROLES = frozenset({"admin", "maintain", "write"})
MINIMIZE = """
mutation($id: ID!) {
  minimizeComment(input: {subjectId: $id, classifier: RESOLVED}) {
    minimizedComment { isMinimized }
  }
}
"""


class GitHubError(Exception):
    """A GitHub API call failed; ``status`` is 0 when no response arrived."""

    def __init__(self, status: int, what: str, detail: str = "") -> None:
        detail = detail or (f"HTTP {status}" if status else "no response")
        super().__init__(f"GitHub API {what} failed ({detail})")
        self.status = status


def graphql_url(api_url: str) -> str:
    """``https://api.github.com/graphql``, or ``https://ghes/api/graphql`` on GHES."""
    base = api_url.rstrip("/")
    return base[: -len("/v3")] + "/graphql" if base.endswith("/api/v3") else base + "/graphql"


class GitHubApi:
    """A token-authenticated client for one GitHub instance."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        graphql: str = "",
        timeout: float = 15.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.graphql = graphql or graphql_url(api_url)
        self.client = httpx.Client(
            base_url=api_url.rstrip("/") + "/",
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {token}",
                "User-Agent": USER_AGENT,
                "X-GitHub-Api-Version": "2022-11-28",
            },
        )

    def close(self) -> None:
        self.client.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        what = f"{method} {path.split('?', 1)[0]}"
        try:
            response = self.client.request(method, path.lstrip("/"), **kwargs)
        except httpx.HTTPError:
            raise GitHubError(0, what) from None
        if response.status_code >= 400:
            raise GitHubError(response.status_code, what)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._call(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise GitHubError(response.status_code, f"{method} {path}", "not JSON") from None

    def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        data = self._json(method, path, **kwargs)
        if not isinstance(data, dict):
            raise GitHubError(200, f"{method} {path}", "not a JSON object")
        return data

    def repository(self, repo: str) -> dict[str, Any]:
        return self._object("GET", f"/repos/{repo}")

    def create_issue(self, repo: str, title: str, body: str) -> dict[str, Any]:
        return self._object("POST", f"/repos/{repo}/issues", json={"title": title, "body": body})

    def comment(self, repo: str, number: int, body: str) -> dict[str, Any]:
        return self._object("POST", f"/repos/{repo}/issues/{number}/comments", json={"body": body})

    def comments(self, repo: str, number: int, since: str) -> list[dict[str, Any]]:
        """Comments updated since ``since`` (ISO 8601), oldest first, all pages."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            path = f"/repos/{repo}/issues/{number}/comments"
            batch = self._json("GET", path, params={"since": since, "per_page": 100, "page": page})
            if not isinstance(batch, list):
                raise GitHubError(200, f"GET {path}", "not a JSON list")
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
        self._call("DELETE", f"/repos/{repo}/issues/comments/{comment_id}")

    def minimize_comment(self, node_id: str) -> bool:
        try:
            response = self.client.post(self.graphql, json={"query": MINIMIZE, "variables": {"id": node_id}})
        except httpx.HTTPError:
            return False
        if response.status_code != 200:
            return False
        data = response.json().get("data") or {}
        minimized = (data.get("minimizeComment") or {}).get("minimizedComment") or {}
        return bool(minimized.get("isMinimized"))

    def close_issue(self, repo: str, number: int, *, completed: bool) -> None:
        reason = "completed" if completed else "not_planned"
        self._call("PATCH", f"/repos/{repo}/issues/{number}", json={"state": "closed", "state_reason": reason})
