"""The issue-comment confirmation provider against the fake GitHub API."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from fake_github import FakeGitHub
from pypi_trusted_publisher.action.confirmation import ConfirmationSettings, IssueConfirmation, find_links, link_secrets
from pypi_trusted_publisher.core.errors import RegistrationFailed
from pypi_trusted_publisher.core.indexes import resolve_index
from pypi_trusted_publisher.core.secret import Secret
from pypi_trusted_publisher.transports.github import GitHubApi, graphql_url
from pypi_trusted_publisher.transports.web.confirm import ConfirmationRequest
from pypi_trusted_publisher.transports.web.http import USER_AGENT

REPO = "octo/demo"
OPS = "octo/ops"
TOKEN = "ghs_runToken0123456789"
OPS_TOKEN = "github_pat_opsToken0123456789"
INDEX = resolve_index("pypi")
REQUEST = ConfirmationRequest(INDEX, "dana")
LINK = "https://pypi.org/account/confirm-login/?token=eyJhY3Rpb24iOiJsb2dpbiJ9.ZxYzAb.s1gnatureXYZ"
TOKEN_PART = "eyJhY3Rpb24iOiJsb2dpbiJ9.ZxYzAb.s1gnatureXYZ"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    fake.add_repo(REPO, private=True, collaborators={"maintainer": "maintain", "triager": "triage"})
    fake.add_repo(OPS, private=True, collaborators={"maintainer": "admin"})
    fake.add_token(TOKEN, repos={REPO})
    fake.add_token(OPS_TOKEN, login="ops-bot", repos={OPS})
    fake.start()
    yield fake
    fake.stop()


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.masked: list[str] = []
        self.warnings: list[str] = []


def provider(github: FakeGitHub, log: Log, *, token: str = TOKEN, **overrides: object) -> IssueConfirmation:
    values: dict[str, object] = {
        "repository": REPO,
        "own_repository": REPO,
        "timeout": 5.0,
        "poll_interval": 0.02,
        "event_private": True,
        "run_url": "https://github.com/octo/demo/actions/runs/42",
    }
    values.update(overrides)
    settings = ConfirmationSettings(**values)  # type: ignore[arg-type]
    api = GitHubApi(github.url, token, graphql=github.graphql_url, timeout=5)

    def mask(value: str) -> None:
        github.note("mask", value)
        log.masked.append(value)

    return IssueConfirmation(api, settings, mask=mask, log=log.lines.append, warn=log.warnings.append)


def reply(github: FakeGitHub, repo: str, *comments: tuple[str, str]) -> threading.Thread:
    """A human: wait for the action's request in ``repo``, then post ``comments`` (login, body)."""

    def act() -> None:
        number = github.wait_for(lambda: github.requested_issue(repo))
        for login, body in comments:
            github.post_comment(repo, number, login, body)

    thread = threading.Thread(target=act, daemon=True)
    thread.start()
    return thread


def test_find_links_and_secrets() -> None:
    text = f"here it is: <{LINK}>.\nand (https://evil.example/account/confirm-login/?token=x)"
    assert find_links(text) == [LINK, "https://evil.example/account/confirm-login/?token=x"]
    assert find_links("no link https://pypi.org/manage/projects/") == []
    assert link_secrets(LINK) == [LINK, TOKEN_PART]
    assert link_secrets("https://h/account/confirm-login/?token=a%2Bb") == [
        "https://h/account/confirm-login/?token=a%2Bb",
        "a%2Bb",
        "a+b",
    ]


def test_graphql_url() -> None:
    assert graphql_url("https://api.github.com") == "https://api.github.com/graphql"
    assert graphql_url("https://ghe.example/api/v3") == "https://ghe.example/api/graphql"


