"""``login``/``logout`` and where credentials come from: the CLI against the fake Warehouse, with a file keyring.

No OS keyring is touched: ``PYTHON_KEYRING_BACKEND`` names a backend from ``file_keyring.py``, and every
test's HOME is its own (conftest), so the developer's ~/.pypirc is never read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fake_warehouse import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, FakeWarehouse
from fake_warehouse.server import RecoveryCode
from file_keyring import entries, keyring_env
from passkeys import seed_key
from test_cli_e2e import GH, posts, run

NOTHING = {"PYPI_USERNAME": "", "PYPI_PASSWORD": "", "PYPI_TOTP_SECRET": ""}  # no credentials in the environment
API_TOKEN = "pypi-AgEIcHlwaS5vcmcCJGZha2UtdG9rZW4tZm9yLXRlc3Rz"


@pytest.fixture
def ring(tmp_path: Path) -> Path:
    return tmp_path / "keyring.json"


def stored(ring: Path, wh: FakeWarehouse) -> dict[str, str]:
    """Entry → value for this index, with the service prefix cut off."""
    prefix = f"pypi-trusted-publisher {wh.url}"
    return {key.removeprefix(prefix).replace("\x00", " | ").strip(): value for key, value in entries(ring).items()}


def test_login_stores_and_add_uses_it_without_prompts_then_logout_removes_it(wh, ring):
    code, [result], err = run(wh, "login", "--store-totp-secret", env=keyring_env(ring))
    assert code == 0, err
    assert result == {
        "status": "logged-in", "index": wh.url, "username": DEFAULT_USERNAME, "second_factor": "totp",
        "stored": ["password", "totp-secret"], "keyring": "file keyring FileKeyring",
    }  # fmt: skip
    assert stored(ring, wh) == {
        f"| {DEFAULT_USERNAME}": DEFAULT_PASSWORD,
        f"totp-secret | {DEFAULT_USERNAME}": DEFAULT_TOTP_SECRET,
        "username | default": DEFAULT_USERNAME,
    }
    assert "sits in the keyring next to the password" in err  # the one-line warning

    code, [added], err = run(wh, "add", "--project", "my-pkg", *GH, "--no-check", "-v",
                             env={**NOTHING, **keyring_env(ring)})  # fmt: skip
    assert code == 0 and added["status"] == "registered", err
    assert added["credentials"] == {"username": "keyring", "password": "keyring", "totp_secret": "keyring"}
    assert "username from the keyring, password from the keyring, TOTP secret from the keyring" in err
    assert DEFAULT_PASSWORD not in err + json.dumps(added) and DEFAULT_TOTP_SECRET not in err

    code, [out], _ = run(wh, "logout", env=keyring_env(ring), timeout=None)  # no request: no --timeout
    assert code == 0 and out == {"status": "logged-out", "index": wh.url, "username": DEFAULT_USERNAME,
                                 "removed": ["password", "totp-secret"]}  # fmt: skip
    assert entries(ring) == {}
    code, [failed], _ = run(wh, "add", "--project", "my-pkg", *GH, "--no-check", env={**NOTHING, **keyring_env(ring)})
    assert code == 1 and "PYPI_USERNAME and PYPI_PASSWORD are not set" in failed["message"]


def test_login_with_a_key_file_then_no_code_and_no_email_from_an_unseen_ip(wh, ring, tmp_path):
    key = seed_key(wh, DEFAULT_USERNAME)
    key_file = tmp_path / "key"
    key_file.write_text(key.encode().reveal() + "\n")
    code, [result], err = run(wh, "login", "--passkey-file", str(key_file), env={"PYPI_TOTP_SECRET": "",
                                                                                 **keyring_env(ring)})
    assert code == 0 and result["second_factor"] == "security-key" and result["stored"] == ["password", "passkey"]
    assert stored(ring, wh)[f"passkey | {DEFAULT_USERNAME}"] == key.encode().reveal()

    wh.users[DEFAULT_USERNAME].confirmed_ips.clear()  # a new network: a TOTP login would wait for an e-mail
    confirmations = [mail for mail in wh.outbox if mail.confirm_url]
    code, [added], err = run(wh, "add", "--pending", "--project", "brand-new", *GH, "--no-check",
                             env={**NOTHING, **keyring_env(ring)})  # fmt: skip
    assert code == 0 and added["status"] == "registered", err
    assert added["credentials"]["passkey"] == "keyring"
    assert [mail for mail in wh.outbox if mail.confirm_url] == confirmations  # no confirm-login e-mail


def test_the_environment_wins_value_by_value(wh, ring):
    run(wh, "login", env=keyring_env(ring))
    code, [added], _ = run(wh, "add", "--project", "my-pkg", *GH, "--no-check",
                           env={"PYPI_PASSWORD": "", **keyring_env(ring)})  # fmt: skip
    assert code == 0, added
    assert added["credentials"] == {
        "username": "PYPI_USERNAME", "password": "keyring", "totp_secret": "PYPI_TOTP_SECRET",
    }  # fmt: skip


def test_a_failed_login_stores_nothing(wh, ring):
    code, [result], _ = run(wh, "login", env={"PYPI_PASSWORD": "wrong", **keyring_env(ring)})
    assert code == 1 and result["status"] == "failed" and result["reason"] == "wrong-password"
    assert result["message"].startswith("Nothing was stored") and not entries(ring)


def test_no_keyring_backend_is_one_line(wh):
    """The default in the tests is keyring's "fail" backend: what a headless Linux box has."""
    code, [result], err = run(wh, "login")
    assert code == 1 and result["reason"] == "no-keyring"
    assert err.count("\n") == 1 and "No keyring backend is available here" in err and "Environment variables" in err
    assert posts(wh, "") == 0  # nothing was sent anywhere
    code, [added], _ = run(wh, "add", "--project", "my-pkg", *GH, "--no-check")  # environment variables still work
    assert code == 0 and added["credentials"]["password"] == "PYPI_PASSWORD"


