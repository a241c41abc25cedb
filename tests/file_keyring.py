"""Keyring backends for tests, chosen with ``PYTHON_KEYRING_BACKEND`` (no OS keyring is touched).

``file_keyring.FileKeyring`` keeps entries as JSON in the file ``PTP_TEST_KEYRING`` names, so a test can
read what a CLI subprocess stored; ``file_keyring.LockedKeyring`` fails every call, like a locked or
unreachable Secret Service. Subprocesses find this module through ``PYTHONPATH`` (see :func:`keyring_env`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError

HERE = Path(__file__).parent


def keyring_env(path: Path, backend: str = "FileKeyring") -> dict[str, str]:
    """The environment a CLI subprocess needs to use this backend on ``path``."""
    return {
        "PYTHON_KEYRING_BACKEND": f"file_keyring.{backend}",
        "PTP_TEST_KEYRING": str(path),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH", "")])),
    }


def entries(path: Path) -> dict[str, str]:
    """``{"service\\x00key": value}`` as stored."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    @property
    def path(self) -> Path:
        return Path(os.environ["PTP_TEST_KEYRING"])

    def get_password(self, service: str, username: str) -> str | None:
        return entries(self.path).get(f"{service}\x00{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        stored = entries(self.path)
        stored[f"{service}\x00{username}"] = password
        self.path.write_text(json.dumps(stored), encoding="utf-8")

    def delete_password(self, service: str, username: str) -> None:
        stored = entries(self.path)
        if stored.pop(f"{service}\x00{username}", None) is None:
            raise PasswordDeleteError("not found")
        self.path.write_text(json.dumps(stored), encoding="utf-8")


class LockedKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("the collection is locked")
