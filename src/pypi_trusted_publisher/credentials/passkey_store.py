"""Where a newly enrolled security key goes: a new file, a GitHub secret, the OS keyring, or standard output.

The user chooses explicitly, and the choice is checked before any network call: a file is created (mode 0600, never
over an existing file) before the key is enrolled, ``gh`` must be on PATH, the keyring must open, and standard output
is used only when it is not a terminal. The key string is never printed, logged or put in a JSON result.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from ..core.errors import RegistrationFailed, UsageError
from ..core.secret import Secret
from ..core.wording import capitalized
from .passkey import ENV as DEFAULT_SECRET_NAME

if TYPE_CHECKING:
    from ..core.indexes import Index
    from .keyring_store import KeyringStore
    from .values import Credentials

REPOSITORY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+")
SECRET_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class StoreFailed(Exception):
    """The key could not be handed over; the caller removes it from the account again."""


class KeyStore(Protocol):
    def put(self, key: Secret) -> None: ...

    def abandon(self) -> None:
        """Undo what :func:`choose` prepared, when no key will come."""

    def describe(self) -> dict[str, str]:
        """Where the key went, for the result (never the key)."""


@dataclass
class FileStore:
    path: Path
    _fd: int | None = None

    def reserve(self) -> FileStore:
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise UsageError(f"--output {self.path} exists; the key is never written over a file", "output") from None
        except OSError as exc:
            raise UsageError(f"--output {self.path}: {exc.strerror}", "output") from None
        return self

    def put(self, key: Secret) -> None:
        assert self._fd is not None
        try:
            with os.fdopen(self._fd, "w", encoding="ascii") as f:
                self._fd = None
                f.write(key.reveal() + "\n")
        except OSError as exc:
            self.abandon()
            raise StoreFailed(f"writing {self.path} failed: {exc.strerror}") from None

    def abandon(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.path.unlink(missing_ok=True)

    def describe(self) -> dict[str, str]:
        return {"kind": "file", "path": str(self.path)}


@dataclass
class GitHubSecretStore:
    repository: str
    environment: str
    name: str
    gh: str

    def put(self, key: Secret) -> None:
        command = [self.gh, "secret", "set", self.name, "--repo", self.repository]
        if self.environment:
            command += ["--env", self.environment]
        try:
            proc = subprocess.run(  # noqa: S603 - gh from PATH, value on stdin, never in argv
                command, input=key.reveal(), capture_output=True, text=True, timeout=120, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise StoreFailed(f"gh could not be run ({type(exc).__name__})") from None
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
            raise StoreFailed(f"gh secret set failed: {last}")

    def abandon(self) -> None:
        """Nothing was prepared."""

    def describe(self) -> dict[str, str]:
        where = {"kind": "github-secret", "repository": self.repository, "name": self.name}
        return where | ({"environment": self.environment} if self.environment else {})


@dataclass
class KeyringKeyStore:
    """The OS keyring, where ``login`` keeps a workstation's credentials: later commands there log in with the key.

    The key is stored with the password of the login that enrolled it, and replaces a stored TOTP secret: one
    second factor on the machine, the one that needs no code and no e-mailed link.
    """

    keyring: KeyringStore
    credentials: Credentials | None = None

    def put(self, key: Secret) -> None:
        from .keyring_store import KeyringUnavailable

        assert self.credentials is not None
        values = {"password": self.credentials.password.reveal(), "passkey": key.reveal()}
        try:
            self.keyring.store(self.credentials.username, values)
        except KeyringUnavailable as exc:
            raise StoreFailed(str(exc)) from None

    def abandon(self) -> None:
        """Nothing was prepared."""

    def describe(self) -> dict[str, str]:
        return {"kind": "keyring", "keyring": self.keyring.name}


@dataclass
class StdoutStore:
    out: TextIO

    def put(self, key: Secret) -> None:
        print(key.reveal(), file=self.out, flush=True)

    def abandon(self) -> None:
        """Nothing was prepared."""

    def describe(self) -> dict[str, str]:
        return {"kind": "stdout"}


def choose(
    *,
    output: str | None,
    github_secret: str | None,
    github_environment: str | None,
    secret_name: str | None,
    as_json: bool,
    keyring: Index | None = None,
    out: TextIO = sys.stdout,
) -> KeyStore:
    """The user's explicit choice, checked (and a file reserved, a keyring opened) before any network call."""
    if (github_environment or secret_name) and not github_secret:
        raise UsageError("--github-environment and --secret-name go with --github-secret OWNER/REPO", "github-secret")
    if output:
        return FileStore(Path(output)).reserve()
    if keyring is not None:
        from .keyring_store import KeyringStore, KeyringUnavailable

        try:
            return KeyringKeyStore(KeyringStore.open(keyring, os.environ))
        except KeyringUnavailable as exc:
            raise RegistrationFailed("no-keyring", f"{capitalized(str(exc))}; nothing was enrolled.") from None
    if github_secret:
        if not REPOSITORY_RE.fullmatch(github_secret):
            raise UsageError(f"--github-secret must look like OWNER/REPO, got {github_secret!r}", "github-secret")
        name = secret_name or DEFAULT_SECRET_NAME
        if not SECRET_NAME_RE.fullmatch(name) or name.upper().startswith("GITHUB_"):
            raise UsageError(
                f"--secret-name {name!r} is not a valid GitHub secret name (letters, digits and _, not starting "
                "with a digit or GITHUB_)",
                "secret-name",
            )
        gh = shutil.which("gh")
        if gh is None:
            raise UsageError("--github-secret needs the GitHub CLI (gh) on PATH; install it, or use --output FILE",
                             "github-secret")
        return GitHubSecretStore(github_secret, (github_environment or "").strip(), name, gh)
    if out.isatty():
        raise UsageError(
            "say where the key goes: --output FILE, --github-secret OWNER/REPO or --keyring (it is never shown on a "
            "terminal)",
            "output",
        )
    if as_json:
        raise UsageError("--json and the key on standard output do not mix; use --output FILE or --github-secret",
                         "output")
    return StdoutStore(out)
