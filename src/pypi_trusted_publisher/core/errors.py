"""Exceptions that carry a user-facing message and a stable reason code."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input, found before any network call (exit 2)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class RegistrationFailed(Exception):
    """The index refused or we could not complete the flow (exit 1).

    ``reason`` is a short machine-readable code (``wrong-password``,
    ``not-owner`` …) that appears in JSON and step outputs.
    """

    def __init__(self, reason: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after = retry_after


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cancelled runner, ``kill``), raised where the process is, so that every clean-up written for
    Ctrl-C runs for it too; the command then exits 143 instead of 130."""


class Stopped(Exception):
    """An interruption that was already reported, with how to go on; the command exits with ``exit_code``."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(exit_code)
        self.exit_code = exit_code
