"""The action end to end: the real engine against the fake Warehouse, the fake GitHub API
for the new-IP confirmation, in-process and as a subprocess. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pyotp
import pytest

from clocked_cli import clocked
from clocks import FileClock
from fake_github import GITHUB_TOKEN, REPO, FakeGitHub
from pypi_trusted_publisher.action.entrypoint import OUTPUTS, main
from pypi_trusted_publisher.action.runner import Runner as Channels
from pypi_trusted_publisher.action.settings import secret_values
from pypi_trusted_publisher.engine import engine
from test_action_entrypoint import Runner, assert_masked_first, fast_polling, make_runner

PASSWORD = "fake-warehouse-password"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def site(warehouse: Any) -> Any:
    warehouse.github_owners["octo"] = 4242
    return warehouse


def runner_for(root: Path, site: Any, github: FakeGitHub, **inputs: str) -> Runner:
    values = {
        "index": site.url,
        "pypi_username": "dana",
        "pypi_password": PASSWORD,
        "pypi_totp_secret": TOTP_SECRET,
        "confirmation_token": GITHUB_TOKEN,
    }
    return make_runner(root, github=github).inputs(**{**values, **inputs})


def paste_the_emailed_link(site: Any, github: FakeGitHub, login: str = "maintainer") -> threading.Thread:
    """The maintainer: read PyPI's e-mail, paste its link into the action's issue."""

    def act() -> None:
        number = github.wait_for(lambda: github.requested_issue(REPO), timeout=30)
        mail = github.wait_for(lambda: site.outbox[-1] if site.outbox else None, timeout=30)
        github.post_comment(REPO, number, login, f"{mail.confirm_url}\n")

    thread = threading.Thread(target=act, daemon=True)
    thread.start()
    return thread


def record_confirm_requests(site: Any, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the Warehouse's confirm-login requests on the fake GitHub's timeline."""
    handle = site._handle

    def recording(method: str, raw_path: str, *args: Any) -> Any:
        if raw_path.startswith("/account/confirm-login/?token="):
            github.note("warehouse-confirm-login", method)
        return handle(method, raw_path, *args)

    monkeypatch.setattr(site, "_handle", recording)


