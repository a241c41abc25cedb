"""The OS keyring, where ``login`` keeps what a workstation needs to log in again.

``keyring`` is a soft dependency (the ``keyring`` extra), imported only when a
credential is still missing after the options and the environment, so neither
start-up nor CI pays for it. In GitHub Actions it is never consulted: a runner
has no keyring of its own, and secrets there come from the workflow.

One index, one set of entries; each is a (service, key) pair a keyring viewer
shows as it is::

    pypi-trusted-publisher https://pypi.org            <username> → password
    pypi-trusted-publisher https://pypi.org passkey    <username> → security key string
    pypi-trusted-publisher https://pypi.org totp-secret <username> → TOTP secret (only when asked)
    pypi-trusted-publisher https://pypi.org username   default    → <username>
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core.indexes import Index

SERVICE = "pypi-trusted-publisher"
KINDS = ("password", "passkey", "totp-secret")  # in the order they are shown
INSTALL = "pip install 'pypi-trusted-publisher[keyring]'"


class KeyringUnavailable(Exception):
    """No usable keyring: one line saying why and what to do."""


@dataclass
class KeyringStore:
    index: Index
    backend: Any  # a keyring.backend.KeyringBackend

    @classmethod
    def open(cls, index: Index, env: Mapping[str, str]) -> KeyringStore:
        """The keyring for ``index``, or :class:`KeyringUnavailable` when there is none to use."""
        if env.get("GITHUB_ACTIONS"):
            raise KeyringUnavailable("the keyring is not used in GitHub Actions; pass secrets as inputs")
        try:
            import keyring
            from keyring.backends import fail, null
        except ImportError:
            raise KeyringUnavailable(f"the keyring package is not installed ({INSTALL})") from None
        try:
            backend = keyring.get_keyring()
        except Exception as exc:  # a broken PYTHON_KEYRING_BACKEND or keyringrc.cfg
            raise KeyringUnavailable(f"the keyring could not be loaded ({_why(exc)})") from None
        if isinstance(backend, null.Keyring):
            raise KeyringUnavailable("the keyring is turned off (keyring's null backend is configured)")
        if isinstance(backend, fail.Keyring):
            raise KeyringUnavailable(
                "no keyring backend is available here (on a Linux box without a desktop session, install one "
                "such as keyrings.alt, or use environment variables)"
            )
        return cls(index, backend)

    @property
    def name(self) -> str:
        """The backend's name, for messages: ``SecretService Keyring``."""
        return str(getattr(self.backend, "name", type(self.backend).__name__))

    def service(self, kind: str = "password") -> str:
        base = f"{SERVICE} {self.index.url}"
        return base if kind == "password" else f"{base} {kind}"

    def username(self) -> str:
        return self._get(self.service("username"), "default")

    def get(self, kind: str, username: str) -> str:
        return self._get(self.service(kind), username)

    def store(self, username: str, values: Mapping[str, str]) -> None:
        """Store ``values`` (kind → secret) for ``username`` and make it the default account; drop other kinds.

        One account per index: another account's entries go first, so ``logout`` never leaves a password behind.
        """
        previous = self.username()
        if previous and previous != username:
            self._remove(previous)
        try:
            for kind in KINDS:
                if values.get(kind):
                    self.backend.set_password(self.service(kind), username, values[kind])
                else:
                    self._delete(self.service(kind), username)
            self.backend.set_password(self.service("username"), "default", username)
        except Exception as exc:
            raise KeyringUnavailable(f"the keyring refused to store ({_why(exc)})") from None

    def forget(self) -> tuple[str, list[str]]:
        """Remove every entry of the default account; its username and the kinds that were there."""
        username = self.username()
        return (username, self._remove(username)) if username else ("", [])

    def _remove(self, username: str) -> list[str]:
        """Delete ``username``'s entries and the default-account entry; the kinds that were there."""
        removed = [kind for kind in KINDS if self._delete(self.service(kind), username)]
        self._delete(self.service("username"), "default")
        return removed

    def _get(self, service: str, key: str) -> str:
        try:
            return self.backend.get_password(service, key) or ""
        except Exception as exc:
            raise KeyringUnavailable(f"the keyring could not be read ({_why(exc)})") from None

    def _delete(self, service: str, key: str) -> bool:
        from keyring.errors import PasswordDeleteError

        if not self._get(service, key):
            return False
        try:
            self.backend.delete_password(service, key)
        except PasswordDeleteError:
            return False
        except Exception as exc:
            raise KeyringUnavailable(f"the keyring refused to delete ({_why(exc)})") from None
        return True


def _why(exc: Exception) -> str:
    """A backend error: keyring's own errors with their first line, any other by name only (a D-Bus or OS
    error's text is not ours to vet)."""
    from keyring.errors import KeyringError

    text = str(exc).splitlines()[0][:120] if isinstance(exc, KeyringError) and str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
