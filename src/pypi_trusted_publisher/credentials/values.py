"""Credentials: what a login needs, each secret value a :class:`Secret`, and where each value came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core.secret import Secret

if TYPE_CHECKING:
    from .passkey import Passkey


@dataclass(frozen=True, repr=False)
class Credentials:
    username: str = ""
    password: Secret = field(default_factory=lambda: Secret(""))
    totp_secret: Secret = field(default_factory=lambda: Secret(""))
    totp_code: Secret = field(default_factory=lambda: Secret(""))
    api_token: Secret = field(default_factory=lambda: Secret(""))
    # A software security key: used instead of the TOTP code when given (no new-IP e-mail).
    passkey: Passkey | None = None
    # Where each value came from ("PYPI_PASSWORD", "keyring", "~/.pypirc [pypi]", "prompt"), never the value.
    sources: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # sources that were skipped, and why (for -v)

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, secrets=***)"

    def secrets(self) -> list[str]:
        """Every secret value, for masking."""
        values = (self.password, self.totp_secret, self.totp_code, self.api_token)
        found = [s.reveal() for s in values if s]
        if self.passkey is not None:
            found += [self.passkey.encode().reveal(), *self.passkey.secrets()]
        return found