def test_a_locked_keyring_is_one_line_and_the_environment_still_works(wh, ring):
    env = keyring_env(ring, "LockedKeyring")
    code, _, err = run(wh, "login", env=env)
    assert code == 1 and err.count("\n") == 1 and "KeyringLocked" in err
    code, _, err = run(wh, "add", "--project", "my-pkg", *GH, "--no-check", env=env)
    assert code == 0 and "keyring" not in err  # everything was in the environment: the keyring was not opened
    code, [failed], err = run(wh, "add", "--project", "my-pkg", *GH, "--no-check", env={**env, "PYPI_PASSWORD": ""})
    assert code == 1 and "PYPI_PASSWORD is not set" in failed["message"]
    assert err.splitlines()[0] == "warning: the keyring could not be read (KeyringLocked: the collection is locked); " \
                                  "going on without it"


def test_the_keyring_is_never_consulted_in_github_actions(wh, ring):
    run(wh, "login", env=keyring_env(ring))
    code, [failed], _ = run(wh, "add", "--project", "my-pkg", *GH, "--no-check",
                            env={**NOTHING, **keyring_env(ring), "GITHUB_ACTIONS": "true"})  # fmt: skip
    assert code == 1 and "PYPI_USERNAME and PYPI_PASSWORD are not set" in failed["message"]
    assert failed["credentials"] == {}
    code, [refused], _ = run(wh, "login", env={**keyring_env(ring), "GITHUB_ACTIONS": "true"})
    assert code == 1 and refused["reason"] == "no-keyring"
    assert refused["message"].startswith("The keyring is not used in GitHub Actions")  # its capitals kept


def pypirc(tmp_path: Path, text: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / ".pypirc").write_text(text)
    return {"HOME": str(home)}


