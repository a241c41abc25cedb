"""The action's entrypoint in a realistic runner environment, in-process and as a subprocess.

The engine is replaced by a stub here (the end-to-end runs against the fake
Warehouse are in test_action_e2e.py); the fake GitHub API is real HTTP on
127.0.0.1. Every run checks that secrets appear only in ``::add-mask::`` lines
and that those lines come first.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fake_github import GITHUB_TOKEN, REPO, FakeGitHub
from pypi_trusted_publisher.action import entrypoint
from pypi_trusted_publisher.action.confirmation import IssueConfirmation
from pypi_trusted_publisher.action.entrypoint import OUTPUTS, main
from pypi_trusted_publisher.action.settings import env_name
from pypi_trusted_publisher.core.errors import RegistrationFailed
from pypi_trusted_publisher.core.models import Registration, Result, Status, Target
from pypi_trusted_publisher.credentials.values import Credentials
from pypi_trusted_publisher.engine import engine
from pypi_trusted_publisher.engine.options import EngineOptions
from pypi_trusted_publisher.render import results as render
from pypi_trusted_publisher.transports.web.confirm import ConfirmationRequest, NoConfirmation

PASSWORD = "correct horse battery staple"
TOTP_SECRET = "JBSW Y3DP EHPK 3PXP"
API_TOKEN = "pypi-AgEIcHlwaS5vcmcCJDEwMDAwMDAw"
LINK = "https://pypi.org/account/confirm-login/?token=eyJ1IjoiZGFuYSJ9.Zx1Y2A.c0nfirmSig"
LINK_TOKEN = "eyJ1IjoiZGFuYSJ9.Zx1Y2A.c0nfirmSig"
SECRETS = (PASSWORD, "JBSWY3DPEHPK3PXP", API_TOKEN, GITHUB_TOKEN, LINK_TOKEN)

RELEASE_WORKFLOW = """\
name: Release
on:
  push:
    tags: ["v*"]
permissions: {}
jobs:
  publish:
    runs-on: ubuntu-latest
    environment: pypi
    permissions:
      id-token: write
    steps:
      - uses: actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1
      - uses: pypa/gh-action-pypi-publish@ed0c53931b1dc9bd32cbe73a98c7f6766f8a527e # v1.13.0
