"""New-IP confirmation: getting PyPI's emailed confirm-login link back to us.

PyPI sends a 6-hour login link when a TOTP login comes from an IP it does not
know (docs/protocol/new-ip.md). Where that link comes from depends on where we run:
a maintainer pastes it in a terminal; the GitHub Action collects it from an
issue comment. The engine asks a :class:`ConfirmationProvider` and validates
whatever it returns with :func:`check_confirm_link` before opening it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from ...core.errors import RegistrationFailed
from ...core.indexes import Index
from ...core.secret import Secret

CONFIRM_PATH = "/account/confirm-login/"
# What to do when no link came, where the tool runs on the maintainer's machine.
TERMINAL_ADVICE = (
    "Open that link from this same machine (or run the CLI in a terminal and paste it), then run this again."
)


@dataclass(frozen=True)
class ConfirmationRequest:
    index: Index
    username: str

    @property
    def email_subject(self) -> str:
        """The e-mail's subject after the site's name in brackets ([PyPI], [TestPyPI] …), which varies."""
        return "Unrecognized login to your PyPI account"


class ConfirmationProvider(Protocol):
    # What the user can do when no link came: it depends on where the tool runs.
    advice: str

    def confirm_link(self, request: ConfirmationRequest) -> Secret | None:
        """Return the confirm link, or None when nobody can provide it now."""


class NoConfirmation:
    """Non-interactive runs: report ``needs-confirmation`` with instructions."""

    def __init__(self, advice: str = TERMINAL_ADVICE) -> None:
        self.advice = advice

    def confirm_link(self, request: ConfirmationRequest) -> Secret | None:
        return None


def check_confirm_link(link: Secret, index: Index) -> Secret:
    """Accept only ``<index>/account/confirm-login/?token=…`` on the index's host."""
    parts = urlsplit(link.reveal().strip())
    expected = urlsplit(index.page(CONFIRM_PATH))
    token = parse_qs(parts.query).get("token", [""])[0]
    if (
        parts.scheme != expected.scheme
        or parts.netloc.lower() != expected.netloc.lower()
        or parts.path != expected.path
        or not token
    ):
        raise RegistrationFailed(
            "bad-confirm-link",
            f"The confirmation link must look like {index.url}{CONFIRM_PATH}?token=…; "
            "a link to another host or path is never opened.",
        )
    return Secret(f"{index.page(CONFIRM_PATH)}?{urlencode({'token': token})}")
