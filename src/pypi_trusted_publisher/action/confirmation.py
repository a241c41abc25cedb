"""New-IP confirmation inside CI: collect PyPI's e-mailed link from an issue comment.

A hosted runner gets a new IP address for every job, so PyPI stops each TOTP
login at "confirm this login" and e-mails a link that logs in *from that IP*
for 6 hours (docs/protocol/new-ip.md#link). Only a human who reads the e-mail can hand
it over. This provider opens an issue (or comments on a given one), waits for
a comment from someone with write access that contains the link, masks and
deletes that comment at once, and returns the link to the engine, which
validates it again and opens it from a fresh cookie-less client.

Because the link is as strong as the password plus TOTP, a public repository
is refused unless the workflow opted in: a comment is readable until deleted
and is e-mailed to every watcher.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..core.errors import RegistrationFailed
from ..core.models import Result
from ..core.secret import Secret
from ..core.wording import plural
from ..transports.github import GitHubApi, GitHubError
from ..transports.web.confirm import CONFIRM_PATH, ConfirmationRequest, check_confirm_link

URL_RE = re.compile(r"https?://[^\s<>\"'`()\[\]{}|\\^]+")
TRAILING = ".,;:!?*_~"


def find_links(text: str) -> list[str]:
    """Every URL in ``text`` that looks like a confirm-login link, on any host."""
    links = []
    for match in URL_RE.finditer(text):
        url = match.group(0).rstrip(TRAILING)
        if "confirm-login" in url:
            links.append(url)
    return links


def link_secrets(url: str) -> list[str]:
    """The strings to mask for one link: the link itself and its token, raw and decoded."""
    values = [url]
    query = urlsplit(url).query
    for part in query.split("&"):
        name, _, raw = part.partition("=")
        if name == "token" and raw:
            values.append(raw)
    values.extend(parse_qs(query).get("token", []))
    return list(dict.fromkeys(v for v in values if v))


@dataclass(frozen=True)
class ConfirmationSettings:
    """Where and how long to wait for the link."""

    repository: str
    own_repository: str
    issue: int | None = None
    timeout: float = 600.0
    poll_interval: float = 10.0
    allow_public: bool = False
    event_private: bool | None = None
    run_url: str = ""

    @property
    def private_channel(self) -> bool:
        return self.repository.lower() != self.own_repository.lower()


# A hosted runner is gone after the job, and the next job has another IP address: the link is of no use.
CI_ADVICE = (
    "A hosted runner cannot use that link: it is gone when the job ends, and the next run comes from another "
    "IP address. What works in CI: log in with a security key (the `pypi-passkey` input), which PyPI trusts "
    "from any IP address; let the action ask for the link in an issue (`confirmation: issue`); or run on a "
    "self-hosted runner whose IP address was confirmed once."
)
ISSUE_ADVICE = (
    "No link arrived in the confirmation issue in time. Run the workflow again and post the link sooner (or "
    "raise `confirmation-timeout`), log in with a security key instead (the `pypi-passkey` input), or run on "
    "a self-hosted runner whose IP address was confirmed once."
)


def refusal_text(repo: str) -> str:
    return (
        f"PyPI asks to confirm this login with an e-mailed link, and the confirmation issue would be in "
        f"the public repository {repo}. That link logs in to the PyPI account from this runner's IP "
        "address for 6 hours; posted as a comment, it is readable by anyone until it is deleted and "
        "GitHub e-mails it to everyone watching the repository. Nothing was posted. Choose one: set "
        "`confirmation-repository` to a private repository (with a `confirmation-token` that has "
        "issues: write there); log in with a security key (the `pypi-passkey` input), which needs no e-mailed "
        "link; run this job on a self-hosted runner with a stable IP address and confirm "
        "that IP once; run `pypi-trusted-publisher add` on your own machine; or accept the exposure with "
        "`allow-public-confirmation: true`. The e-mailed link is not needed now: ignore it."
    )


def forbidden_text(repo: str, status: int) -> str:
    return (
        f"Could not open the confirmation issue in {repo} (HTTP {status}): the token needs issues: write "
        f"there. Add `permissions: {{issues: write}}` to this job (or pass a `confirmation-token` with "
        f"Issues: read and write on {repo}), set `confirmation: none` to stop at needs-confirmation "
        "instead, log in with a security key (the `pypi-passkey` input) so that no link is needed, or run "
        "`pypi-trusted-publisher add` on your own machine."
    )


class IssueConfirmation:
    """A :class:`~pypi_trusted_publisher.transports.web.confirm.ConfirmationProvider` backed by issue comments."""

    advice = ISSUE_ADVICE

    def __init__(
        self,
        api: GitHubApi,
        settings: ConfirmationSettings,
        *,
        mask: Callable[[str], None],
        log: Callable[[str], None],
        warn: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = api
        self.settings = settings
        self.mask = mask
        self.log = log
        self.warn = warn
        self.clock = clock
        self.sleep = sleep
        self.issue: int | None = None
        self.issue_url = ""
        self.opened = False
        self.finished = False
        self.public = False
        self.notes: list[str] = []
        self._own_ids: set[int] = set()

    # -- the provider -----------------------------------------------------------

    def confirm_link(self, request: ConfirmationRequest) -> Secret | None:
        try:
            return self._wait(request)
        except GitHubError as exc:
            raise RegistrationFailed(
                "confirmation-unavailable", f"The confirmation issue could not be used: {exc}."
            ) from None

    def finish(self, result: Result) -> None:
        """Report the outcome on the issue and close it if this run opened it."""
        if self.issue is None or self.finished:
            return
        where = f" Manage it at {result.manage_url}." if result.status.ok else ""
        self._say(f"Outcome: **{result.status.value}**: {result.message}{where}")
        self._close(completed=result.status.ok)

    # -- steps ------------------------------------------------------------------

    def _wait(self, request: ConfirmationRequest) -> Secret | None:
        repo = self.settings.repository
        self.public = not self._is_private()
        if self.public and not self.settings.allow_public:
            raise RegistrationFailed("confirmation-public-repository", refusal_text(repo))
        since, after = self._open(request)
        minutes = plural(self.settings.timeout / 60, "minute")
        self.log(f"Waiting up to {minutes} for the confirmation link in {self.issue_url}")
        deadline = self.clock() + self.settings.timeout
        while True:
            link = self._poll(request, since, after)
            if link is not None:
                return link
            left = deadline - self.clock()
            if left <= 0:
                break
            self.sleep(min(self.settings.poll_interval, left))
        self._say(
            f"No usable confirmation link arrived within {minutes}; this run stopped waiting "
            "and reports `needs-confirmation`. Run the workflow again, or run `pypi-trusted-publisher add` "
            "on your own machine."
        )
        self._close(completed=False)
        self.notes.append(f"No confirmation link arrived in {self.issue_url} within {minutes}.")
        return None

    def _is_private(self) -> bool:
        settings = self.settings
        if not settings.private_channel and settings.event_private is not None:
            return settings.event_private
        try:
            return self.api.repository(settings.repository).private
        except GitHubError as exc:
            raise RegistrationFailed(
                "confirmation-unavailable",
                f"Could not read the repository {settings.repository} for the confirmation issue "
                f"({exc}); check `confirmation-repository` and `confirmation-token`.",
            ) from None

    def _open(self, request: ConfirmationRequest) -> tuple[str, int]:
        """Post the instructions; returns the ``since`` time and the id comments must exceed."""
        repo = self.settings.repository
        body = self._instructions(request)
        try:
            if self.settings.issue is None:
                issue = self.api.create_issue(repo, "PyPI asks to confirm a login from a workflow run", body)
                self.opened = True
                self.issue, self.issue_url = int(issue["number"]), str(issue.get("html_url", ""))
                return str(issue["created_at"]), 0
            self.issue = self.settings.issue
            posted = self.api.comment(repo, self.issue, body)
        except GitHubError as exc:
            if exc.status in (401, 403):
                raise RegistrationFailed("confirmation-forbidden", forbidden_text(repo, exc.status)) from None
            raise RegistrationFailed(
                "confirmation-unavailable",
                f"Could not post the confirmation request in {repo} ({exc}); issues may be disabled "
                "there, or the issue number does not exist.",
            ) from None
        self._own_ids.add(int(posted["id"]))
        self.issue_url = str(posted.get("html_url", ""))
        return str(posted["created_at"]), int(posted["id"])

    def _instructions(self, request: ConfirmationRequest) -> str:
        index = request.index
        deadline = datetime.now(UTC) + timedelta(seconds=self.settings.timeout)
        run = f"The workflow run {self.settings.run_url}" if self.settings.run_url else "A workflow run"
        lines = [
            f"{run} is logging in to {index.host} to register a trusted publisher, and PyPI does not "
            "recognise the runner's IP address. PyPI has e-mailed the account's owner a message titled "
            f"**{request.email_subject}** (after the site's name in brackets).",
            "",
            f"**To continue, someone with write access to {self.settings.repository} posts a new comment "
            "here containing only the link from that e-mail:**",
            "",
            f"    {index.url}{CONFIRM_PATH}?token=…",
            "",
            "- Paste only the link. The e-mail also shows the runner's IP address and location; they need "
            "not be shared.",
            "- The runner reads the comment, deletes it at once (or hides it when it cannot delete it) "
            "and opens the link itself. The link only works from the runner's IP address.",
            "- The link is a login link, valid for 6 hours. Do not paste it anywhere else.",
            "- Comments from accounts without write access are ignored, and so are links to another host or path.",
            f"- The run waits until {deadline:%H:%M} UTC, then gives up.",
        ]
        if self.public:
            lines += [
                "",
                "> [!WARNING]",
                "> This repository is public. A comment can be read by anyone until it is deleted, and "
                "GitHub e-mails it to everyone watching the repository. The workflow accepted this with "
                "`allow-public-confirmation: true`.",
            ]
        return "\n".join(lines)

    def _poll(self, request: ConfirmationRequest, since: str, after: int) -> Secret | None:
        assert self.issue is not None
        try:
            comments = self.api.comments(self.settings.repository, self.issue, since)
        except GitHubError as exc:
            if exc.status in (0, 500, 502, 503, 504):
                self.log(f"Could not read the comments this time ({exc}); trying again.")
                return None
            raise RegistrationFailed(
                "confirmation-unavailable", f"Could not read the confirmation issue's comments ({exc})."
            ) from None
        for comment in comments:
            comment_id = int(comment["id"])
            if comment_id <= after or comment_id in self._own_ids:
                continue
            self._own_ids.add(comment_id)  # never look at the same comment twice
            link = self._take(comment, request)
            if link is not None:
                return link
        return None

    def _take(self, comment: dict[str, Any], request: ConfirmationRequest) -> Secret | None:
        candidates = find_links(str(comment.get("body") or ""))
        if not candidates:
            return None
        for candidate in candidates:  # before anything else happens with it
            for value in link_secrets(candidate):
                self.mask(value)
        login = str((comment.get("user") or {}).get("login", ""))
        repo = self.settings.repository
        self._remove(comment)  # whoever posted it: a login link must not stay readable
        if not login or not self.api.can_write(repo, login):
            self.log(f"Ignored (and removed) a comment from @{login}: no write access to {repo}.")
            return None
        for candidate in candidates:
            try:
                link = check_confirm_link(Secret(candidate), request.index)
            except RegistrationFailed:
                continue
            for value in link_secrets(link.reveal()):
                self.mask(value)
            self.log(f"Received a confirmation link from @{login}.")
            return link
        self._say(
            f"@{login}: that link was not used. Only {request.index.url}{CONFIRM_PATH}?token=… is "
            "accepted; post the link from PyPI's e-mail."
        )
        return None

    def _remove(self, comment: dict[str, Any]) -> None:
        repo = self.settings.repository
        try:
            self.api.delete_comment(repo, int(comment["id"]))
            self.log("Deleted the comment that held the link.")
            return
        except GitHubError as exc:
            failure = exc
        if comment.get("node_id") and self.api.minimize_comment(str(comment["node_id"])):
            self._note(
                f"Could not delete the comment that held the link ({failure}); it was hidden instead, "
                f"but hidden comments can be expanded: delete it by hand in {self.issue_url}."
            )
            return
        self._note(
            f"Could not delete or hide the comment that held the link ({failure}): delete it by hand now "
            f"in {self.issue_url}."
        )

    def _note(self, text: str) -> None:
        self.notes.append(text)
        self.warn(text)

    def _say(self, body: str) -> None:
        if self.issue is None:
            return
        try:
            posted = self.api.comment(self.settings.repository, self.issue, body)
            self._own_ids.add(int(posted["id"]))
        except GitHubError as exc:
            self.log(f"Could not comment on the confirmation issue ({exc}).")

    def _close(self, *, completed: bool) -> None:
        self.finished = True
        if not self.opened or self.issue is None:
            return
        try:
            self.api.close_issue(self.settings.repository, self.issue, completed=completed)
        except GitHubError as exc:
            self.log(f"Could not close the confirmation issue ({exc}).")
