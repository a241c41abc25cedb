"""A fake GitHub API on 127.0.0.1 for the action's confirmation flow and for ``plan``.

It serves the handful of endpoints the action uses (repository, issues,
comments, collaborator permission, comment deletion and the GraphQL
``minimizeComment`` mutation), checks bearer tokens per repository the way
GitHub does (an unreachable repository is a 404), and records every call and
every side effect in order, so tests can assert *when* a comment was deleted.

For ``plan`` it also serves what a repository shows without a login: the
repository itself (a renamed one answers 301 to ``/repositories/{id}``), the
contents of its default branch, anonymous access to public repositories only,
and GitHub's primary rate limit with its ``X-RateLimit-*`` headers (60 an hour
anonymously, 5,000 with a token; ``clock`` decides when the window resets).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# The repository a runner works in, and its job's GITHUB_TOKEN, for the ``github`` fixture.
REPO = "octo/demo"
GITHUB_TOKEN = "ghs_actionsToken1234567890"

BASE_PERMISSION = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Repo:
    full_name: str
    private: bool
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> role
    has_issues: bool = True
    issues: int = 0
    default_branch: str = "main"
    files: dict[str, str] = field(default_factory=dict)  # path on the default branch -> text
    id: int = 0


@dataclass
class Comment:
    id: int
    repo: str
    issue: int
    login: str
    body: str
    created_at: str
    deleted: bool = False
    minimized: bool = False

    @property
    def node_id(self) -> str:
        return f"IC_{self.id}"

    def to_json(self, base: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "node_id": self.node_id,
            "body": self.body,
            "user": {"login": self.login, "type": "Bot" if self.login.endswith("[bot]") else "User"},
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "html_url": f"{base}/{self.repo}/issues/{self.issue}#issuecomment-{self.id}",
        }


@dataclass
class Issue:
    repo: str
    number: int
    title: str
    body: str
    login: str
    created_at: str
    state: str = "open"
    state_reason: str | None = None

    def to_json(self, base: str) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "body": self.body,
            "state": self.state,
            "state_reason": self.state_reason,
            "user": {"login": self.login},
            "created_at": self.created_at,
            "html_url": f"{base}/{self.repo}/issues/{self.number}",
        }


@dataclass
class Event:
    kind: str
    detail: str
    at: float = field(default_factory=time.monotonic)


class FakeGitHub:
    """``tokens`` maps a token to the repositories it reaches (None: all) and the login it acts as."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.tokens: dict[str, tuple[str, set[str] | None]] = {}
        self.issues: dict[tuple[str, int], Issue] = {}
        self.comments: dict[int, Comment] = {}
        self.events: list[Event] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.deny_issue_write: set[str] = set()
        self.deny_delete = False
        self.deny_minimize = False
        self.changed = threading.Condition()
        # Old full name (lower case) -> the repository's current full name.
        self.renamed: dict[str, str] = {}
        self.rate_limit = 5000
        self.anonymous_rate_limit = 60
        self.clock = time.time
        self._rate_used: dict[str, int] = {}
        self._rate_reset: float | None = None
        self._ids = 1000
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- setup ------------------------------------------------------------------

    def add_repo(
        self,
        full_name: str,
        *,
        private: bool,
        collaborators: dict[str, str] | None = None,
        files: dict[str, str] | None = None,
        default_branch: str = "main",
    ) -> Repo:
        self._ids += 1
        repo = Repo(full_name, private, dict(collaborators or {}), files=dict(files or {}),
                    default_branch=default_branch, id=self._ids)
        self.repos[full_name.lower()] = repo
        return repo

    def rename_repo(self, old: str, new: str) -> Repo:
        """Rename a repository; the old name answers 301 to the repository's id from then on."""
        repo = self.repos.pop(old.lower())
        repo.full_name = new
        self.repos[new.lower()] = repo
        self.renamed[old.lower()] = new
        return repo

    def rate_remaining(self, token: str | None = None) -> int:
        """Requests left in the current window for ``token`` (None: anonymous)."""
        limit = self.anonymous_rate_limit if token is None else self.rate_limit
        return max(limit - self._rate_used.get(token or "", 0), 0)

    def add_token(self, token: str, login: str = "github-actions[bot]", repos: set[str] | None = None) -> None:
        self.tokens[token] = (login, {r.lower() for r in repos} if repos is not None else None)

    def start(self) -> FakeGitHub:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        # The poll interval is how long stop() waits: tests start and stop hundreds of these.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.005,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    # -- what a human does on github.com ---------------------------------------------

    def post_comment(self, repo: str, number: int, login: str, body: str) -> Comment:
        with self.changed:
            comment = self._new_comment(repo, number, login, body)
            self._record("comment-by-user", f"{repo}#{number} {login} {comment.id}")
            return comment

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> Any:
        """Block until ``predicate()`` returns something truthy; return it."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the fake GitHub did not reach the expected state")
                self.changed.wait(left)

    def open_issues(self, repo: str) -> list[Issue]:
        return [i for (r, _), i in self.issues.items() if r == repo.lower() and i.state == "open"]

    def issue_comments(self, repo: str, number: int, *, deleted: bool = False) -> list[Comment]:
        return [
            c
            for c in self.comments.values()
            if c.repo.lower() == repo.lower() and c.issue == number and (deleted or not c.deleted)
        ]

    def note(self, kind: str, detail: str) -> None:
        """Put something that happened outside (a mask, a PyPI request) on the same timeline."""
        with self.changed:
            self._record(kind, detail)

    def requested_issue(self, repo: str) -> int | None:
        """The issue the action opened or commented on in ``repo``, once it has."""
        for event in self.events:
            name, _, number = event.detail.split(" ", 1)[0].partition("#")
            if event.kind in ("create-issue", "comment-by-action") and name.lower() == repo.lower():
                return int(number)
        return None

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    # -- internals -------------------------------------------------------------------

    def _record(self, kind: str, detail: str) -> None:
        self.events.append(Event(kind, detail))
        self.changed.notify_all()

    def _new_comment(self, repo: str, number: int, login: str, body: str) -> Comment:
        self._ids += 1
        comment = Comment(self._ids, repo, number, login, body, now_iso())
        self.comments[comment.id] = comment
        return comment

    def respond(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any, dict[str, str]]:
        """The rate limit of the caller, the read-only repository endpoints, then :meth:`handle`."""
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth else None
        if (token is not None and token not in self.tokens) or urlsplit(path).path == "/graphql":
            return (*self.handle(method, path, headers, body), {})
        with self.changed:
            limited, rate = self._rate(token)
            if limited:
                self.requests.append((method, path, headers))
                message = "API rate limit exceeded for 127.0.0.1." if token is None else "API rate limit exceeded."
                return 403, {"message": message, "documentation_url": "https://docs.github.com/rest"}, rate
            read = self._read(path, token) if method == "GET" else None
            if read is not None:
                self.requests.append((method, path, headers))
                status, payload, extra = read
                return status, payload, {**rate, **extra}
        if token is None:
            self.requests.append((method, path, headers))
            return 401, {"message": "Requires authentication"}, rate
        return (*self.handle(method, path, headers, body), rate)

    def _rate(self, token: str | None) -> tuple[bool, dict[str, str]]:
        """Count one request against the caller's hourly window; True when it is over the limit."""
        now = self.clock()
        if self._rate_reset is None or now >= self._rate_reset:
            self._rate_reset = now + 3600
            self._rate_used = {}
        limit = self.anonymous_rate_limit if token is None else self.rate_limit
        used = self._rate_used.get(token or "", 0)
        limited = used >= limit
        if not limited:
            used = self._rate_used[token or ""] = used + 1
        return limited, {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(limit - used, 0)),
            "X-RateLimit-Reset": str(int(self._rate_reset)),
            "X-RateLimit-Used": str(used),
            "X-RateLimit-Resource": "core",
        }

    def _visible(self, repo: Repo | None, token: str | None) -> bool:
        if repo is None:
            return False
        if token is None:
            return not repo.private
        reach = self.tokens[token][1]
        return reach is None or repo.full_name.lower() in reach

    def _read(self, path: str, token: str | None) -> tuple[int, Any, dict[str, str]] | None:
        """GET of a repository, of ``/repositories/{id}`` or of contents; None for any other path."""
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        not_found = (404, {"message": "Not Found"}, {})
        if m := re.fullmatch(r"/repositories/(\d+)", parts.path):
            repo = next((r for r in self.repos.values() if r.id == int(m[1])), None)
            return (200, self._repo_json(repo), {}) if repo and self._visible(repo, token) else not_found
        match = re.fullmatch(r"/repos/([^/]+/[^/]+)(/contents(?:/(.*))?)?", parts.path)
        if not match:
            return None
        name = match[1].lower()
        if name in self.renamed and name not in self.repos:
            repo = self.repos.get(self.renamed[name].lower())
            if not self._visible(repo, token):
                return not_found
            assert repo is not None
            moved = f"{self.url}/repositories/{repo.id}"
            return 301, {"message": "Moved Permanently", "url": moved}, {"Location": moved}
        repo = self.repos.get(name)
        if repo is None or not self._visible(repo, token):
            return not_found
        if match[2] is None:
            return 200, self._repo_json(repo), {}
        if query.get("ref", repo.default_branch) != repo.default_branch:
            return 404, {"message": "No commit found for the ref"}, {}
        return self._contents(repo, (match[3] or "").strip("/"))

    def _repo_json(self, repo: Repo | None) -> dict[str, Any]:
        assert repo is not None
        owner, _, name = repo.full_name.partition("/")
        return {
            "id": repo.id,
            "name": name,
            "full_name": repo.full_name,
            "owner": {"login": owner},
            "private": repo.private,
            "visibility": "private" if repo.private else "public",
            "default_branch": repo.default_branch,
        }

    def _contents(self, repo: Repo, path: str) -> tuple[int, Any, dict[str, str]]:
        """A file (base64, as GitHub sends it) or a folder listing."""
        if path in repo.files:
            data = repo.files[path].encode()
            encoded = base64.b64encode(data).decode()
            content = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n"
            name = path.rsplit("/", 1)[-1]
            return 200, {"type": "file", "name": name, "path": path, "size": len(data),
                         "encoding": "base64", "content": content}, {}
        prefix = f"{path}/" if path else ""
        children: dict[str, str] = {}
        for file in repo.files:
            if file.startswith(prefix):
                head, _, rest = file[len(prefix):].partition("/")
                children[head] = "dir" if rest else "file"
        if not children:
            return 404, {"message": "Not Found"}, {}
        return 200, [
            {"type": kind, "name": child, "path": prefix + child,
             "size": len(repo.files.get(prefix + child, "").encode())}
            for child, kind in sorted(children.items())
        ], {}

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        self.requests.append((method, path, headers))
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip()
        if token not in self.tokens:
            return 401, {"message": "Bad credentials"}
        login, reach = self.tokens[token]
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.changed:
            if parts.path == "/graphql" and method == "POST":
                return self._graphql(body)
            match = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)?", parts.path)
            if not match:
                return 404, {"message": "Not Found"}
            repo = self.repos.get(match[1].lower())
            if repo is None or (reach is not None and repo.full_name.lower() not in reach):
                return 404, {"message": "Not Found"}
            return self._repo_call(method, repo, match[2] or "", query, body, login)

    def _repo_call(
        self, method: str, repo: Repo, rest: str, query: dict[str, str], body: Any, login: str
    ) -> tuple[int, Any]:
        key = repo.full_name.lower()
        if rest == "" and method == "GET":
            visibility = "private" if repo.private else "public"
            return 200, {"full_name": repo.full_name, "private": repo.private, "visibility": visibility}
        if m := re.fullmatch(r"/collaborators/([^/]+)/permission", rest):
            role = repo.collaborators.get(m[1])
            if role is None:
                role = "none" if repo.private else "read"
            return 200, {"permission": BASE_PERMISSION.get(role, "none"), "role_name": role, "user": {"login": m[1]}}
        writes = method in ("POST", "PATCH", "DELETE")
        if writes and key in self.deny_issue_write:
            return 403, {"message": "Resource not accessible by integration"}
        if rest == "/issues" and method == "POST":
            if not repo.has_issues:
                return 410, {"message": "Issues are disabled for this repo"}
            repo.issues += 1
            issue = Issue(key, repo.issues, body["title"], body["body"], login, now_iso())
            self.issues[(key, issue.number)] = issue
            self._record("create-issue", f"{repo.full_name}#{issue.number}")
            return 201, issue.to_json("https://github.example")
        if m := re.fullmatch(r"/issues/(\d+)", rest):
            found = self.issues.get((key, int(m[1])))
            if found is None:
                return 404, {"message": "Not Found"}
            issue = found
            if method == "PATCH":
                issue.state = body.get("state", issue.state)
                issue.state_reason = body.get("state_reason")
                self._record("close-issue", f"{repo.full_name}#{issue.number} {issue.state_reason}")
            return 200, issue.to_json("https://github.example")
        if m := re.fullmatch(r"/issues/(\d+)/comments", rest):
            number = int(m[1])
            if (key, number) not in self.issues:
                return 404, {"message": "Not Found"}
            if method == "POST":
                comment = self._new_comment(repo.full_name, number, login, body["body"])
                self._record("comment-by-action", f"{repo.full_name}#{number} {comment.id}")
                return 201, comment.to_json("https://github.example")
            since = query.get("since", "")
            page, per_page = int(query.get("page", "1")), int(query.get("per_page", "30"))
            visible = [
                c.to_json("https://github.example")
                for c in self.issue_comments(repo.full_name, number)
                if c.created_at >= since
            ]
            return 200, visible[(page - 1) * per_page : page * per_page]
        if (m := re.fullmatch(r"/issues/comments/(\d+)", rest)) and method == "DELETE":
            target = self.comments.get(int(m[1]))
            if target is None or target.deleted:
                return 404, {"message": "Not Found"}
            comment = target
            if self.deny_delete:
                return 403, {"message": "Resource not accessible by integration"}
            comment.deleted = True
            self._record("delete-comment", str(comment.id))
            return 204, None
        return 404, {"message": "Not Found"}

    def _graphql(self, body: Any) -> tuple[int, Any]:
        if "minimizeComment" not in body.get("query", ""):
            return 200, {"errors": [{"message": "unsupported query"}]}
        node_id = body.get("variables", {}).get("id", "")
        comment = next((c for c in self.comments.values() if c.node_id == node_id), None)
        if comment is None or self.deny_minimize:
            return 200, {"data": {"minimizeComment": None}, "errors": [{"message": "FORBIDDEN"}]}
        comment.minimized = True
        self._record("minimize-comment", str(comment.id))
        return 200, {"data": {"minimizeComment": {"minimizedComment": {"isMinimized": True}}}}


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, payload, extra = fake.respond(self.command, self.path, headers, body)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
