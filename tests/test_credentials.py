"""Where credentials come from, in process: ~/.pypirc matching and the order of sources (no network, no OS keyring)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pypi_trusted_publisher.core.errors import UsageError
from pypi_trusted_publisher.core.indexes import resolve_index
from pypi_trusted_publisher.credentials import pypirc
from pypi_trusted_publisher.credentials.keyring_store import KeyringStore, KeyringUnavailable
from pypi_trusted_publisher.credentials.sources import describe, gather

TOKEN = "pypi-AgEIcHlwaS5vcmcCJGFiYw"  # a made-up token

PYPIRC = f"""
[distutils]
index-servers = pypi testpypi internal

[pypi]
username = __token__
password = {TOKEN}

[testpypi]
username = tess
password = a-plain-password

[internal]
repository = https://Warehouse.example:8443/legacy/
username = ivan
password = {TOKEN}-internal
"""


@pytest.fixture
def rc(tmp_path: Path) -> Path:
    path = tmp_path / ".pypirc"
    path.write_text(PYPIRC)
    return path


def test_pypirc_sections_by_index_name(rc: Path) -> None:
    entry = pypirc.read(resolve_index("pypi"), rc)
    assert entry is not None and entry.section == "pypi"
    assert entry.username == "" and entry.api_token.reveal() == TOKEN  # __token__ is not a username
    entry = pypirc.read(resolve_index("testpypi"), rc)
    assert entry is not None and entry.username == "tess" and entry.api_token.reveal() == ""  # a password: ignored


@pytest.mark.parametrize(
    ("url", "section"),
    [
        ("https://warehouse.example:8443", "internal"),  # host case does not matter
        ("https://warehouse.example", None),  # another port
        ("https://other.example:8443", None),
    ],
)
def test_pypirc_url_index_matches_scheme_host_and_port(rc: Path, url: str, section: str | None) -> None:
    entry = pypirc.read(resolve_index(url), rc)
    assert (entry.section if entry else None) == section


def test_pypirc_default_port_is_the_same_origin(tmp_path: Path) -> None:
    path = tmp_path / ".pypirc"
    path.write_text("[mine]\nrepository = https://warehouse.example:443/legacy/\nusername = u\n")
    entry = pypirc.read(resolve_index("https://warehouse.example"), path)
    assert entry is not None and entry.username == "u"


def test_pypirc_another_scheme_is_another_origin(tmp_path: Path) -> None:
    path = tmp_path / ".pypirc"
    path.write_text("[mine]\nrepository = http://warehouse.example:443/\nusername = u\n")
    assert pypirc.read(resolve_index("https://warehouse.example"), path) is None


def test_a_missing_pypirc_is_nothing(tmp_path: Path) -> None:
    assert pypirc.read(resolve_index("pypi"), tmp_path / "absent") is None


def test_a_broken_pypirc_names_the_line_not_its_text(tmp_path: Path) -> None:
    path = tmp_path / ".pypirc"
    path.write_text("[pypi]\nusername = u\nthis line holds hunter2 and no equals sign\n")
    with pytest.raises(UsageError) as err:
        pypirc.read(resolve_index("pypi"), path)
    assert "line 3" in str(err.value) and "hunter2" not in str(err.value) and err.value.field == "pypirc"


class DictKeyring:
    """A keyring backend in memory: the part of keyring's interface KeyringStore uses."""

    name = "dict"

    def __init__(self, entries: dict[tuple[str, str], str]) -> None:
        self.entries = entries
        self.reads = 0

    def get_password(self, service: str, user: str) -> str | None:
        self.reads += 1
        return self.entries.get((service, user))

    def set_password(self, service: str, user: str, value: str) -> None:
        self.entries[service, user] = value

    def delete_password(self, service: str, user: str) -> None:
        del self.entries[service, user]


def keyring_with(**kinds: str) -> DictKeyring:
    service = "pypi-trusted-publisher https://pypi.org"
    entries = {(f"{service} username", "default"): "kim"}
    for kind, value in kinds.items():
        entries[(service if kind == "password" else f"{service} {kind.replace('_', '-')}", "kim")] = value
    return DictKeyring(entries)


def opener(backend: DictKeyring):
    calls = []

    def open_keyring(index, env):
        calls.append(index)
        return KeyringStore(index, backend)

    return open_keyring, calls


PYPI = resolve_index("pypi")
FULL_ENV = {"PYPI_USERNAME": "env-user", "PYPI_PASSWORD": "env-pass", "PYPI_TOTP_SECRET": "JBSWY3DPEHPK3PXP"}


