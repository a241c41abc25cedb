"""The account's security devices: enrol a software key, list devices, remove one (docs/protocol/security-keys.md).

Enrolment follows the site's own order rather than the JSON endpoints' leniency: the provision page first, and when
PyPI sends the user to recovery codes, nothing is enrolled. Every change is verified on the account page.
"""

from __future__ import annotations

import json

from ...core.errors import RegistrationFailed
from ...credentials.passkey import Passkey, PasskeyRefused
from . import refusals
from .pages import Page
from .session import LOGIN, WebSession, fail_text

ACCOUNT = "/manage/account/"
PROVISION = "/manage/account/webauthn-provision"
OPTIONS = f"{PROVISION}/options"
VALIDATE = f"{PROVISION}/validate"
DELETE = f"{PROVISION}/delete"
RECOVERY_CODES = "/manage/account/recovery-codes/"
PROVISION_FORM = "webauthn-provision-form"
PROVISION_BUTTON = "webauthn-provision-begin"


class RecoveryCodesFirst(RegistrationFailed):
    """PyPI wants recovery codes generated and confirmed before a second kind of two-factor method."""

    def __init__(self, page_url: str, account_url: str) -> None:
        super().__init__(
            "recovery-codes-first",
            "PyPI asks for recovery codes before a security device can be added; nothing was enrolled. Open "
            f"{account_url}, press 'Generate recovery codes', store them somewhere safe, then confirm one of them "
            f"where PyPI asks ({page_url}), and run this command again.",
        )


class SecurityDevices:
    """Security devices of the logged-in account, through one :class:`WebSession`."""

    def __init__(self, session: WebSession) -> None:
        self.session = session

    def _account(self) -> dict[str, str]:
        if not self.session.logged_in:
            self.session.login(ACCOUNT)
        _, page = self.session.open(ACCOUNT)
        return page.security_devices()

    def labels(self) -> list[str]:
        return list(self._account())

    def enrol(self, key: Passkey) -> None:
        """Add ``key`` under its label; raises RegistrationFailed with PyPI's reason when it is refused."""
        if key.label in self._account():
            raise RegistrationFailed("label-in-use", f"Label {key.label!r} already in use on the account.")
        http = self.session.http
        response = http.get(PROVISION)
        if response.status_code == 303:
            location = http.location(response)
            if location.startswith(RECOVERY_CODES):
                raise RecoveryCodesFirst(http.index.page(location), http.index.page(ACCOUNT))
            if location.startswith(LOGIN):
                raise self.session.logged_out()
        if response.status_code != 200:
            raise self.session.unexpected(response, "security-device set-up")
        page = Page(response.text, "security-device set-up page")
        if "label" not in page.form_field_names(PROVISION_FORM):
            raise page.changed(f"no {PROVISION_FORM!r} form with a label field")
        csrf = page.button_token(PROVISION_BUTTON)
        options = self.session.json_reply(http.get(OPTIONS), "security-device set-up")
        try:
            credential = key.attestation(options)
        except PasskeyRefused as exc:
            raise RegistrationFailed(exc.reason, exc.message) from None
        try:
            fields = {"csrf_token": csrf, "label": key.label, "credential": json.dumps(credential)}
            response = http.post(VALIDATE, fields)
        except RegistrationFailed as exc:
            # The POST may have landed: the account page decides (the label was free before).
            if exc.reason in ("timeout", "network") and key.label in self._account():
                return
            raise
        reply = self.session.json_reply(response, "security-device set-up")
        refusal = fail_text(reply)
        if refusal is not None:
            reason = "label-in-use" if "already in use" in refusal else "passkey-refused"
            raise RegistrationFailed(reason, f"PyPI refused the security device: {refusal.rstrip('.')}.")
        if key.label not in self._account():
            raise RegistrationFailed(
                "not-verified",
                f"PyPI answered that the device was set up, but {key.label!r} is not on the account page.",
            )

    def remove(self, label: str) -> None:
        """Remove the device called ``label``; verified on the account page."""
        devices = self._account()
        if label not in devices:
            listed = ", ".join(repr(name) for name in devices) or "none"
            raise RegistrationFailed(
                "passkey-not-found", f"The account has no security device called {label!r} (it has: {listed})."
            )
        http = self.session.http
        response = http.post(DELETE, {"csrf_token": devices[label], "label": label, "confirm_device_name": label})
        if response.status_code != 303:
            raise self.session.unexpected(response, "security-device removal")
        if label not in self._account():
            return
        flashes = refusals.by_level(self.session.flashes())
        texts = "; ".join(flashes.get("error", ()))
        match = refusals.classify(refusals.DEVICE_REMOVAL, {"error": flashes.get("error", [])})
        if match is None:
            raise RegistrationFailed("remove-failed", f"PyPI did not remove {label!r} ({texts or 'no message'}).")
        if match.reason == "last-two-factor":
            texts += " (PyPI never lets an account drop its last two-factor method; add another first)"
        raise RegistrationFailed(match.reason, f"PyPI did not remove {label!r}: {texts}.")