def test_link_from_a_writer_is_masked_deleted_then_returned(github: FakeGitHub) -> None:
    log = Log()
    p = provider(github, log)
    reply(github, REPO, ("maintainer", f"Here you go: {LINK}"))
    link = p.confirm_link(REQUEST)
    assert isinstance(link, Secret) and link.reveal() == LINK
    comment = github.issue_comments(REPO, 1, deleted=True)[-1]
    assert comment.deleted
    kinds = github.kinds()
    # masked before anything else happened with it, and deleted before it was handed over
    assert kinds.index("mask") < kinds.index("delete-comment")
    assert TOKEN_PART in log.masked and LINK in log.masked
    issue = github.issues[(REPO, 1)]
    assert "paste" in issue.body.lower() or "only the link" in issue.body
    assert "dana" not in issue.body  # the PyPI username stays out of the issue
    assert "https://pypi.org/account/confirm-login/?token=" in issue.body
    assert "Unrecognized login to your PyPI account" in issue.body and "[PyPI]" not in issue.body
    assert not any(LINK in line or TOKEN_PART in line for line in log.lines + log.warnings)
    # the outcome closes the issue this run opened
    from pypi_trusted_publisher.engine.engine import plan
    from pypi_trusted_publisher.inputs.options import Options, resolve

    options = Options(project="demo", owner="octo", repository="demo", workflow="release.yml")
    p.finish(plan(resolve(options).registration))
    assert issue.state == "closed" and issue.state_reason == "completed"
    assert "dry-run" in github.issue_comments(REPO, 1)[-1].body
    for c in github.comments.values():
        assert TOKEN_PART not in c.body or c.deleted


def test_non_writer_ignored_and_foreign_links_refused(github: FakeGitHub) -> None:
    log = Log()
    p = provider(github, log)
    evil = "https://pypi.org.evil.example/account/confirm-login/?token=abcdef"
    wrong_path = "https://pypi.org/account/login/?token=abcdef&confirm-login=1"
    reply(
        github,
        REPO,
        ("stranger", "https://pypi.org/account/confirm-login/?token=strangers0"),
        ("triager", "https://pypi.org/account/confirm-login/?token=triagers0"),
        ("maintainer", evil),
        ("maintainer", wrong_path),
        ("maintainer", LINK),
    )
    link = p.confirm_link(REQUEST)
    assert link is not None and link.reveal() == LINK
    comments = {c.login: c for c in github.issue_comments(REPO, 1, deleted=True)}
    # Ignored, yet removed too: a login link must not stay readable, whoever posted it.
    assert comments["stranger"].deleted and comments["triager"].deleted
    assert all(c.deleted for c in github.issue_comments(REPO, 1, deleted=True) if c.login == "maintainer")
    assert any("@stranger" in line and "no write access" in line for line in log.lines)
    refusals = [c.body for c in github.issue_comments(REPO, 1) if "was not used" in c.body]
    assert len(refusals) == 2  # the other host and the other path
    assert "strangers0" in log.masked  # masked even though it was never used


def test_deletion_refused_falls_back_to_minimize(github: FakeGitHub) -> None:
    github.deny_delete = True
    log = Log()
    p = provider(github, log)
    reply(github, REPO, ("maintainer", LINK))
    assert p.confirm_link(REQUEST) is not None
    assert "minimize-comment" in github.kinds()
    assert github.issue_comments(REPO, 1)[-1].minimized or any(c.minimized for c in github.comments.values())
    assert p.notes and "hidden" in p.notes[0] and log.warnings == p.notes


def test_neither_delete_nor_minimize_warns_loudly(github: FakeGitHub) -> None:
    github.deny_delete = github.deny_minimize = True
    log = Log()
    p = provider(github, log)
    reply(github, REPO, ("maintainer", LINK))
    assert p.confirm_link(REQUEST) is not None
    assert "delete it by hand now" in log.warnings[0]


def test_public_repository_is_refused_without_opt_in(github: FakeGitHub) -> None:
    log = Log()
    p = provider(github, log, event_private=False)
    with pytest.raises(RegistrationFailed) as info:
        p.confirm_link(REQUEST)
    assert info.value.reason == "confirmation-public-repository"
    for option in ("confirmation-repository", "self-hosted", "pypi-trusted-publisher add", "allow-public-confirmation"):
        assert option in info.value.message
    assert "e-mails it to everyone watching" in info.value.message
    assert github.issues == {}  # nothing was posted


def test_public_repository_with_opt_in_warns_in_the_issue(github: FakeGitHub) -> None:
    log = Log()
    p = provider(github, log, event_private=False, allow_public=True)
    reply(github, REPO, ("maintainer", LINK))
    assert p.confirm_link(REQUEST) is not None
    assert "This repository is public" in github.issues[(REPO, 1)].body


def test_visibility_read_from_the_api_when_the_event_does_not_say(github: FakeGitHub) -> None:
    github.repos[REPO].private = False
    p = provider(github, Log(), event_private=None)
    with pytest.raises(RegistrationFailed, match="public repository"):
        p.confirm_link(REQUEST)
    assert ("GET", f"/repos/{REPO}") in [(m, path) for m, path, _ in github.requests]