def test_a_complete_environment_never_opens_the_keyring_or_pypirc(tmp_path: Path) -> None:
    open_keyring, calls = opener(keyring_with(password="ring-pass"))
    creds = gather(PYPI, FULL_ENV, open_keyring=open_keyring, pypirc=tmp_path / "absent")
    assert calls == [] and creds.username == "env-user" and creds.password.reveal() == "env-pass"
    assert creds.sources == {
        "username": "PYPI_USERNAME", "password": "PYPI_PASSWORD", "totp_secret": "PYPI_TOTP_SECRET",
    }  # fmt: skip


def test_an_exported_second_factor_keeps_the_keyrings_out(tmp_path: Path) -> None:
    backend = keyring_with(password="ring-pass", totp_secret="KRSXG5CTMVRXEZLU")
    open_keyring, _ = opener(backend)
    creds = gather(PYPI, {"PYPI_TOTP_SECRET": "JBSWY3DPEHPK3PXP"}, open_keyring=open_keyring, pypirc=tmp_path / "x")
    assert creds.username == "kim" and creds.password.reveal() == "ring-pass"
    assert creds.totp_secret.reveal() == "JBSWY3DPEHPK3PXP" and creds.sources["totp_secret"] == "PYPI_TOTP_SECRET"


def test_options_beat_the_environment_and_the_keyring(tmp_path: Path) -> None:
    open_keyring, _ = opener(keyring_with(password="ring-pass"))
    creds = gather(PYPI, {"PYPI_USERNAME": "env-user"}, username="opt-user", totp_code="123456",
                   open_keyring=open_keyring, pypirc=tmp_path / "x")  # fmt: skip
    assert creds.username == "opt-user" and creds.sources["username"] == "--username"
    assert creds.sources["totp_code"] == "--totp-code"
    assert creds.password.reveal() == "" and "password" not in creds.sources  # kim's password is not opt-user's


def test_the_keyring_before_pypirc_and_pypirc_for_the_token(rc: Path) -> None:
    open_keyring, _ = opener(keyring_with(password="ring-pass"))
    creds = gather(PYPI, {}, open_keyring=open_keyring, pypirc=rc)
    assert creds.sources == {"username": "keyring", "password": "keyring", "api_token": "~/.pypirc [pypi]"}


def test_prompts_only_for_what_is_missing_and_only_in_a_terminal(rc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "typed-user")
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or "typed-pass")
    unavailable = opener(keyring_with())[0]
    testpypi = resolve_index("testpypi")
    creds = gather(testpypi, {}, interactive=True, open_keyring=unavailable, pypirc=rc)
    assert asked == ["PyPI password for test.pypi.org (hidden): "]  # the username came from ~/.pypirc
    assert creds.sources == {"username": "~/.pypirc [testpypi]", "password": "prompt"}
    asked.clear()
    gather(testpypi, {}, interactive=False, open_keyring=unavailable, pypirc=rc)
    assert asked == []


def test_a_failing_keyring_warns_once_and_goes_on(tmp_path: Path) -> None:
    class Failing(DictKeyring):
        def get_password(self, service: str, user: str) -> str | None:
            raise RuntimeError("the collection is locked")

    warnings: list[str] = []
    creds = gather(PYPI, {"PYPI_USERNAME": "u"}, open_keyring=opener(Failing({}))[0], pypirc=tmp_path / "x",
                   warn=warnings.append)  # fmt: skip
    assert len(warnings) == 1 and "RuntimeError" in warnings[0]
    assert creds.username == "u" and "keyring not used" in describe(creds, PYPI)


@pytest.mark.parametrize("value", ["true", "1"])
def test_the_keyring_is_never_opened_in_github_actions(value: str) -> None:
    with pytest.raises(KeyringUnavailable, match="GitHub Actions"):
        KeyringStore.open(PYPI, {"GITHUB_ACTIONS": value})


def test_a_login_as_another_account_leaves_nothing_of_the_first() -> None:
    backend = keyring_with(password="kims-pass", totp_secret="KRSXG5CTMVRXEZLU")
    store = KeyringStore(PYPI, backend)
    store.store("lee", {"password": "lees-pass"})
    service = "pypi-trusted-publisher https://pypi.org"
    assert backend.entries == {(service, "lee"): "lees-pass", (f"{service} username", "default"): "lee"}
    assert store.forget() == ("lee", ["password"]) and backend.entries == {}