"""


def read_outputs(path: Path) -> dict[str, str]:
    """Parse ``name<<delimiter`` records the way the runner does."""
    outputs: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        if "<<" in lines[i]:
            name, delimiter = lines[i].split("<<", 1)
            end = lines.index(delimiter, i + 1)
            outputs[name] = "\n".join(lines[i + 1 : end])
            i = end
        i += 1
    return outputs


@dataclass
class Runner:
    """A job's environment: workspace, command files, event payload and ``INPUT_*`` variables."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def workspace(self) -> Path:
        return self.root / "workspace"

    def inputs(self, **values: str) -> Runner:
        for name, value in values.items():
            self.env[env_name(name.replace("_", "-"))] = value
        return self

    def outputs(self) -> dict[str, str]:
        return read_outputs(Path(self.env["GITHUB_OUTPUT"]))

    def summary(self) -> str:
        return Path(self.env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")

    def files(self) -> str:
        return self.summary() + json.dumps(self.outputs())


def make_runner(root: Path, *, private: bool = True, github: FakeGitHub | None = None) -> Runner:
    workspace = root / "workspace"
    (workspace / ".github" / "workflows").mkdir(parents=True)
    (workspace / "pyproject.toml").write_text('[project]\nname = "Demo_Pkg"\n', encoding="utf-8")
    (workspace / ".github" / "workflows" / "release.yml").write_text(RELEASE_WORKFLOW, encoding="utf-8")
    (workspace / ".github" / "workflows" / "bootstrap.yml").write_text("on: workflow_dispatch\n", encoding="utf-8")
    event = root / "event.json"
    event.write_text(json.dumps({"repository": {"full_name": REPO, "private": private}}), encoding="utf-8")
    for name in ("output", "summary"):
        (root / name).write_text("", encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(root),
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_REPOSITORY_OWNER": "octo",
        "GITHUB_WORKFLOW_REF": f"{REPO}/.github/workflows/bootstrap.yml@refs/heads/main",
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(root / "output"),
        "GITHUB_STEP_SUMMARY": str(root / "summary"),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": github.url if github else "http://127.0.0.1:9",
        "GITHUB_GRAPHQL_URL": github.graphql_url if github else "http://127.0.0.1:9/graphql",
        "GITHUB_RUN_ID": "4242",
        "RUNNER_OS": "Linux",
        "RUNNER_TEMP": str(root),
    }
    return Runner(root, env)


@pytest.fixture
def runner(tmp_path: Path, github: FakeGitHub) -> Runner:
    return make_runner(tmp_path, github=github).inputs(
        pypi_username="dana",
        pypi_password=PASSWORD,
        pypi_totp_secret=TOTP_SECRET,
        confirmation_token=GITHUB_TOKEN,
        confirmation_poll_interval="2",
    )


Stub = Callable[..., Result]
Calls = list[dict[str, Any]]


def stub_register(monkeypatch: pytest.MonkeyPatch, outcome: Callable[[Registration, dict[str, Any]], Result]) -> Calls:
    calls: Calls = []

    def run_batch(
        registrations: list[Registration], credentials: Credentials, options: EngineOptions, **kwargs: Any
    ) -> engine.Batch:
        kwargs.update({option.name: getattr(options, option.name) for option in dataclasses.fields(options)})
        kwargs.update(credentials=credentials, registrations=registrations)
        calls.append(kwargs)
        return engine.Batch([outcome(registration, kwargs) for registration in registrations])

    monkeypatch.setattr(engine, "run_batch", run_batch)
    return calls


def with_status(status: Status, message: str, **changes: Any) -> Callable[[Registration, dict[str, Any]], Result]:
    def outcome(registration: Registration, kwargs: dict[str, Any]) -> Result:
        # The web session found out where the publisher goes: a pending one only when asked for.
        pending = registration.target is Target.PENDING
        return engine._result(registration, status, pending, message, method="web", **changes)

    return outcome


def run(runner: Runner, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(env=runner.env)
    out = capsys.readouterr()
    return code, (out.out + out.err).splitlines()


def assert_masked_first(lines: list[str], files: str) -> None:
    masks = [line for line in lines if line.startswith("::add-mask")]
    assert lines[: len(masks)] == masks, "an ::add-mask:: line came after other output"
    rest = "\n".join(lines[len(masks) :])
    for secret in SECRETS:
        assert secret not in rest, f"{secret!r} leaked into the log"
        assert secret not in files, f"{secret!r} leaked into outputs or the summary"


def test_registered_outputs_summary_and_masks(
    runner: Runner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = stub_register(monkeypatch, with_status(Status.REGISTERED, "Added release.yml to demo-pkg."))
    runner.inputs(api_token=API_TOKEN)
    code, lines = run(runner, capsys)
    assert code == 0
    outputs = runner.outputs()
    assert set(outputs) == set(OUTPUTS)
    assert outputs["status"] == "registered" and outputs["project"] == "demo-pkg"
    assert outputs["pending"] == "false" and outputs["check"] == "passed" and outputs["reason"] == ""
    assert json.loads(outputs["publisher"]) == {
        "kind": "github",
        "owner": "octo",
        "repository": "demo",
        "workflow_filename": "release.yml",  # the workflow that uses pypa/gh-action-pypi-publish
        "environment": "pypi",
    }
    assert outputs["manage-url"] == "https://pypi.org/manage/project/demo-pkg/settings/publishing/"
    assert json.loads(outputs["json"])["status"] == "registered"
    summary = runner.summary()
    assert "registered" in summary and outputs["manage-url"] in summary
    assert "pypa/gh-action-pypi-publish" in summary and "id-token: write" in summary
    assert "Trusted publishing check" in summary and "dana" not in summary
    assert any(line.startswith("::notice") and "registered" in line for line in lines)
    credentials = calls[0]["credentials"]
    assert credentials.password.reveal() == PASSWORD and credentials.api_token.reveal() == API_TOKEN
    assert credentials.totp_secret.reveal() == TOTP_SECRET and calls[0]["method"] == "auto"
    masks = [line for line in lines if line.startswith("::add-mask")]
    for secret in (PASSWORD, "JBSWY3DPEHPK3PXP", API_TOKEN, GITHUB_TOKEN):
        assert any(line.endswith("::" + secret) for line in masks), secret
    assert_masked_first(lines, runner.files())


def test_failure_fails_the_step_with_reason_and_manual_link(
    runner: Runner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stub_register(monkeypatch, with_status(Status.FAILED, "PyPI refused the login.", reason="wrong-password"))
    code, lines = run(runner, capsys)
    assert code == 1
    outputs = runner.outputs()
    assert outputs["status"] == "failed" and outputs["reason"] == "wrong-password"
    assert "provider=github" in outputs["manual-url"]
    summary = runner.summary()
    assert "wrong-password" in summary and "Register by hand" in summary
    assert outputs["manual-url"] in summary
    errors = [line for line in lines if line.startswith("::error")]
    assert errors and "PyPI refused the login." in errors[0] and "Register by hand" in errors[0]
    assert_masked_first(lines, runner.files())


def test_unknown_project_gives_both_ways_and_no_prefill_claim(
    runner: Runner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unknown(registration: Registration, kwargs: dict[str, Any]) -> Result:
        return engine._result(registration, Status.FAILED, None, "Login refused.", reason="wrong-password")

    stub_register(monkeypatch, unknown)
    assert run(runner, capsys)[0] == 1
    outputs, summary = runner.outputs(), runner.summary()
    assert outputs["pending"] == "" and outputs["manual-url"].endswith("/manage/account/publishing/")
    assert "prefilled:" not in summary and "is not known" in summary and "PyPI Project Name: Demo_Pkg" in summary


def test_index_messages_cannot_inject_workflow_commands(
    runner: Runner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stub_register(monkeypatch, with_status(Status.FAILED, "refused\n::add-mask::nothing\n::set-env name=X::1"))
    _, lines = run(runner.inputs(check="false"), capsys)
    stop = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands"))
    token = lines[stop].rsplit("::", 1)[1]
    resume = lines.index(f"::{token}::")
    assert stop < lines.index("::set-env name=X::1") < resume  # printed while commands are off
    [error] = [line for line in lines if line.startswith("::error")]
    assert "refused%0A::add-mask::nothing%0A::set-env" in error  # escaped inside the annotation


def test_fail_on_error_false_succeeds_but_reports(
    runner: Runner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stub_register(monkeypatch, with_status(Status.FAILED, "Nope.", reason="not-owner"))
    code, lines = run(runner.inputs(fail_on_error="false", check="false"), capsys)
    assert code == 0
    assert runner.outputs()["status"] == "failed" and runner.outputs()["check"] == "skipped"
    assert any("fail-on-error is false" in line for line in lines)


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"provider": "bitbucket"}, "provider"),
        ({"dry_run": "yes"}, "dry-run"),
        ({"timeout": "0"}, "timeout"),
        ({"timeout": "nan"}, "timeout"),
        ({"timeout": "inf"}, "timeout"),
        ({"target": "maybe"}, "target"),
        ({"confirmation_repository": "not a repo"}, "confirmation-repository"),
        ({"workflow": ".github/workflows/release.yml"}, "workflow"),
        ({"project": "my project"}, "project"),
        ({"project": "good-one, my project"}, "project"),
        ({"index": "pypi testpypi"}, "index"),
    ],
)
def test_invalid_input_exits_2(
    runner: Runner,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    inputs: dict[str, str],
    field: str,
) -> None:
    calls = stub_register(monkeypatch, with_status(Status.REGISTERED, "unexpected"))
    code, lines = run(runner.inputs(**inputs), capsys)
    assert code == 2 and calls == []
    outputs = runner.outputs()
    assert outputs["status"] == "failed" and outputs["reason"] == "invalid-input"
    assert json.loads(outputs["json"])["field"] == field
    assert list(json.loads(outputs["json"]))[:3] == ["status", "index", "project"]  # a result line's shape
    assert "invalid input" in runner.summary()
    assert any(line.startswith("::error") for line in lines)
    assert_masked_first(lines, runner.files())


def test_lists_split_on_newlines_and_commas_only() -> None:
    from pypi_trusted_publisher.action.settings import several

    assert several("a, b\r\nc,,\n d \n") == ["a", "b", "c", "d"]
    assert several("my project") == ["my project"]
    assert several(None) == several("") == []


def test_inputs_reach_the_options(
    runner: Runner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = stub_register(monkeypatch, with_status(Status.REGISTERED, "ok"))
    runner.inputs(
        project="other-name", owner="Org", repository="repo.py", workflow="publish.yaml", environment="*",
        index="testpypi", target="pending", organization="my-org", method="web", timeout="30", check="false",
    )  # fmt: skip
    assert run(runner, capsys)[0] == 0
    registration = calls[0]["registrations"][0]
    assert registration.index.name == "testpypi" and registration.organization == "my-org"
    assert registration.publisher.form_fields() == {
        "owner": "Org",
        "repository": "repo.py",
        "workflow_filename": "publish.yaml",
        "environment": "",
    }
    assert calls[0]["method"] == "web" and calls[0]["timeout"] == 30.0
    assert runner.outputs()["pending"] == "true"


def test_other_providers(runner: Runner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    stub_register(monkeypatch, with_status(Status.REGISTERED, "ok"))
    runner.inputs(provider="activestate", activestate_organization="org", activestate_project="proj", actor="bot")
    assert run(runner, capsys)[0] == 0
    assert json.loads(runner.outputs()["publisher"]) == {
        "kind": "activestate", "organization": "org", "project": "proj", "actor": "bot",
    }  # fmt: skip
    runner.inputs(provider="gitlab", namespace="group/sub", gitlab_project="proj", environment="")
    assert run(runner, capsys)[0] == 0
    assert '"workflow_filepath":".gitlab-ci.yml"' in runner.outputs()["publisher"]


def test_dry_run_needs_no_credentials_and_no_network(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runner = make_runner(tmp_path).inputs(dry_run="true")
    code, _lines = run(runner, capsys)
    assert code == 0 and runner.outputs()["status"] == "dry-run"
    assert "Run again without `dry-run`" in runner.summary()


def test_several_projects_print_their_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runner = make_runner(tmp_path).inputs(dry_run="true", project="a-pkg\nb-pkg", index="pypi, testpypi")
    code, lines = run(runner, capsys)
    assert code == 0
    text = "\n".join(lines)
    assert "Defaults for 'a-pkg' on pypi.org, 'b-pkg' on pypi.org:" in text
    assert "Defaults for 'a-pkg' on test.pypi.org, 'b-pkg' on test.pypi.org:" in text
    assert "  owner = octo (from GITHUB_REPOSITORY)" in text and "  environment = testpypi (from" in text


def test_check_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    calls = stub_register(monkeypatch, with_status(Status.REGISTERED, "unexpected"))
    runner = make_runner(tmp_path).inputs(mode="check")
    assert run(runner, capsys)[0] == 0
    outputs = runner.outputs()
    assert outputs["status"] == "checked" and outputs["check"] == "passed" and calls == []
    assert json.loads(outputs["json"])["check"]["errors"] == 0
    assert tuple(json.loads(outputs["json"]))[:11] == render.RESULT_KEYS  # a result line's shape
    (runner.workspace / ".github" / "workflows" / "release.yml").unlink()
    runner.inputs(workflow="release.yml")
    code, lines = run(runner, capsys)
    assert code == 1 and runner.outputs()["status"] == "failed" and runner.outputs()["reason"] == "check-failed"
    assert any(line.startswith("::error") and "Trusted publishing" in line for line in lines)
    assert run(runner.inputs(fail_on_error="false"), capsys)[0] == 0


def test_no_confirmation_when_disabled(
    runner: Runner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = stub_register(monkeypatch, with_status(Status.NEEDS_CONFIRMATION, "PyPI wants a link.", reason="new-ip"))
    code, _ = run(runner.inputs(confirmation="none"), capsys)
    assert code == 1 and isinstance(calls[0]["confirmer"], NoConfirmation)
    assert runner.outputs()["status"] == "needs-confirmation"


def confirming(github: FakeGitHub, seen: dict[str, Any]) -> Callable[[Registration, dict[str, Any]], Result]:
    """An engine stand-in that asks the action's provider for the link, like the web session does."""

    def outcome(registration: Registration, kwargs: dict[str, Any]) -> Result:
        try:
            link = kwargs["confirmer"].confirm_link(ConfirmationRequest(registration.index, "dana"))
        except RegistrationFailed as exc:
            return dataclasses.replace(engine.plan(registration), status=Status.FAILED, message=exc.message,
                                       reason=exc.reason)  # fmt: skip
        seen["link"] = link
        seen["deleted_before_use"] = "delete-comment" in github.kinds()
        if link is None:
            return dataclasses.replace(engine.plan(registration), status=Status.NEEDS_CONFIRMATION, message="m")
        return dataclasses.replace(engine.plan(registration), status=Status.REGISTERED, message="Added.")

    return outcome


def fast_polling(monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> None:
    """Poll every 10 ms instead of every few seconds (and let a test drive the clock)."""
    kwargs.setdefault("sleep", lambda seconds: time.sleep(0.01))
    monkeypatch.setattr(entrypoint, "IssueConfirmation", functools.partial(IssueConfirmation, **kwargs))


def human(github: FakeGitHub, *comments: tuple[str, str], repo: str = REPO) -> threading.Thread:
    def act() -> None:
        number = github.wait_for(lambda: github.requested_issue(repo))
        for login, body in comments:
            github.post_comment(repo, number, login, body)

    thread = threading.Thread(target=act, daemon=True)
    thread.start()
    return thread


def test_confirmation_by_comment_in_a_private_repository(
    runner: Runner, github: FakeGitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    stub_register(monkeypatch, confirming(github, seen))
    fast_polling(monkeypatch)
    human(github, ("outsider", "https://pypi.org/account/confirm-login/?token=outsiderTok"), ("maintainer", LINK))
    runner.env["GITHUB_SERVER_URL"] = "https://ghe.example"
    code, lines = run(runner, capsys)
    assert "https://ghe.example/octo/demo/actions/runs/4242" in github.issues[(REPO, 1)].body
    assert code == 0 and seen["link"].reveal() == LINK and seen["deleted_before_use"]
    issue = github.issues[(REPO, 1)]
    assert issue.state == "closed" and issue.state_reason == "completed"
    assert "registered" in github.issue_comments(REPO, 1)[-1].body
    masks = [line for line in lines if line.startswith("::add-mask")]
    assert any(line.endswith("::" + LINK_TOKEN) for line in masks)
    rest = [line for line in lines if not line.startswith("::add-mask")]
    assert not any(LINK_TOKEN in line for line in rest)
    assert not any(LINK_TOKEN in c.body for c in github.comments.values() if not c.deleted)
    assert runner.outputs()["status"] == "registered"


def test_public_repository_stops_with_the_options(
    tmp_path: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    stub_register(monkeypatch, confirming(github, seen))
    runner = make_runner(tmp_path, private=False, github=github).inputs(confirmation_token=GITHUB_TOKEN)
    code, _lines = run(runner, capsys)
    assert code == 1 and github.issues == {}
    outputs = runner.outputs()
    assert outputs["reason"] == "confirmation-public-repository"
    summary = runner.summary()
    assert "allow-public-confirmation" in summary and "self-hosted" in summary


def test_public_repository_with_opt_in(
    tmp_path: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    stub_register(monkeypatch, confirming(github, seen))
    fast_polling(monkeypatch)
    runner = make_runner(tmp_path, private=False, github=github).inputs(
        confirmation_token=GITHUB_TOKEN, allow_public_confirmation="true"
    )
    human(github, ("maintainer", LINK))
    assert run(runner, capsys)[0] == 0
    assert "This repository is public" in github.issues[(REPO, 1)].body


def test_private_channel_repository_input(
    tmp_path: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    github.add_repo("octo/ops", private=True, collaborators={"maintainer": "admin"})
    github.add_token("github_pat_ops123456", login="ops-bot", repos={"octo/ops"})
    seen: dict[str, Any] = {}
    stub_register(monkeypatch, confirming(github, seen))
    fast_polling(monkeypatch)
    runner = make_runner(tmp_path, private=False, github=github).inputs(
        confirmation_repository="octo/ops", confirmation_token="github_pat_ops123456"
    )
    human(github, ("maintainer", LINK), repo="octo/ops")
    code, lines = run(runner, capsys)
    assert code == 0 and seen["link"].reveal() == LINK
    assert github.issues[("octo/ops", 1)].state == "closed"
    assert not github.open_issues(REPO)
    assert any(line.endswith("::github_pat_ops123456") for line in lines if line.startswith("::add-mask"))


def test_missing_issues_permission(
    runner: Runner, github: FakeGitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    github.deny_issue_write.add(REPO)
    stub_register(monkeypatch, confirming(github, {}))
    code, _ = run(runner, capsys)
    assert code == 1
    assert runner.outputs()["reason"] == "confirmation-forbidden"
    assert "issues: write" in runner.summary()


def test_timeout_reports_needs_confirmation(
    runner: Runner, github: FakeGitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stub_register(monkeypatch, confirming(github, {}))
    clock = iter(range(0, 10_000, 30))
    fast_polling(monkeypatch, clock=lambda: next(clock))
    code, _ = run(runner.inputs(confirmation_timeout="1"), capsys)
    assert code == 1 and runner.outputs()["status"] == "needs-confirmation"
    assert "No confirmation link arrived" in runner.summary()
    assert github.issues[(REPO, 1)].state_reason == "not_planned"


def test_unexpected_error_is_reported_not_leaked(
    runner: Runner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(registration: Registration, kwargs: dict[str, Any]) -> Result:
        raise RuntimeError(f"bug near {PASSWORD}")

    stub_register(monkeypatch, boom)
    code, lines = run(runner, capsys)
    assert code == 1
    assert any(line.startswith("::error") and "RuntimeError" in line for line in lines)
    masks = [line for line in lines if line.startswith("::add-mask")]
    assert lines[: len(masks)] == masks  # the traceback came after the masks


def test_environment_is_restored(runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    before = dict(os.environ)
    main(env=runner.inputs(dry_run="true").env)
    capsys.readouterr()
    assert dict(os.environ) == before


def test_subprocess_masks_first_and_writes_outputs(tmp_path: Path) -> None:
    runner = make_runner(tmp_path).inputs(
        dry_run="true", pypi_password=PASSWORD, pypi_totp_secret=TOTP_SECRET, api_token=API_TOKEN
    )
    env = {**runner.env, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pypi_trusted_publisher.action"],
        env=env,
        cwd=runner.workspace,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("::add-mask") and proc.stderr == ""
    assert_masked_first(lines, runner.files())
    assert runner.outputs()["status"] == "dry-run"
    assert set(runner.outputs()) == set(OUTPUTS)


def test_entrypoint_module_has_no_side_effects() -> None:
    code = "import pypi_trusted_publisher.action.__main__, pypi_trusted_publisher.action.entrypoint"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
    assert entrypoint.OUTPUTS  # imported for its names only