def test_private_channel_repository(github: FakeGitHub) -> None:
    log = Log()
    # the run's repository is public, the confirmation goes to a private ops repository
    p = provider(github, log, token=OPS_TOKEN, repository=OPS, event_private=False)
    reply(github, OPS, ("maintainer", LINK))
    assert p.confirm_link(REQUEST) is not None
    assert github.issues[(OPS.lower(), 1)].login == "ops-bot"
    assert not any(r == REPO.lower() for r, _ in github.issues)


def test_private_channel_that_is_public_is_refused(github: FakeGitHub) -> None:
    github.repos[OPS].private = True
    github.add_repo("octo/public-ops", private=False)
    github.add_token("pat2", repos={"octo/public-ops"})
    p = provider(github, Log(), token="pat2", repository="octo/public-ops", event_private=True)
    with pytest.raises(RegistrationFailed, match="public repository octo/public-ops"):
        p.confirm_link(REQUEST)


def test_unreachable_channel_explains(github: FakeGitHub) -> None:
    p = provider(github, Log(), repository=OPS)  # the run token cannot see the ops repository
    with pytest.raises(RegistrationFailed) as info:
        p.confirm_link(REQUEST)
    assert info.value.reason == "confirmation-unavailable"
    assert "confirmation-token" in info.value.message


def test_missing_issues_write_fails_with_options(github: FakeGitHub) -> None:
    github.deny_issue_write.add(REPO.lower())
    p = provider(github, Log())
    with pytest.raises(RegistrationFailed) as info:
        p.confirm_link(REQUEST)
    assert info.value.reason == "confirmation-forbidden"
    assert "issues: write" in info.value.message and "confirmation: none" in info.value.message


def test_timeout_returns_none_and_closes_the_issue(github: FakeGitHub) -> None:
    log = Log()
    p = provider(github, log, timeout=0.2)
    assert p.confirm_link(REQUEST) is None
    issue = github.issues[(REPO, 1)]
    assert issue.state == "closed" and issue.state_reason == "not_planned"
    assert "No usable confirmation link" in github.issue_comments(REPO, 1)[-1].body
    assert p.notes


def test_one_minute_is_not_minutes(github: FakeGitHub) -> None:
    log = Log()
    p = provider(github, log, timeout=60.0, poll_interval=20.0)
    now = [0.0]
    p.clock, p.sleep = (lambda: now[0]), (lambda seconds: now.__setitem__(0, now[0] + seconds))
    assert p.confirm_link(REQUEST) is None
    assert "Waiting up to 1 minute for" in log.lines[0]
    assert "within 1 minute;" in github.issue_comments(REPO, 1)[-1].body and "1 minute." in p.notes[0]


def test_named_issue_gets_a_comment_and_stays_open(github: FakeGitHub) -> None:
    github.add_token("setup", repos={REPO})
    api = GitHubApi(github.url, "setup")
    number = api.create_issue(REPO, "Ops requests", "standing issue")["number"]
    github.post_comment(REPO, number, "maintainer", f"an old link that must be ignored: {LINK}x")
    github.events.clear()  # the human replies once the action has commented
    log = Log()
    p = provider(github, log, issue=number)
    reply(github, REPO, ("maintainer", LINK))
    link = p.confirm_link(REQUEST)
    assert link is not None and link.reveal() == LINK
    old = github.issue_comments(REPO, number)[0]
    assert old.body.endswith("x") and not old.deleted  # posted before the request: not read
    from pypi_trusted_publisher.engine.engine import plan
    from pypi_trusted_publisher.inputs.options import Options, resolve

    p.finish(plan(resolve(Options(project="demo", owner="octo", repository="demo", workflow="r.yml")).registration))
    assert github.issues[(REPO, number)].state == "open"


def test_user_agent_and_token_header(github: FakeGitHub) -> None:
    p = provider(github, Log())
    reply(github, REPO, ("maintainer", LINK))
    p.confirm_link(REQUEST)
    for _, _, headers in github.requests:
        assert headers["user-agent"] == USER_AGENT  # one client, one User-Agent, for PyPI and GitHub alike
        assert headers["authorization"] == f"Bearer {TOKEN}"
