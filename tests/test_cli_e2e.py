"""The CLI, run as a subprocess against the fake Warehouse (real HTTP on 127.0.0.1).

The runs go through ``clocked_cli.py``, which puts the CLI on the test's shared
:class:`FileClock`: a wait for the next TOTP step moves the fake's clock too, so
nobody waits. ``test_installed_console_script`` runs the real console script on
the real clock.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from clocks import FileClock
from fake_records import as_fake
from fake_warehouse import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, FakePublisher, FakeWarehouse
from pypi_trusted_publisher.core.indexes import resolve_index
from pypi_trusted_publisher.core.models import Registration
from pypi_trusted_publisher.core.publishers import (
    ActiveStatePublisher,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
)
from pypi_trusted_publisher.core.secret import Secret
from pypi_trusted_publisher.credentials.values import Credentials
from pypi_trusted_publisher.engine.engine import register
from pypi_trusted_publisher.engine.options import EngineOptions

SCRIPT = Path(sys.executable).with_name("pypi-trusted-publisher")
LAUNCHER = Path(__file__).with_name("clocked_cli.py")
GH = ["--owner", "octo-org", "--repo", "my-pkg", "--workflow", "release.yml", "--environment", "pypi"]


def run(
    wh: FakeWarehouse | None, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
    as_json: bool = True, timeout: str | None = "5", clock: FileClock | None = None,
):
    """Run the CLI with --json; return (exit code, parsed JSON lines, stderr), or stdout's text without --json.

    On ``clock``, or the fake's clock when it is a :class:`FileClock`; else the installed console script.
    """
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYPI_", "GITHUB_"))}
    base.update(
        {"PYPI_USERNAME": DEFAULT_USERNAME, "PYPI_PASSWORD": DEFAULT_PASSWORD, "PYPI_TOTP_SECRET": DEFAULT_TOTP_SECRET}
    )
    base.update(env or {})
    clock = clock or (wh.clock if wh is not None else None)
    if isinstance(clock, FileClock):
        command = [sys.executable, str(LAUNCHER), str(clock.path)]
    else:
        command = [str(SCRIPT) if SCRIPT.exists() else sys.executable, *([] if SCRIPT.exists() else ["-m",
                   "pypi_trusted_publisher"])]
    index = ["--index", wh.url] if wh is not None else []
    proc = subprocess.run(
        [*command, *args, *index, *(["--json"] if as_json else []), *(["--timeout", timeout] if timeout else [])],
        env=base, cwd=cwd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    if not as_json:
        return proc.returncode, proc.stdout, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, lines, proc.stderr


def posts(wh: FakeWarehouse, path_part: str = "publishing") -> int:
    return sum(1 for r in wh.requests if r.method == "POST" and path_part in r.path)


def test_installed_console_script(warehouse):
    """The real entry point, on the real clock, end to end (the other runs use clocked_cli.py)."""
    warehouse.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    warehouse.github_owners = {"octo-org": 1001}
    assert SCRIPT.exists(), "the package is not installed in this environment"
    code, [result], err = run(warehouse, "add", "--project", "my-pkg", *GH)
    assert code == 0 and result["status"] == "registered", err
    assert [r.publisher for r in warehouse.projects["my-pkg"].publishers] == [
        FakePublisher.github("octo-org", "my-pkg", "release.yml", "pypi")
    ]


def test_project_publisher_registered(wh):
    code, [result], _ = run(wh, "add", "--project", "My_Pkg", *GH)
    assert code == 0, result
    assert result["status"] == "registered" and result["pending"] is False
    assert result["project"] == "my-pkg" and result["method"] == "web"
    assert result["publisher"] == {"kind": "github", "owner": "octo-org", "repository": "my-pkg",
                                   "workflow_filename": "release.yml", "environment": "pypi"}
    assert result["manage_url"] == f"{wh.url}/manage/project/my-pkg/settings/publishing/"
    assert [r.publisher for r in wh.projects["my-pkg"].publishers] == [
        FakePublisher.github("octo-org", "my-pkg", "release.yml", "pypi")
    ]
    assert posts(wh) == 1


def test_pending_publisher_when_project_missing(wh):
    code, [result], _ = run(wh, "add", "--project", "brand-new", *GH)
    assert code == 0, result
    assert result["status"] == "registered" and result["pending"] is True
    assert result["manage_url"] == f"{wh.url}/manage/account/publishing/"
    (record,) = wh.pending_publishers
    assert record.project_name == "brand-new" and record.added_by == DEFAULT_USERNAME


def test_existing_publisher_is_exists_without_post(wh):
    wh.add_publisher("my-pkg", FakePublisher.github("octo-org", "my-pkg", "release.yml", "pypi"))
    code, [result], _ = run(wh, "add", "--project", "my-pkg", *GH[:-2], "--environment", "PyPI")
    assert code == 0 and result["status"] == "exists"
    assert posts(wh) == 0


def test_existing_pending_is_exists(wh):
    wh.add_pending_publisher(
        "brand-new", FakePublisher.github("octo-org", "my-pkg", "release.yml", "pypi"), added_by=DEFAULT_USERNAME
    )
    code, [result], _ = run(wh, "add", "--pending", "--project", "Brand.New", *GH)
    assert code == 0 and result["status"] == "exists" and result["pending"] is True
    assert posts(wh) == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--provider", "gitlab", "--namespace", "octo-group", "--gitlab-project", "my-pkg",
          "--workflow-path", "ci/release.yml", "--environment", "Prod"],
         GitLabPublisher("octo-group", "my-pkg", "ci/release.yml", "Prod", "https://gitlab.com")),
        (["--provider", "google", "--email", "ci@my-pkg.iam.gserviceaccount.com"],
         GooglePublisher("ci@my-pkg.iam.gserviceaccount.com", "")),
        (["--provider", "activestate", "--activestate-org", "octo-state", "--activestate-project", "my-pkg",
          "--actor", "octo-actor"],
         ActiveStatePublisher("octo-state", "my-pkg", "octo-actor")),
    ],
)
@pytest.mark.parametrize("pending", [False, True])
def test_other_kinds(wh, args, expected, pending):
    wh.activestate_orgs = {"octo-state"}
    wh.activestate_actors = {"octo-actor": "11111111-2222-3333-4444-555555555555"}
    project = "brand-new" if pending else "my-pkg"
    code, [result], err = run(wh, "add", "--project", project, *args)
    assert code == 0, (result, err)
    assert result["status"] == "registered" and result["pending"] is pending
    stored = [p.publisher for p in wh.pending_publishers] if pending else [
        p.publisher for p in wh.projects["my-pkg"].publishers
    ]
    assert stored == [as_fake(expected)]


def test_organization_pending_publisher(wh):
    wh.add_organization("octo-org", owners=[DEFAULT_USERNAME])
    code, [result], _ = run(wh, "add", "--organization", "octo-org", "--project", "org-new", *GH)
    assert code == 0 and result["status"] == "registered" and result["organization"] == "octo-org"
    assert result["manage_url"].endswith("/manage/organization/octo-org/publishing/")
    (record,) = wh.pending_publishers
    assert record.organization == "octo-org"


def test_organization_duplicate_is_verified_not_trusted(wh):
    """The organization page answers a duplicate config with a silent 303: we must say failed.

    See docs/protocol/registration.md#organization-page.
    """
    wh.add_organization("octo-org", owners=[DEFAULT_USERNAME])
    wh.add_pending_publisher(
        "other-name", FakePublisher.github("octo-org", "my-pkg", "release.yml", "pypi"), added_by="someone-else"
    )
    code, [result], _ = run(wh, "add", "--organization", "octo-org", "--project", "org-new", *GH)
    assert code == 1 and result["status"] == "failed"
    assert result["reason"] in ("not-verified", "already-registered-elsewhere", "pending-other-name")


def test_dry_run_makes_no_request(wh):
    code, [result], _ = run(wh, "add", "--dry-run", "--project", "my-pkg", *GH)
    assert code == 0 and result["status"] == "dry-run" and result["pending"] is None  # not looked up
    assert f"{wh.url}/manage/project/my-pkg/settings/publishing/?provider=github" in result["manual_steps"][1]
    assert wh.requests == []
    code, [result], _ = run(wh, "add", "--dry-run", "--existing", "--project", "my-pkg", *GH)
    assert result["manual_url"].startswith(f"{wh.url}/manage/project/my-pkg/settings/publishing/?provider=github")


def test_defaults_that_differ_say_for_which_registration(wh):
    code, results, err = run(None, "add", "--dry-run", "--no-check", "--project", "my-pkg", *GH[:-2],
                             "--index", "pypi", "--index", "testpypi")
    assert code == 0 and len(results) == 2
    assert "Defaults for 'my-pkg' on pypi.org:\n  environment = pypi" in err
    assert "Defaults for 'my-pkg' on test.pypi.org:\n  environment = testpypi" in err
    code, results, err = run(None, "add", "--dry-run", "--no-check", "--project", "a", "--project", "b", *GH[:-2])
    assert err.count("Defaults:\n  environment = pypi") == 1


def test_star_environment_means_any(wh):
    code, [result], _ = run(wh, "add", "--dry-run", "--project", "my-pkg", *GH[:-2], "--environment", "*")
    assert code == 0 and result["publisher"]["environment"] == ""


def test_defaults_from_the_repository(wh, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "My.Pkg"\n')
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", "https://github.com/octo-org/my-pkg.git"],
                   check=True)
    code, [result], err = run(wh, "add", "--dry-run", cwd=tmp_path)
    assert code == 0
    assert result["project"] == "my-pkg"
    assert result["publisher"]["owner"] == "octo-org" and result["publisher"]["workflow_filename"] == "release.yml"
    assert "owner = octo-org (from git remote origin)" in err


def test_bad_input_exits_2_before_any_request(wh):
    code, [result], err = run(wh, "add", "--project", "my-pkg", *GH[:4], "--workflow", ".github/workflows/r.yml")
    assert code == 2 and result["reason"] == "invalid-input" and result["field"] == "workflow"
    assert "Workflow filename must be a filename only, without directories" in err
    assert "Traceback" not in err and wh.requests == []


@pytest.mark.parametrize(
    ("command", "value"),
    [
        *((["add", "--project", "my-pkg", *GH], value) for value in ("nan", "inf", "0", "0.5", "301", "abc")),
        *((command, "nan") for command in (["list", "--project", "my-pkg"], ["check", "--listed"],
                                           ["remove", "--yes", "--project", "my-pkg", *GH])),
    ],
)
def test_timeout_outside_1_to_300_is_refused_before_any_request(wh, command, value):
    code, [result], err = run(wh, *command, timeout=value)
    assert code == 2 and result["reason"] == "invalid-input" and result["field"] == "timeout"
    assert result["message"] == f"--timeout must be a number from 1 to 300, got {value!r}"
    assert "internal error" not in err and wh.requests == []


RESULT_KEYS = ["status", "index", "project", "pending", "organization", "publisher", "method", "manage_url",
               "manual_url", "message", "reason"]


def raw_lines(
    *args: str, env: dict[str, str] | None = None, clock: FileClock | None = None
) -> tuple[int, list[str], str]:
    code, out, err = run(None, *args, "--json", as_json=False, env=env, clock=clock)
    return code, out.splitlines(), err


def test_every_result_line_has_one_shape(wh):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{sock.getsockname()[1]}"
    wrong = {"PYPI_PASSWORD": "nope"}
    lines = [
        raw_lines("add", "--dry-run", "--no-check", "--project", "my-pkg", *GH, "--index", wh.url)[1],
        raw_lines("list", "--project", "my-pkg", "--index", down, clock=wh.clock)[1],  # its retries' pauses
        raw_lines("check", "--listed", "--project", "my-pkg", "--index", wh.url, env=wrong)[1],
        raw_lines("remove", "--yes", "--project", "my-pkg", *GH, "--index", wh.url, env=wrong)[1],
        raw_lines("add", "--project", "not a name!", *GH)[1],
        raw_lines("add", "--provider", "bitbucket")[1],
    ]
    for (line,) in lines:
        assert json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":")) == line  # compact
        assert [key for key in json.loads(line) if key in RESULT_KEYS] == RESULT_KEYS, line
    (listed,) = lines[1]
    assert json.loads(listed)["reason"] == "network"
    for (line,), index in zip(lines[1:3], (down, wh.url), strict=True):
        failed = json.loads(line)
        assert failed["index"] == index and failed["project"] == "my-pkg" and failed["publisher"] is None


@pytest.mark.parametrize(
    ("args", "field", "said"),
    [
        (["add", "--provider", "bitbucket"], "provider", "argument --provider: invalid choice: 'bitbucket'"),
        (["add", "--owner", "-lead"], "owner",
         "argument --owner: expected one argument (a value that starts with '-' is written --owner=VALUE)"),
        (["bogus"], "command", "argument COMMAND: invalid choice: 'bogus'"),
        (["add", "--no-such-flag"], None, "unrecognized arguments: --no-such-flag"),
    ],
)
def test_argument_errors_are_one_line_and_json(args, field, said):
    code, out, err = run(None, *args, as_json=False)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"error: {said}") and "--help" in err and "usage:" not in err
    code, [result], _ = run(None, *args)
    assert code == 2 and result["reason"] == "invalid-input" and result["field"] == field
    assert result["message"].startswith(said) and result["status"] == "failed"


def test_plain_http_index_refused():
    code, [result], _ = run(None, "add", "--index", "http://pypi.example.org", "--project", "x", *GH)
    assert code == 2 and "https" in result["message"]


# --- failures: each is exit 1 with a reason, a message and the manual link -----------------------


def failure(wh, *args, env=None):
    code, [result], err = run(wh, "add", *args, env=env)
    assert code == 1, result
    assert result["status"] == "failed" and result["manual_url"].startswith(wh.url)
    assert "Traceback" not in err
    return result


def test_wrong_password(wh):
    result = failure(wh, "--project", "my-pkg", *GH, env={"PYPI_PASSWORD": "nope"})
    assert result["reason"] == "wrong-password" and "The password is invalid" in result["message"]
    assert "provider=github" in result["manual_url"]


def test_a_failed_login_does_not_guess_where_a_missing_project_goes(wh):
    """Auto target, login refused: the public simple index does not list the project, so both ways."""
    result = failure(wh, "--project", "brand-new", *GH, env={"PYPI_PASSWORD": "nope"})
    assert result["pending"] is None and result["manual_url"] == f"{wh.url}/manage/account/publishing/"
    steps = "\n".join(result["manual_steps"])
    assert "probably does not exist yet" in steps and "PyPI Project Name: brand-new" in steps
    assert f"{wh.url}/manage/project/brand-new/settings/publishing/?provider=github" in steps
    assert ("GET", "/simple/brand-new/") in [(r.method, r.path) for r in wh.requests]


def test_a_failed_login_finds_an_existing_project_without_releases(wh):
    wh.add_project("no-release-yet", owners=["someone"])
    result = failure(wh, "--project", "no-release-yet", *GH, env={"PYPI_PASSWORD": "nope"})
    assert result["pending"] is False and "provider=github" in result["manual_url"]
    assert "manual_steps" not in result


def test_existing_flag_on_a_missing_project_points_to_the_pending_page(wh):
    result = failure(wh, "--existing", "--project", "nope-missing", *GH)
    assert result["pending"] is True and result["manual_url"] == f"{wh.url}/manage/account/publishing/"


def test_locked_out(wh):
    # Ten wrong passwords over HTTP, in-process (one CLI run of those is test_wrong_password), then the CLI.
    wrong = Credentials(DEFAULT_USERNAME, Secret("nope"), Secret(DEFAULT_TOTP_SECRET))
    registration = Registration(resolve_index(wh.url), "my-pkg", GitHubPublisher("octo-org", "my-pkg", "release.yml"))
    for _ in range(10):
        on_the_clock = EngineOptions(clock=wh.clock, sleep=wh.clock.sleep)
        assert register(registration, wrong, on_the_clock).reason == "wrong-password"
    result = failure(wh, "--project", "my-pkg", *GH)
    assert result["reason"] == "locked-out" and "locked out" in result["message"]


def test_wrong_totp_secret_sends_at_most_two_codes(wh):
    code, [result], err = run(wh, "add", "--project", "my-pkg", *GH, env={"PYPI_TOTP_SECRET": "A" * 32})
    assert code == 1 and result["reason"] == "totp-invalid"
    assert sum(1 for r in wh.requests if r.method == "POST" and "two-factor" in r.path) <= 2
    # Issue 15.19: the wait before the second code is announced on stderr, one line (not a terminal).
    waits = [line for line in err.splitlines() if "Waiting" in line]
    assert waits == [
        "PyPI refused the two-factor code: it is wrong, or a login in the last 30 s already used it "
        "(PyPI takes each code once). Waiting 21 s for the next code."
    ]


def test_one_time_code_is_tried_once(wh):
    result = failure(wh, "--project", "my-pkg", *GH, "--totp-code", "000000", env={"PYPI_TOTP_SECRET": ""})
    assert result["reason"] == "totp-invalid"
    assert sum(1 for r in wh.requests if r.method == "POST" and "two-factor" in r.path) == 1


def test_missing_credentials_gives_the_link(wh):
    code, [result], _ = run(wh, "add", "--project", "my-pkg", *GH, env={"PYPI_USERNAME": "", "PYPI_PASSWORD": ""})
    assert code == 1 and result["reason"] == "no-credentials" and result["method"] == "link"
    # One public lookup (no login) tells that the project exists: its page is the right link.
    assert "provider=github" in result["manual_url"] and result["pending"] is False
    assert [(r.method, r.path) for r in wh.requests] == [("GET", "/simple/my-pkg/")]


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"PYPI_PASSWORD": ""}, "PYPI_PASSWORD is not set"),
        ({"PYPI_USERNAME": ""}, "PYPI_USERNAME is not set"),
        ({"PYPI_USERNAME": "", "PYPI_PASSWORD": ""}, "PYPI_USERNAME and PYPI_PASSWORD are not set"),
    ],
)
def test_the_missing_credential_is_named_by_add_and_list(wh, env, missing):
    code, [added], _ = run(wh, "add", "--project", "my-pkg", *GH, env=env)
    code_list, [listed], _ = run(wh, "list", "--project", "my-pkg", env=env)
    assert code == code_list == 1
    assert missing in added["message"] and missing in listed["message"]
    assert "No credentials were given" not in added["message"]
    assert not any(r.path.startswith("/account/") for r in wh.requests)


def test_the_link_method_says_it_was_asked_for(wh):
    code, [result], _ = run(wh, "add", "--project", "my-pkg", *GH, "--method", "link")
    assert code == 1 and result["reason"] == "link-only" and "method link" in result["message"]


def test_new_ip_needs_confirmation(wh):
    wh.users[DEFAULT_USERNAME].confirmed_ips.clear()
    code, [result], _ = run(wh, "add", "--project", "my-pkg", *GH)
    assert code == 1 and result["status"] == "needs-confirmation" and result["reason"] == "new-ip"
    assert len(wh.outbox) == 1 and posts(wh) == 0
    assert "Open that link from this same machine" in result["message"]  # the terminal's advice stays


def test_not_owner(wh):
    wh.add_project("theirs", owners=["someone"], maintainers=[DEFAULT_USERNAME])
    result = failure(wh, "--project", "theirs", *GH)
    assert result["reason"] == "not-owner" and "provider=github" in result["manual_url"]
    assert "You are a Maintainer of 'theirs'" in result["message"]


def test_no_role_on_the_project(wh):
    wh.add_project("foreign", owners=["someone"])
    result = failure(wh, "--project", "foreign", *GH)
    assert result["reason"] == "not-owner" and "Maintainer" not in result["message"]
    assert "Your account has no role on 'foreign'" in result["message"] and DEFAULT_USERNAME not in result["message"]
    assert "only an Owner can add publishers" in result["message"]


def test_owner_of_a_quarantined_project(wh):
    wh.projects["my-pkg"].quarantined = True
    result = failure(wh, "--project", "my-pkg", *GH)
    assert result["reason"] == "not-owner" and "You are an Owner of 'my-pkg'" in result["message"]
    assert "quarantined" in result["message"]


def test_existing_flag_on_missing_project(wh):
    result = failure(wh, "--existing", "--project", "nope-missing", *GH)
    assert result["reason"] == "project-missing" and "--pending" in result["message"]


def test_pending_limit_checked_before_posting(wh):
    for n in range(3):
        wh.add_pending_publisher(
            f"p{n}", FakePublisher.github("octo-org", f"r{n}", "release.yml", "pypi"), added_by=DEFAULT_USERNAME
        )
    result = failure(wh, "--pending", "--project", "fourth", *GH)
    assert result["reason"] == "pending-limit" and result["pending"] is True
    assert result["manual_url"] == f"{wh.url}/manage/account/publishing/" and result["manual_steps"]
    assert posts(wh) == 0


def test_pending_same_config_other_user(wh):
    wh.add_pending_publisher(
        "other-name", FakePublisher.github("octo-org", "my-pkg", "release.yml", "pypi"), added_by="someone-else"
    )
    result = failure(wh, "--pending", "--project", "brand-new", *GH)
    assert result["reason"] == "pending-other-name"


def test_pending_name_exists(wh):
    wh.add_project("taken", owners=["someone"])
    assert failure(wh, "--pending", "--project", "taken", *GH)["reason"] == "project-exists"
    wh.add_project("fl0w-kit", owners=["someone"])
    assert failure(wh, "--pending", "--project", "FLOW.KIT", *GH)["reason"] == "name-too-similar"


def test_own_existing_name_points_to_project_page(wh):
    result = failure(wh, "--pending", "--project", "my-pkg", *GH)
    assert result["reason"] == "project-exists-owner" and result["pending"] is False
    assert "provider=github" in result["manual_url"]


def test_stdlib_name_refused_after_auto_finds_no_project(wh):
    result = failure(wh, "--project", "asyncio", *GH)
    assert result["reason"] == "name-not-allowed" and "standard library" in result["message"]
    assert posts(wh) == 0


def test_unknown_github_owner(wh):
    result = failure(wh, "--project", "my-pkg", "--owner", "nosuch-owner", *GH[2:])
    assert result["reason"] == "unknown-owner" and "Unknown GitHub user or organization." in result["message"]
    assert ".." not in result["message"]


def test_registration_rate_limit(wh):
    wh.registration_limit, wh.registration_retry_after = 0, 1
    result = failure(wh, "--project", "my-pkg", *GH)
    assert result["reason"] == "rate-limited" and result["retry_after"] == 1
    assert "Try again in 1 second." in result["message"]


def test_provider_disabled_detected_without_post(wh):
    wh.disabled_providers = {"gitlab"}
    result = failure(wh, "--project", "my-pkg", "--provider", "gitlab", "--namespace", "grp",
                     "--gitlab-project", "proj")
    assert result["reason"] == "provider-disabled" and posts(wh) == 0


def test_unexpected_page(wh):
    wh.fail_next("GET", "/manage/project/my-pkg/settings/publishing/", status=200,
                 body="<html><body>Down for maintenance</body></html>", times=3)
    result = failure(wh, "--project", "my-pkg", *GH)
    assert result["reason"] == "page-changed" and posts(wh) == 0


def test_server_errors_end_cleanly(wh):
    wh.fail_next("GET", "/account/login/", status=503, times=5)
    result = failure(wh, "--project", "my-pkg", *GH)
    assert result["reason"] == "unexpected-response" and "503" in result["message"]


def test_timeout_is_a_deadline_for_each_request(wh):
    """Issue 15.4: --timeout 5 bounds the login GET, its retries and their pauses: one 3 s Retry-After fits, a
    second does not, so the 503 is reported after two tries (it was three tries and 6 s). No real time passes:
    the pauses move the shared clock (a real silent socket is in test_http.py)."""
    wh.fail_next("GET", "/account/login/", status=503, headers={"Retry-After": "3"}, times=3)
    start = wh.clock()
    code, [result], _ = run(wh, "add", "--project", "my-pkg", *GH, timeout="5")
    assert code == 1 and result["reason"] == "unexpected-response" and "503" in result["message"]
    assert wh.clock() - start == 3
    assert [r.status for r in wh.requests if r.path.startswith("/account/login/")] == [503, 503]


def test_back_to_back_commands_say_what_they_wait_for(wh):
    """Issue 15.18: each command after the first waits for a code the last login did not use, and says so."""
    times, errors = [], []
    for _ in range(3):
        start = wh.clock()
        code, [listing], err = run(wh, "list", "--project", "my-pkg")
        assert code == 0 and listing["publishers"] == [], err
        times.append(wh.clock() - start)
        errors.append([line for line in err.splitlines() if "Waiting" in line])
    assert times == [0, 1 + 19.75, 30]  # mid-step at first; later logins land 1 s into a step
    assert errors[0] == []
    assert errors[1] == [
        "PyPI refused the login as older than the account's last login (one in the same second). "
        "Waiting 1 s for a new second to log in again.",
        "PyPI refused the two-factor code: it is wrong, or a login in the last 30 s already used it "
        "(PyPI takes each code once). Waiting 20 s for the next code.",
    ]
    assert [line.rsplit(". ", 1)[1] for line in errors[2]] == ["Waiting 30 s for the next code."]


# --- several projects, indexes, list and remove ---------------------------------------------------


def test_batch_one_login_and_continue_past_failure(wh):
    wh.add_project("second", owners=[DEFAULT_USERNAME])
    wh.add_project("theirs", owners=["someone"])
    code, results, _ = run(wh, "add", "--project", "my-pkg", "--project", "theirs", "--project", "second", *GH)
    assert code == 1
    assert [r["status"] for r in results] == ["registered", "failed", "registered"]
    assert sum(1 for r in wh.requests if r.method == "POST" and r.path == "/account/login/") == 1


def test_batch_config_file(wh, tmp_path):
    wh.add_project("second", owners=[DEFAULT_USERNAME])
    config = tmp_path / "publishers.toml"
    config.write_text(
        '[defaults]\nowner = "octo-org"\nworkflow = "release.yml"\n\n'
        '[[publisher]]\nproject = "my-pkg"\nrepository = "my-pkg"\n\n'
        '[[publisher]]\nproject = "second"\nrepository = "second"\nenvironment = "release"\n'
    )
    code, results, _ = run(wh, "add", "--config", str(config))
    assert code == 0 and [r["status"] for r in results] == ["registered", "registered"]
    assert wh.projects["second"].publishers[0].publisher["environment"] == "release"


def test_batch_plan_over_pending_limit_refused_up_front(wh):
    args = [a for n in range(4) for a in ("--project", f"new-{n}")]
    code, [result], _ = run(wh, "add", "--pending", *args, *GH)
    assert code == 2 and "exceed PyPI's limit of 3" in result["message"]
    assert wh.requests == []


def test_list_and_remove(wh):
    wh.add_publisher("my-pkg", FakePublisher.github("octo-org", "my-pkg", "release.yml", "pypi"))
    wh.add_publisher("my-pkg", FakePublisher.google("ci@x.iam.gserviceaccount.com"))
    code, [listing], _ = run(wh, "list", "--project", "my-pkg")
    assert code == 0 and [p["kind"] for p in listing["publishers"]] == ["github", "google"]
    code, [result], _ = run(wh, "remove", "--project", "my-pkg", "--yes", *GH)
    assert code == 0 and result["status"] == "removed"
    assert [p.publisher.kind for p in wh.projects["my-pkg"].publishers] == ["google"]


def test_remove_in_text_mode(wh):
    wh.add_publisher("my-pkg", FakePublisher.github("octo-org", "my-pkg", "release.yml", "pypi"))
    code, out, err = run(wh, "remove", "--project", "my-pkg", "--yes", *GH, as_json=False)
    assert code == 0, err
    assert out.startswith("✓ removed: Removed the publisher") and "internal error" not in err
    assert wh.projects["my-pkg"].publishers == []


def test_remove_missing_is_non_destructive(wh):
    wh.add_publisher("my-pkg", FakePublisher.google("ci@x.iam.gserviceaccount.com"))
    code, [result], _ = run(wh, "remove", "--project", "my-pkg", "--yes", *GH)
    assert code == 1 and result["reason"] == "not-found"
    assert len(wh.projects["my-pkg"].publishers) == 1 and posts(wh) == 0


def test_failed_remove_says_how_to_remove_by_hand(wh):
    code, out, _ = run(wh, "remove", "--pending", "--project", "brand-new", "--yes", *GH, as_json=False)
    assert code == 1 and "reason    not-found" in out
    assert "Add" not in out and f"manual    {wh.url}/manage/account/publishing/" in out


@pytest.mark.parametrize("command", ["remove", "check"])
def test_help_is_written_for_each_command(command):
    proc = subprocess.run([sys.executable, "-m", "pypi_trusted_publisher", command, "--help"],
                          capture_output=True, text=True, check=True)
    assert "register a pending publisher" not in proc.stdout
    assert ("repeat" not in proc.stdout) if command == "remove" else ("repeat" in proc.stdout)


def test_remove_needs_yes_without_terminal(wh):
    code, [result], _ = run(wh, "remove", "--project", "my-pkg", *GH)
    assert code == 2 and "--yes" in result["message"] and wh.requests == []


def test_list_pending(wh):
    wh.add_pending_publisher("brand-new", FakePublisher.google("ci@x.iam.gserviceaccount.com"),
                             added_by=DEFAULT_USERNAME)
    code, [listing], _ = run(wh, "list", "--pending")
    assert code == 0 and listing["pending"] is True
    assert listing["publishers"][0]["project"] == "brand-new"


def test_remove_organization_pending_goes_through_the_account_page(wh):
    wh.add_organization("octo-org", owners=[DEFAULT_USERNAME])
    wh.add_pending_publisher(
        "org-new", FakePublisher.github("octo-org", "my-pkg", "release.yml", "pypi"),
        added_by=DEFAULT_USERNAME, organization="octo-org",
    )
    code, [result], _ = run(wh, "remove", "--organization", "octo-org", "--project", "org-new", "--yes", *GH)
    assert code == 0 and result["status"] == "removed", result
    assert wh.pending_publishers == []
    assert [r.path for r in wh.requests if r.method == "POST" and "publishing" in r.path] == [
        "/manage/account/publishing/"
    ]


def test_the_documented_manual_run_against_the_standalone_fake(tmp_path):
    """`python -m tests.fake_warehouse` then the command it prints: a GitHub add goes through."""
    from test_fake_warehouse import standalone

    with standalone("--project", "demo-pkg") as lines:
        url = lines[0].split()[-1]
        values = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:4])}
        env = {"PYPI_USERNAME": values["username"], "PYPI_PASSWORD": values["password"],
               "PYPI_TOTP_SECRET": values["TOTP secret"]}
        # One login for both (a second login in the same 30 s would wait for a fresh TOTP code).
        code, results, err = run(None, "add", "--no-check", "--index", url, "--project", "demo-pkg",
                                 "--project", "brand-new", "--owner", "someone-new", "--repo", "r",
                                 "--workflow", "release.yml", env=env, cwd=tmp_path)
        assert code == 0, err
        assert [(r["status"], r["pending"]) for r in results] == [("registered", False), ("registered", True)]
