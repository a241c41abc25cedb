"""Security keys end to end: the installed CLI against the fake Warehouse, which verifies with py_webauthn.

The runner's IP (127.0.0.1) is made unseen for the account, as on a fresh GitHub-hosted runner: a TOTP login stops
for the e-mailed link there, a security-key login goes through at once.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_warehouse import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, FakeWarehouse
from passkeys import seed_key
from pypi_trusted_publisher.credentials.passkey import PREFIX, Passkey
from test_cli_e2e import GH, SCRIPT

CODES = [f"{n:016x}" for n in range(0xC0, 0xC8)]
ADDED = "Two-factor method added"
UNRECOGNIZED = "Unrecognized login"


@pytest.fixture
def wh() -> Iterator[FakeWarehouse]:
    with FakeWarehouse() as wh:
        wh.add_user(DEFAULT_USERNAME, password=DEFAULT_PASSWORD, totp_secret=DEFAULT_TOTP_SECRET,
                    recovery_codes=CODES, burned_recovery_codes=CODES[:1])
        wh.add_project("my-pkg", owners=[DEFAULT_USERNAME], has_releases=True)
        wh.github_owners = {"octo-org": 1001}
        yield wh


def cli(wh: FakeWarehouse, *args: str, env: dict[str, str] | None = None, index: str | None = None,
        path: str | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYPI_", "GITHUB_"))}
    base.update({"PYPI_USERNAME": DEFAULT_USERNAME, "PYPI_PASSWORD": DEFAULT_PASSWORD})
    base.update(env or {})
    if path is not None:
        base["PATH"] = path
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "pypi_trusted_publisher"]
    return subprocess.run(
        [*command, *args, "--index", index or wh.url, "--timeout", "5"],
        env=base, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


def lines(proc: subprocess.CompletedProcess[str]) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def later(wh: FakeWarehouse, seconds: float = 2) -> None:
    """Time passes between two runs: the next login is not in the second of the last one (PyPI refuses that)."""
    clock = wh.clock
    wh.clock = lambda: clock() + seconds


def enrol(wh: FakeWarehouse, tmp_path: Path, label: str = "ci-bootstrap") -> str:
    key_file = tmp_path / "key"
    proc = cli(wh, "passkey", "add", "--label", label, "--output", str(key_file), "--json",
               env={"PYPI_TOTP_SECRET": DEFAULT_TOTP_SECRET})
    assert proc.returncode == 0, proc.stderr
    later(wh)
    return key_file.read_text().strip()


def user(wh: FakeWarehouse):
    return wh.users[DEFAULT_USERNAME]


def test_enrol_then_register_from_an_unseen_ip_without_any_email(wh, tmp_path):
    key_file = tmp_path / "key"
    proc = cli(wh, "passkey", "add", "--label", "ci-bootstrap", "--output", str(key_file), "--json",
               env={"PYPI_TOTP_SECRET": DEFAULT_TOTP_SECRET})
    assert proc.returncode == 0, proc.stderr
    [result] = lines(proc)
    assert result == {"status": "added", "index": wh.url, "label": "ci-bootstrap",
                      "stored": {"kind": "file", "path": str(key_file)}}
    key = key_file.read_text()
    assert key.startswith(PREFIX) and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key.strip() not in proc.stdout + proc.stderr
    assert [k.label for k in user(wh).security_keys] == ["ci-bootstrap"]
    assert [m.subject for m in wh.outbox if ADDED in m.subject]

    user(wh).confirmed_ips.clear()  # a fresh runner
    later(wh)
    mails = len(wh.outbox)
    start = len(wh.requests)
    # Both a TOTP secret and the key: the key is used.
    proc = cli(wh, "add", "--pending", "--project", "brand-new", *GH, "--json", "--no-check",
               env={"PYPI_PASSKEY": key, "PYPI_TOTP_SECRET": DEFAULT_TOTP_SECRET})
    [result] = lines(proc)
    assert proc.returncode == 0 and result["status"] == "registered" and result["pending"] is True, proc.stderr
    assert [p.project_name for p in wh.pending_publishers] == ["brand-new"]
    assert not [m for m in wh.outbox[mails:] if UNRECOGNIZED in m.subject]
    assert "127.0.0.1" in user(wh).confirmed_ips
    served = wh.requests[start:]
    assert not [r for r in served if r.path.startswith("/account/two-factor/") and r.method == "POST"]
    assert len(served) == 7  # login page, password, key options, assertion, listing, POST, read-back


def test_the_same_run_with_totp_only_stops_for_the_emailed_link(wh):
    user(wh).confirmed_ips.clear()
    proc = cli(wh, "add", "--pending", "--project", "brand-new", *GH, "--json", "--no-check",
               env={"PYPI_TOTP_SECRET": DEFAULT_TOTP_SECRET})
    [result] = lines(proc)
    assert proc.returncode == 1 and result["status"] == "needs-confirmation" and result["reason"] == "new-ip"
    assert [m for m in wh.outbox if UNRECOGNIZED in m.subject] and not wh.pending_publishers


def test_two_runs_in_a_row_with_a_key_do_not_wait_for_a_fresh_code(wh, tmp_path):
    key = enrol(wh, tmp_path)
    for project in ("first-new", "second-new"):
        proc = cli(wh, "add", "--pending", "--project", project, *GH[:-1], project, "--json", "--no-check",
                   env={"PYPI_PASSKEY": key})
        assert proc.returncode == 0, proc.stderr
        later(wh)
    assert sorted(p.project_name for p in wh.pending_publishers) == ["first-new", "second-new"]


def test_no_recovery_codes_means_nothing_is_enrolled(tmp_path):
    with FakeWarehouse() as wh:
        wh.add_user(DEFAULT_USERNAME, password=DEFAULT_PASSWORD, totp_secret=DEFAULT_TOTP_SECRET)
        key_file = tmp_path / "key"
        proc = cli(wh, "passkey", "add", "--output", str(key_file), "--json",
                   env={"PYPI_TOTP_SECRET": DEFAULT_TOTP_SECRET})
        [result] = lines(proc)
        assert proc.returncode == 1 and result["reason"] == "recovery-codes-first"
        assert f"{wh.url}/manage/account/" in result["message"] and "recovery-codes/burn" in result["message"]
        assert not key_file.exists() and not user(wh).security_keys
        assert not [r for r in wh.requests if "webauthn-provision/" in r.path]


def test_a_label_in_use_writes_nothing(wh, tmp_path):
    key = enrol(wh, tmp_path)
    key_file = tmp_path / "second"
    proc = cli(wh, "passkey", "add", "--label", "ci-bootstrap", "--output", str(key_file), env={"PYPI_PASSKEY": key})
    assert proc.returncode == 1 and "Label 'ci-bootstrap' already in use" in proc.stderr
    assert not key_file.exists() and len(user(wh).security_keys) == 1


def test_an_existing_output_file_is_refused_before_any_request(wh, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("precious")
    proc = cli(wh, "passkey", "add", "--output", str(key_file), "--json")
    [result] = lines(proc)
    assert proc.returncode == 2 and result["reason"] == "invalid-input" and "exists" in result["message"]
    assert key_file.read_text() == "precious" and not wh.requests


def test_list_and_remove_and_the_last_two_factor_method(wh, tmp_path):
    key = enrol(wh, tmp_path)
    proc = cli(wh, "passkey", "list", "--json", env={"PYPI_PASSKEY": key})
    assert lines(proc) == [{"status": "ok", "index": wh.url, "security_devices": ["ci-bootstrap"]}]
    later(wh)
    proc = cli(wh, "passkey", "remove", "--label", "nope", "--yes", env={"PYPI_PASSKEY": key})
    assert proc.returncode == 1 and "no security device called 'nope'" in proc.stderr
    later(wh)
    # Logged in with the key itself, the session may remove that same key.
    proc = cli(wh, "passkey", "remove", "--label", "ci-bootstrap", "--yes", "--json", env={"PYPI_PASSKEY": key})
    assert lines(proc) == [{"status": "removed", "index": wh.url, "label": "ci-bootstrap"}]
    assert not user(wh).security_keys and [m for m in wh.outbox if "Two-factor method removed" in m.subject]

    wh.add_user("solo", password="solo-password", has_2fa=False)
    only_key = seed_key(wh, "solo", "only")
    solo = {"PYPI_USERNAME": "solo", "PYPI_PASSWORD": "solo-password", "PYPI_PASSKEY": only_key.encode().reveal()}
    proc = cli(wh, "passkey", "remove", "--label", "only", "--yes", env=solo)
    assert proc.returncode == 1 and "Cannot remove last 2FA method" in proc.stderr
    assert [k.label for k in wh.users["solo"].security_keys] == ["only"]


def test_a_key_removed_from_the_account_fails_with_the_manual_link(wh, tmp_path):
    key = enrol(wh, tmp_path)
    user(wh).security_keys.clear()
    proc = cli(wh, "add", "--project", "my-pkg", *GH, "--json", "--no-check", env={"PYPI_PASSKEY": key})
    [result] = lines(proc)
    assert proc.returncode == 1 and result["reason"] == "passkey-unknown"
    assert "ci-bootstrap" in result["message"] and result["manual_url"].startswith(wh.url)
    assert not [r for r in wh.requests if "webauthn-authenticate/validate" in r.path]


@pytest.mark.parametrize(
    ("mangle", "message"),
    [(lambda key: key[:-9], "truncated or damaged"), (lambda key: "hunter2", "is not a passkey string")],
)
def test_a_malformed_key_is_bad_input_before_any_request(wh, tmp_path, mangle, message):
    key = Passkey.generate(wh.url, "x").encode().reveal()
    proc = cli(wh, "add", "--project", "my-pkg", *GH, "--json", env={"PYPI_PASSKEY": mangle(key)})
    [result] = lines(proc)
    assert proc.returncode == 2 and result["reason"] == "invalid-input" and message in result["message"]
    assert "PYPI_PASSKEY" in result["message"] and not wh.requests
    assert key[len(PREFIX):][:12] not in proc.stdout + proc.stderr


def test_a_key_for_another_index_is_bad_input(wh):
    key = Passkey.generate("https://test.pypi.org", "x").encode().reveal()
    proc = cli(wh, "passkey", "list", "--json", env={"PYPI_PASSKEY": key})
    [result] = lines(proc)
    assert proc.returncode == 2 and "belongs to https://test.pypi.org" in result["message"] and not wh.requests


def fake_gh(tmp_path: Path, exit_code: int) -> str:
    """A ``gh`` that records its arguments and standard input."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "gh"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, pathlib\n"
        f"pathlib.Path({str(tmp_path / 'gh.json')!r}).write_text(json.dumps({{'argv': sys.argv[1:], "
        "'stdin': sys.stdin.read()}))\n"
        f"print('HTTP 403: Resource not accessible by integration', file=sys.stderr) if {exit_code} else None\n"
        f"sys.exit({exit_code})\n"
    )
    script.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def test_github_secret_gets_the_key_on_standard_input(wh, tmp_path):
    proc = cli(wh, "passkey", "add", "--label", "ci", "--github-secret", "octo-org/my-pkg", "--github-environment",
               "pypi-bootstrap", "--json", env={"PYPI_TOTP_SECRET": DEFAULT_TOTP_SECRET}, path=fake_gh(tmp_path, 0))
    [result] = lines(proc)
    assert proc.returncode == 0, proc.stderr
    assert result["stored"] == {"kind": "github-secret", "repository": "octo-org/my-pkg", "name": "PYPI_PASSKEY",
                                "environment": "pypi-bootstrap"}
    call = json.loads((tmp_path / "gh.json").read_text())
    assert call["argv"] == ["secret", "set", "PYPI_PASSKEY", "--repo", "octo-org/my-pkg", "--env", "pypi-bootstrap"]
    assert Passkey.decode(call["stdin"]).label == "ci"
    assert call["stdin"] not in proc.stdout + proc.stderr