def test_registers_a_pending_publisher(
    tmp_path: Path, site: Any, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = runner_for(tmp_path, site, github)
    code = main(env=runner.env)
    lines = capsys.readouterr().out.splitlines()
    assert code == 0, lines
    outputs = runner.outputs()
    assert set(outputs) == set(OUTPUTS)
    assert outputs["status"] == "registered" and outputs["pending"] == "true"
    assert outputs["manage-url"] == f"{site.url}/manage/account/publishing/"
    [record] = site.pending_publishers
    assert record.project_name == "Demo_Pkg" and record.publisher["workflow_filename"] == "release.yml"
    assert "The first trusted upload creates the project" in runner.summary()
    assert github.issues == {}  # the runner's IP was known: no confirmation needed
    assert_masked_first(lines, runner.files())


def test_a_wait_gets_one_line_in_the_log(
    tmp_path: Path,
    site: Any,
    github: FakeGitHub,
    file_clock: FileClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 15.18: a run right after another login waits for the next code, and its log says so once."""
    site.clock = file_clock
    monkeypatch.setattr(engine, "Engine", clocked(file_clock))
    site.users["dana"].last_totp_value = pyotp.TOTP(TOTP_SECRET).at(file_clock())
    runner = runner_for(tmp_path, site, github)
    assert main(env=runner.env) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if "Waiting" in line] == [
        "PyPI refused the two-factor code: it is wrong, or a login in the last 30 s already used it "
        "(PyPI takes each code once). Waiting 21 s for the next code."
    ]
    assert site.pending_publishers


def test_wrong_password_fails_with_manual_link(
    tmp_path: Path, site: Any, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = runner_for(tmp_path, site, github, pypi_password="not-it")
    assert main(env=runner.env) == 1
    lines = capsys.readouterr().out.splitlines()
    outputs = runner.outputs()
    assert outputs["status"] == "failed" and outputs["reason"] == "wrong-password"
    assert outputs["manual-url"] and outputs["manual-url"] in runner.summary()
    assert any(line.startswith("::error") for line in lines)
    assert not site.pending_publishers


def test_new_ip_confirmed_through_an_issue_comment(
    tmp_path: Path,
    site: Any,
    github: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site.users["dana"].confirmed_ips.clear()
    record_confirm_requests(site, github, monkeypatch)
    fast_polling(monkeypatch)
    mask = Channels.mask

    def noted_mask(self: Channels, value: str) -> None:
        github.note("mask", value)
        mask(self, value)

    monkeypatch.setattr(Channels, "mask", noted_mask)
    paste_the_emailed_link(site, github)
    runner = runner_for(tmp_path, site, github)
    code = main(env=runner.env)
    lines = capsys.readouterr().out.splitlines()
    assert code == 0, lines
    assert runner.outputs()["status"] == "registered"
    assert len(site.pending_publishers) == 1
    kinds = github.kinds()
    assert kinds.index("mask") < kinds.index("delete-comment") < kinds.index("warehouse-confirm-login")
    issue = github.issues[(REPO, 1)]
    assert issue.state == "closed" and issue.state_reason == "completed"
    token = site.outbox[-1].confirm_url.split("token=", 1)[1]
    assert any(line == f"::add-mask::{token}" for line in lines)
    rest = [line for line in lines if not line.startswith("::add-mask")]
    assert not any(token in line for line in rest)
    assert token not in runner.files()
    assert not any(token in c.body for c in github.comments.values() if not c.deleted)


def test_new_ip_in_a_public_repository_stops_before_posting(
    tmp_path: Path, site: Any, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    site.users["dana"].confirmed_ips.clear()
    runner = make_runner(tmp_path, private=False, github=github).inputs(
        index=site.url, pypi_username="dana", pypi_password=PASSWORD, pypi_totp_secret=TOTP_SECRET,
        confirmation_token=GITHUB_TOKEN,
    )  # fmt: skip
    assert main(env=runner.env) == 1
    capsys.readouterr()
    assert runner.outputs()["reason"] == "confirmation-public-repository"
    assert github.issues == {} and not site.pending_publishers
    assert "allow-public-confirmation" in runner.summary() and "`pypi-passkey`" in runner.summary()


def test_new_ip_with_confirmation_none(
    tmp_path: Path, site: Any, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    site.users["dana"].confirmed_ips.clear()
    runner = runner_for(tmp_path, site, github, confirmation="none", fail_on_error="false")
    assert main(env=runner.env) == 0
    capsys.readouterr()
    assert runner.outputs()["status"] == "needs-confirmation" and runner.outputs()["reason"] == "new-ip"
    assert github.issues == {}
    # What works on a runner, not "open the link from this same machine" (it is gone after the job).
    message = runner.outputs()["message"]
    assert "same machine" not in message and "paste" not in message
    assert "`pypi-passkey`" in message and "`confirmation: issue`" in message and "self-hosted runner" in message
    assert "`pypi-passkey`" in runner.summary()


def test_new_ip_timeout_in_the_issue_advises_what_works_in_ci(
    tmp_path: Path, site: Any, github: FakeGitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site.users["dana"].confirmed_ips.clear()
    clock = iter(range(0, 10_000, 30))
    fast_polling(monkeypatch, clock=lambda: next(clock))
    runner = runner_for(tmp_path, site, github, confirmation_timeout="1")
    assert main(env=runner.env) == 1
    capsys.readouterr()
    message = runner.outputs()["message"]
    assert runner.outputs()["status"] == "needs-confirmation" and "same machine" not in message
    assert "`pypi-passkey`" in message and "confirmation-timeout" in message


def test_subprocess_end_to_end_with_confirmation(tmp_path: Path, site: Any, github: FakeGitHub) -> None:
    site.users["dana"].confirmed_ips.clear()
    paste_the_emailed_link(site, github)
    runner = runner_for(tmp_path, site, github, confirmation_poll_interval="2")
    env = {**runner.env, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pypi_trusted_publisher.action"],
        env=env,
        cwd=runner.workspace,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    first = [f"::add-mask::{value}" for value in secret_values(runner.env)]
    assert lines[: len(first)] == first  # every secret input, before anything else
    token = site.outbox[-1].confirm_url.split("token=", 1)[1]
    assert f"::add-mask::{token}" in lines  # the link's token, as soon as it was read
    assert not any(token in line for line in lines if not line.startswith("::add-mask"))
    assert runner.outputs()["status"] == "registered"
    assert len(site.pending_publishers) == 1
    assert [c.deleted for c in github.issue_comments(REPO, 1, deleted=True) if c.login == "maintainer"] == [True]


def test_several_projects_in_one_login(
    tmp_path: Path, site: Any, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    site.add_project("owned-one", owners=["dana"])
    site.add_project("theirs", owners=["someone"])
    runner = runner_for(tmp_path, site, github, project="owned-one\ntheirs, new-one")
    code = main(env=runner.env)
    lines = capsys.readouterr().out.splitlines()
    assert code == 1, lines
    outputs = runner.outputs()
    results = json.loads(outputs["results"])
    assert [(r["project"], r["status"]) for r in results] == [
        ("owned-one", "registered"),
        ("theirs", "failed"),
        ("new-one", "registered"),
    ]
    assert outputs["status"] == "failed" and outputs["reason"] == "not-owner" and outputs["project"] == "theirs"
    assert sum(1 for r in site.requests if r.method == "POST" and r.path == "/account/login/") == 1
    summary = runner.summary()
    assert "| `theirs` |" in summary and "not-owner" in summary
    assert_masked_first(lines, runner.files())


def test_the_missing_input_is_named(tmp_path: Path, site: Any, github: FakeGitHub) -> None:
    runner = runner_for(tmp_path, site, github, pypi_password="")
    assert main(env=runner.env) == 1
    outputs = runner.outputs()
    assert outputs["reason"] == "no-credentials" and "pypi-password is not set" in outputs["message"]
    assert "PYPI_PASSWORD" not in outputs["message"]


def test_claim_true_takes_the_name_in_the_registering_step(
    tmp_path: Path, site: Any, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    """``claim: true`` in a job of the registered workflow: the registration, then the exchange that creates the
    project, owned by the registrant, whom the summary names (docs/protocol/publish-time.md#claim)."""
    from fake_oidc import FakeOIDC, github_claims

    with FakeOIDC() as idp:
        site.oidc_issuers = idp.discovery()
        idp.job_claims = github_claims("octo", "demo", "release.yml", environment="pypi", owner_id="4242")
        runner = runner_for(tmp_path, site, github, workflow="release.yml", environment="pypi", claim="true")
        runner.env.update(idp.actions_env())
        code = main(env=runner.env)
    lines = capsys.readouterr().out.splitlines()
    assert code == 0, lines
    outputs = runner.outputs()
    assert outputs["status"] == "registered" and outputs["claim"] == "claimed", outputs
    assert outputs["claimed-project"] == "demo-pkg"
    assert site.projects["Demo_Pkg"].owners == ["dana"] and site.pending_publishers == []
    assert "owned by the account 'dana'" in runner.summary()
    masks = [line for line in lines if line.startswith("::add-mask::")]
    shown = "\n".join(line for line in lines if line not in masks) + runner.files()
    tokens = [idp.request_token, *(t.jwt for t in idp.issued), *(m.token for m in site.minted)]
    assert site.minted and not [t for t in tokens if t in shown]
    assert f"::add-mask::{site.minted[0].token}" in masks and f"::add-mask::{idp.issued[0].jwt}" in masks
