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
