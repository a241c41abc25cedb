"""How Warehouse's refusals become reason codes: by structure first, by phrase second.

Warehouse says *where* a problem is before it says what: an inline error sits in the ``<field>-errors`` block of
the field it is about, a flash has a level (``notification-bar--danger`` is an error), a status code has a meaning
(docs/protocol/errors.md#where). Each rule names that place and a phrase that tells apart what one place can say,
and the anchor in docs/protocol/errors.md that records Warehouse's text. A rule matches a text found in its own place
first; only when no rule does (a page whose structure moved) are the phrases tried on every text, as a fallback that
never guesses more than the phrase itself says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .pages import Flash

FORM = ""  # errors of the form as a whole, not of one field


@dataclass(frozen=True)
class Rule:
    where: str  # a field name, FORM, or a flash level ("error", "warning")
    phrase: str  # lower case; matched as a substring
    reason: str
    anchor: str  # docs/protocol/errors.md#<anchor>
    advice: str = ""


@dataclass(frozen=True)
class Match:
    rule: Rule
    text: str  # Warehouse's text that matched

    @property
    def reason(self) -> str:
        return self.rule.reason


def classify(rules: Sequence[Rule], found: Mapping[str, Sequence[str]]) -> Match | None:
    """The first rule whose phrase is in a text of its own place, else the first whose phrase is anywhere."""
    for rule in rules:
        for text in found.get(rule.where, ()):
            if rule.phrase in text.lower():
                return Match(rule, text)
    every = [text for texts in found.values() for text in texts]
    for rule in rules:
        for text in every:
            if rule.phrase in text.lower():
                return Match(rule, text)
    return None


# POST /account/login/ answered 200 with inline errors (docs/protocol/errors.md#login).
LOGIN = (
    Rule("password", "too many unsuccessful login attempts", "locked-out", "login-locked-out"),
    Rule("password", "password is invalid", "wrong-password", "login-wrong-password"),
    Rule("password", "breach", "password-breached", "login-password-breached"),
    Rule("password", "compromised", "password-breached", "login-password-breached"),
    Rule("username", "no user found", "unknown-user", "login-unknown-user"),
    Rule("username", "not the same as email addresses", "username-is-email", "login-username-is-email"),
)

# Inline errors of a refused publisher form (docs/protocol/errors.md#field-reasons).
FIELD = (
    Rule("owner", "unknown github user", "unknown-owner", "field-unknown-owner", "Check the GitHub owner's spelling."),
    Rule(
        "project_name",
        "this project already exists:",
        "project-exists-owner",
        "field-project-exists-owner",
        "You own it: register on the project page.",
    ),
    Rule(
        "project_name",
        "this project already exists",
        "project-exists",
        "field-project-exists",
        "The name is taken; choose another name.",
    ),
    Rule(
        "project_name", "too similar", "name-too-similar", "field-name-too-similar", "Choose a more distinctive name."
    ),
    Rule("project_name", "isn't allowed", "name-not-allowed", "field-name-not-allowed", "Choose another name."),
    Rule(
        "organization",
        "activestate",
        "activestate-lookup",
        "field-activestate-lookup",
        "Check the ActiveState organization and actor.",
    ),
    Rule(
        "actor",
        "activestate",
        "activestate-lookup",
        "field-activestate-lookup",
        "Check the ActiveState organization and actor.",
    ),
)

# Error flashes after a refused publisher form (docs/protocol/errors.md#flash-reasons).
FLASH = (
    Rule(
        "error",
        "temporarily disabled",
        "provider-disabled",
        "flash-provider-disabled",
        "An administrator disabled this kind of publisher.",
    ),
    Rule(
        "error",
        "more than 3 pending",
        "pending-limit",
        "flash-pending-limit",
        "Remove a pending publisher you no longer need.",
    ),
    Rule(
        "error",
        "for a different project name",
        "pending-other-name",
        "flash-pending-other-name",
        "One repository/workflow/environment can be pending for only one project name; "
        "use another environment for this package.",
    ),
    Rule(
        "error",
        "has already been registered",
        "already-registered-elsewhere",
        "flash-already-registered-elsewhere",
        "Someone else registered this pending publisher; contact PyPI's admins if that was not you.",
    ),
    Rule(
        "error",
        "verified email",
        "unverified-email",
        "flash-unverified-email",
        "Verify your primary email address on PyPI.",
    ),
)

# The same publisher appeared on the project page between our read and our POST: "exists", not a failure.
ALREADY_REGISTERED = (Rule("error", "is already registered with", "exists", "flash-exists"),)

# Error flashes after a security-device removal that did not happen (docs/protocol/errors.md#removal).
DEVICE_REMOVAL = (
    Rule("error", "cannot remove last 2fa method", "last-two-factor", "removal-last-two-factor"),
    Rule("error", "no security device to delete", "passkey-not-found", "removal-passkey-not-found"),
    Rule("error", "invalid credentials", "passkey-not-found", "removal-passkey-not-found"),
)

RULES = (*LOGIN, *FIELD, *FLASH, *ALREADY_REGISTERED, *DEVICE_REMOVAL)


def by_level(flashes: Iterable[Flash]) -> dict[str, list[str]]:
    """Flash texts grouped by level, the place a flash rule names."""
    grouped: dict[str, list[str]] = {}
    for flash in flashes:
        grouped.setdefault(flash.level, []).append(flash.text)
    return grouped
