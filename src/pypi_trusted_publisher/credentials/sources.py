"""Where the CLI's credentials come from, value by value, first found wins:

1. options (``--username``, ``--totp-code``);
2. environment variables (``PYPI_USERNAME``, ``PYPI_PASSWORD``, ``PYPI_TOTP_SECRET``,
   ``PYPI_PASSKEY``, ``PYPI_API_TOKEN``);
3. the OS keyring, filled by ``login`` (never in GitHub Actions);
4. ``~/.pypirc``: a username, and an API token for the token API only;
5. in a terminal, a prompt for the username and password still missing.

The second factor counts as one value: a TOTP code, TOTP secret or security key
given in 1–2 keeps the keyring's out, so a user who exports a secret gets TOTP.
Later sources are read only when something is still missing, so an environment
that has it all never imports ``keyring`` or opens a file. ``Credentials.sources``
records where each value came from (never the value) for ``--json`` and ``-v``.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..core.indexes import Index
from ..core.secret import Secret
from .keyring_store import KeyringStore, KeyringUnavailable
from .values import Credentials

KEYRING = "keyring"
PROMPT = "prompt"


@dataclass
class Found:
    """Values and where each came from, filled source by source; ``repr`` names the values, never shows them."""

    values: dict[str, str] = field(default_factory=dict, repr=False)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # why a source was skipped, for -v

    def take(self, name: str, value: str, source: str) -> None:
        if value and not self.values.get(name):
            self.values[name] = value
            self.sources[name] = source

    def has(self, *names: str) -> bool:
        return any(self.values.get(name) for name in names)


def gather(
    index: Index,
    env: Mapping[str, str],
    *,
    username: str = "",
    totp_code: str = "",
    method: str = "auto",
    interactive: bool = False,
    open_keyring: Callable[[Index, Mapping[str, str]], KeyringStore] = KeyringStore.open,
    pypirc: Path | None = None,
    warn: Callable[[str], None] = lambda line: None,
) -> Credentials:
    """The credentials for ``index``; a bad value is a UsageError (exit 2) before any network call."""
    found = Found()
    found.take("username", username.strip(), "--username")
    found.take("totp_code", totp_code.strip(), "--totp-code")
    for name, variable in (
        ("username", "PYPI_USERNAME"), ("password", "PYPI_PASSWORD"), ("totp_secret", "PYPI_TOTP_SECRET"),
        ("passkey", "PYPI_PASSKEY"), ("api_token", "PYPI_API_TOKEN"),
    ):  # fmt: skip
        value = env.get(variable, "")
        found.take(name, value if name == "password" else value.strip(), variable)
    explicit_token = found.has("api_token")
    web = method == "web" or (method == "auto" and not explicit_token)
    if method in ("auto", "web") and not (found.has("username") and found.has("password") and _second(found)):
        _from_keyring(found, index, env, open_keyring, warn)
    if not found.has("username") or not found.has("api_token"):
        _from_pypirc(found, index, pypirc)
    if interactive and web:
        if not found.has("username"):
            found.take("username", input(f"PyPI username for {index.host}: ").strip(), PROMPT)
        if not found.has("password"):
            found.take("password", getpass.getpass(f"PyPI password for {index.host} (hidden): "), PROMPT)
    return _credentials(found, index)


def _second(found: Found) -> bool:
    return found.has("totp_code", "totp_secret", "passkey")


def _from_keyring(
    found: Found,
    index: Index,
    env: Mapping[str, str],
    open_keyring: Callable[[Index, Mapping[str, str]], KeyringStore],
    warn: Callable[[str], None],
) -> None:
    try:
        store = open_keyring(index, env)
    except KeyringUnavailable as exc:
        found.notes.append(f"keyring not used: {exc}")
        return
    try:
        found.take("username", store.username(), KEYRING)
        user = found.values.get("username", "")
        if not user:
            return
        found.take("password", store.get("password", user), KEYRING)
        if not _second(found):
            found.take("passkey", store.get("passkey", user), KEYRING)
            found.take("totp_secret", store.get("totp-secret", user), KEYRING)
    except KeyringUnavailable as exc:  # a backend that is there but failing: worth a line
        warn(f"warning: {exc}; going on without it")
        found.notes.append(f"keyring not used: {exc}")


def _from_pypirc(found: Found, index: Index, path: Path | None) -> None:
    from . import pypirc

    entry = pypirc.read(index, path)
    if entry is None:
        return
    where = f"~/.pypirc [{entry.section}]"
    found.take("username", entry.username, where)
    found.take("api_token", entry.api_token.reveal(), where)


def _credentials(found: Found, index: Index) -> Credentials:
    values = found.values
    passkey = None
    if values.get("passkey"):
        from .passkey import Passkey

        source = found.sources["passkey"]
        shown = "the security key in the keyring" if source == KEYRING else source
        passkey = Passkey.decode(values["passkey"], source=shown)
        passkey.check_index(index.url, source=shown)
    return Credentials(
        username=values.get("username", ""),
        password=Secret(values.get("password", "")),
        totp_secret=Secret(values.get("totp_secret", "")),
        totp_code=Secret(values.get("totp_code", "")),
        api_token=Secret(values.get("api_token", "")),
        passkey=passkey,
        sources=dict(found.sources),
        notes=tuple(found.notes),
    )


NAMES = {
    "username": "username", "password": "password", "totp_code": "TOTP code", "totp_secret": "TOTP secret",
    "passkey": "security key", "api_token": "API token",
}  # fmt: skip


def describe(credentials: Credentials, index: Index) -> str:
    """``credentials for pypi.org: username from the keyring, password from PYPI_PASSWORD``: for -v."""
    said = [
        f"{NAMES[name]} from {'the keyring' if source == KEYRING else 'a prompt' if source == PROMPT else source}"
        for name, source in credentials.sources.items()
    ]
    lines = [f"credentials for {index.host}: {', '.join(said) or 'none'}"]
    return "\n".join([*lines, *(f"  {note}" for note in credentials.notes)])