def test_a_failed_handover_removes_the_key_from_the_account_again(wh, tmp_path):
    proc = cli(wh, "passkey", "add", "--label", "ci", "--github-secret", "octo-org/my-pkg", "--json",
               env={"PYPI_TOTP_SECRET": DEFAULT_TOTP_SECRET}, path=fake_gh(tmp_path, 1))
    [result] = lines(proc)
    assert proc.returncode == 1 and result["reason"] == "store-failed"
    assert "HTTP 403" in result["message"] and "removed from the account again" in result["message"]
    assert not user(wh).security_keys


def test_standard_output_only_when_it_is_not_a_terminal(wh):
    proc = cli(wh, "passkey", "add", "--label", "piped", env={"PYPI_TOTP_SECRET": DEFAULT_TOTP_SECRET})
    assert proc.returncode == 0, proc.stderr
    assert Passkey.decode(proc.stdout).label == "piped" and proc.stdout.count("\n") == 1
    assert "added to the account" in proc.stderr and proc.stdout.strip() not in proc.stderr
    proc = cli(wh, "passkey", "add", "--label", "again", "--json")
    assert proc.returncode == 2 and "--json" in lines(proc)[0]["message"]


def test_run_batch_removes_the_key_it_logged_in_with(wh):
    """The action's remove-passkey: enrolled key → login from an unseen IP → registered → the key is gone."""
    from pypi_trusted_publisher.core.indexes import resolve_index
    from pypi_trusted_publisher.core.models import Registration, Target
    from pypi_trusted_publisher.core.publishers import GitHubPublisher
    from pypi_trusted_publisher.core.secret import Secret
    from pypi_trusted_publisher.credentials.values import Credentials
    from pypi_trusted_publisher.engine.engine import run_batch

    key = seed_key(wh, DEFAULT_USERNAME)
    user(wh).confirmed_ips.clear()
    registration = Registration(resolve_index(wh.url), "brand-new",
                                GitHubPublisher("octo-org", "my-pkg", "release.yml", "pypi"), Target.PENDING)
    credentials = Credentials(DEFAULT_USERNAME, Secret(DEFAULT_PASSWORD), passkey=key)
    batch = run_batch([registration], credentials, remove_passkey=True)
    assert [r.status.value for r in batch.results] == ["registered"]
    assert batch.login.passkey_removed and batch.login.output == "security-key-removed"
    assert not user(wh).security_keys and not [m for m in wh.outbox if UNRECOGNIZED in m.subject]

    # An account whose only second factor is that key: PyPI keeps it, and the run says so.
    wh.add_user("solo", password="solo-password", has_2fa=False)
    only = seed_key(wh, "solo", "only")
    later(wh)
    batch = run_batch([registration], Credentials("solo", Secret("solo-password"), passkey=only), remove_passkey=True)
    assert not batch.login.passkey_removed and batch.login.output == "security-key"
    assert "Cannot remove last 2FA method" in batch.login.problem
    assert [k.label for k in wh.users["solo"].security_keys] == ["only"]