def test_a_pypirc_token_serves_the_token_api_and_never_the_login_form(wh, tmp_path):
    home = pypirc(tmp_path, f"[distutils]\nindex-servers = fake\n\n[fake]\nrepository = {wh.url}/legacy/\n"
                            f"username = __token__\npassword = {API_TOKEN}\n")  # fmt: skip
    code, [result], err = run(wh, "add", "--project", "my-pkg", *GH, "--no-check", "--method", "web",
                              env={**NOTHING, **home})  # fmt: skip
    assert code == 1 and "needs PYPI_USERNAME and PYPI_PASSWORD" in result["message"]
    assert posts(wh, "/account/") == 0 and result["credentials"] == {"api_token": "~/.pypirc [fake]"}

    wh.token_api = True
    wh.add_api_token(API_TOKEN, DEFAULT_USERNAME)
    code, [result], err = run(wh, "add", "--project", "my-pkg", *GH, "--no-check", env={**NOTHING, **home})
    assert code == 0 and result["status"] == "registered" and result["method"] == "api", err
    assert posts(wh, "/account/") == 0 and API_TOKEN not in err + json.dumps(result)


def test_a_pypirc_username_is_used_and_a_plain_password_there_is_not(wh, tmp_path):
    home = pypirc(tmp_path, f"[fake]\nrepository = {wh.url}\nusername = {DEFAULT_USERNAME}\n"
                            f"password = {DEFAULT_PASSWORD}\n")  # fmt: skip
    code, [result], _ = run(wh, "add", "--project", "my-pkg", *GH, "--no-check",
                            env={"PYPI_USERNAME": "", "PYPI_PASSWORD": "", **home})  # fmt: skip
    assert code == 1 and "PYPI_PASSWORD is not set" in result["message"]
    assert result["credentials"] == {"username": "~/.pypirc [fake]", "totp_secret": "PYPI_TOTP_SECRET"}


def test_a_broken_pypirc_is_bad_input_that_does_not_quote_the_file(wh, tmp_path):
    home = pypirc(tmp_path, f"[fake\npassword = {API_TOKEN}\n")
    code, [result], err = run(wh, "add", "--project", "my-pkg", *GH, "--no-check", env={**NOTHING, **home})
    assert code == 2 and result["reason"] == "invalid-input" and result["field"] == "pypirc"
    assert "is not a valid INI file (line 1)" in err and API_TOKEN not in err + result["message"]


def test_passkey_add_into_the_keyring_then_no_code_and_no_email(wh, ring):
    """The key goes straight to the keyring, never through a file; the machine then logs in with it."""
    wh.users[DEFAULT_USERNAME].recovery_codes = [RecoveryCode("0123456789abcdef", 0.0, burned=0.0)]  # PyPI's order
    code, [added], err = run(wh, "passkey", "add", "--label", "laptop", "--keyring", env=keyring_env(ring))
    assert code == 0 and added["status"] == "added", err
    assert added["stored"] == {"kind": "keyring", "keyring": "file keyring FileKeyring"}
    key = stored(ring, wh)[f"passkey | {DEFAULT_USERNAME}"]
    assert stored(ring, wh) == {f"| {DEFAULT_USERNAME}": DEFAULT_PASSWORD, f"passkey | {DEFAULT_USERNAME}": key,
                                "username | default": DEFAULT_USERNAME}  # fmt: skip
    assert key not in err + json.dumps(added)

    wh.users[DEFAULT_USERNAME].confirmed_ips.clear()  # a new network: a TOTP login would wait for an e-mail
    confirmations = [mail for mail in wh.outbox if mail.confirm_url]
    code, [result], err = run(wh, "add", "--pending", "--project", "brand-new", *GH, "--no-check",
                              env={**NOTHING, **keyring_env(ring)})  # fmt: skip
    assert code == 0 and result["status"] == "registered", err
    assert result["credentials"] == {"username": "keyring", "password": "keyring", "passkey": "keyring"}
    assert [mail for mail in wh.outbox if mail.confirm_url] == confirmations


def test_passkey_add_into_no_keyring_enrols_nothing(wh):
    code, [result], err = run(wh, "passkey", "add", "--keyring")
    assert code == 1 and result["reason"] == "no-keyring" and "nothing was enrolled" in result["message"]
    assert err.count("\n") == 1 and wh.requests == []