def interrupting_gh(tmp_path: Path) -> str:
    """A ``gh`` that presses Ctrl-C in the CLI while it hands the key over, then waits to be killed."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "gh"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, signal, sys\n"
        "sys.stdin.read()\n"
        "os.kill(os.getppid(), signal.SIGINT)\n"
        "signal.pause()\n"
    )
    script.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def test_an_interrupted_handover_removes_the_key_from_the_account_again(wh, tmp_path):
    proc = cli(wh, "passkey", "add", "--label", "ci", "--github-secret", "octo-org/my-pkg", "--json",
               env={"PYPI_TOTP_SECRET": DEFAULT_TOTP_SECRET}, path=interrupting_gh(tmp_path))
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "interrupted"
    assert not user(wh).security_keys
    added, removed = (sum(subject in mail.subject for mail in wh.outbox) for subject in (ADDED, "method removed"))
    assert (added, removed) == (1, 1)  # it was enrolled, then taken back


def test_an_interrupted_handover_whose_removal_fails_says_which_label_to_remove(wh, tmp_path):
    wh.fail_next("POST", "/manage/account/webauthn-provision/delete", status=503)
    proc = cli(wh, "passkey", "add", "--label", "ci", "--github-secret", "octo-org/my-pkg", "--json",
               env={"PYPI_TOTP_SECRET": DEFAULT_TOTP_SECRET}, path=interrupting_gh(tmp_path))
    assert proc.returncode == 130, proc.stderr
    [line] = [line for line in proc.stderr.splitlines() if "still on the account" in line]
    assert "'ci'" in line and "remove it by hand" in line and line.startswith("error: The new security key")
    assert [key.label for key in user(wh).security_keys] == ["ci"]
