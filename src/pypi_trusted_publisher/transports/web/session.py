"""The logged-in Warehouse session: login, TOTP, new-IP confirmation, reauth.

See docs/protocol/login.md, new-ip.md and reauth.md. The request sequence is the minimal one
observed on a real server (docs/protocol/login.md#sequence): GET login, POST login, POST the two-factor URL from the
Location header (no GET of the two-factor page), then the target page.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from ...core.errors import RegistrationFailed
from ...core.secret import Secret
from ...core.waits import Wait, Waiter, quietly
from ...core.wording import sentences
from ...credentials.values import Credentials
from . import refusals
from .confirm import ConfirmationProvider, ConfirmationRequest, check_confirm_link
from .http import GET_ATTEMPTS, Http, retry_after_seconds
from .pages import Flash, Page, PageChanged

LOGIN = "/account/login/"
TWO_FACTOR = "/account/two-factor/"
CONFIRM = "/account/confirm-login/"
REAUTH = "/account/reauthenticate/"
FLASHES = "/_includes/unauthed/flash-messages/"
WEBAUTHN_OPTIONS = "/account/webauthn-authenticate/options"
WEBAUTHN_VALIDATE = "/account/webauthn-authenticate/validate"
EXPIRED_TWO_FACTOR = "invalid or expired two factor login"
TOTP_STEP = 30
# Refusals of the two-factor token (older than the account's last login) to ride out per login
# (docs/protocol/login.md#same-second).
TOKEN_REFUSALS = 2


class NeedsConfirmation(Exception):
    """PyPI wants the emailed confirm-login link and nobody could provide it."""


class _StartOver(Exception):
    """A new code is due: log in again, so the two-factor token is minted after the wait."""


@dataclass
class TotpSource:
    """Where TOTP codes come from: the secret, a one-time code, or a prompt.

    At most two codes per login (the 2FA limit is 5 failures per 5 minutes):
    the second only when the first was rejected, and from a secret only once
    the 30-second step has moved on, so it is a different code. PyPI answers a
    wrong code and a reused one alike (a code serves one login, docs/protocol/login.md#totp-reuse), so every
    rejection waits for the next step, and ``waiter`` tells the user so.
    """

    secret: Secret = field(default_factory=lambda: Secret(""))
    code: Secret = field(default_factory=lambda: Secret(""))
    prompt: Callable[[], str] | None = None
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    waiter: Waiter = quietly
    rejections: int = 0

    def current(self) -> Secret:
        """The code to send now, still wrapped: it is revealed only in the request that carries it."""
        if self.secret:
            return self._from_secret()
        if self.code:
            return self.code
        if self.prompt is not None:
            return Secret(self.prompt())
        raise RegistrationFailed(
            "missing-totp",
            "PyPI asks for a two-factor code: set PYPI_TOTP_SECRET, pass --totp-code, "
            "or run in a terminal to be prompted.",
        )

    def reject(self, errors: list[str]) -> None:
        """PyPI refused the code: wait until a new one exists, or raise when there is no honest retry."""
        self.rejections += 1
        renewable = bool(self.secret) or (self.prompt is not None and not self.code)
        if self.rejections > 1 or not renewable:
            raise RegistrationFailed(
                "totp-invalid",
                "PyPI rejected the two-factor code ("
                + ("; ".join(errors) or "no reason given")
                + "). Check PYPI_TOTP_SECRET and the clock; PyPI also refuses a code that another login used "
                "(such as a command running at the same time).",
            )
        if self.secret:
            wait = TOTP_STEP - self.clock() % TOTP_STEP + 1
            why = (
                "PyPI refused the two-factor code: it is wrong, or a login in the last 30 s already used it "
                "(PyPI takes each code once)."
            )
            self.waiter(Wait(wait, "the next code", why), self.sleep)

    def _from_secret(self) -> Secret:
        import pyotp

        try:
            return Secret(pyotp.TOTP(self.secret.reveal().replace(" ", "").upper()).at(self.clock()))
        except (ValueError, TypeError):
            raise RegistrationFailed(
                "bad-totp-secret", "PYPI_TOTP_SECRET is not a valid base32 TOTP secret (PyPI's are 32 characters)."
            ) from None


class WebSession:
    def __init__(
        self,
        http: Http,
        credentials: Credentials,
        totp: TotpSource,
        confirmer: ConfirmationProvider,
        sleep: Callable[[float], None] = time.sleep,
        waiter: Waiter = quietly,
    ) -> None:
        self.http = http
        self.credentials = credentials
        self.totp = totp
        self.confirmer = confirmer
        self.sleep = sleep
        self.waiter = waiter
        self.logged_in = False
        # The second factor of the last login: "security-key", "totp" or "none" (an account PyPI let in without).
        self.second_factor = ""

    # -- login ------------------------------------------------------------

    def login(self, next_path: str = "/manage/account/publishing/") -> None:
        if not self.credentials.username or not self.credentials.password:
            raise RegistrationFailed(
                "missing-credentials",
                "Logging in to the index needs PYPI_USERNAME and PYPI_PASSWORD (or PYPI_API_TOKEN "
                "where the index serves the token API).",
            )
        refusals = 0
        while True:
            try:
                if self._login_once(next_path):
                    self.logged_in = True
                    return
            except _StartOver:
                continue
            # docs/protocol/login.md#same-second: the two-factor token carries its whole second
            # and is refused when older than the account's last login, e.g. one that ended earlier in
            # the same second (a command run right after another). Neither 2FA nor login limits count
            # it; a new second clears it.
            refusals += 1
            if refusals > TOKEN_REFUSALS:
                raise RegistrationFailed(
                    "two-factor-expired",
                    "PyPI refused the two-factor step as an expired login "
                    f"{refusals} times (another login of this account at the same moment?).",
                )
            why = "PyPI refused the login as older than the account's last login (one in the same second)."
            self.waiter(Wait(1.0, "a new second to log in again", why), self.sleep)

    def _login_once(self, next_path: str) -> bool:
        page = self._page(self.http.get(f"{LOGIN}?{urlencode({'next': next_path})}"), "login page")
        if page is None:
            return True  # already logged in: 303 away from the login page
        page.form_with("csrf_token", "username", "password", action=LOGIN)  # what the POST fills, or page-changed
        csrf = page.csrf_token()
        response = self.http.post(
            LOGIN,
            {
                "csrf_token": csrf,
                "username": self.credentials.username,
                "password": self.credentials.password,
                "next": next_path,
            },
        )
        if response.status_code == 303:
            location = self.http.location(response)
            if location.startswith(TWO_FACTOR):
                if self.credentials.passkey is not None:
                    return self._security_key(location, csrf)
                return self._two_factor(location, csrf)
            self.second_factor = "none"
            return True  # remembered device: logged in directly
        if response.status_code == 429:
            raise self._rate_limited(response, "login")
        if response.status_code == 200:
            errors = Page(response.text).errors_by_field()
            text = " ".join(text for texts in errors.values() for text in texts)
            match = refusals.classify(refusals.LOGIN, errors)
            reason = match.reason if match else "login-failed"
            raise RegistrationFailed(reason, f"PyPI refused the login: {text or 'no reason given'}")
        raise self.unexpected(response, "login")

    def _two_factor(self, url: str, csrf: str) -> bool:
        code = self.totp.current()
        response = self.http.post(url, {"csrf_token": csrf, "totp_value": code})
        if response.status_code == 303:
            location = self.http.location(response)
            if location.startswith(CONFIRM):
                self._confirm_new_ip()
                self.second_factor = "totp"
                return True
            # Back to the login page: "Invalid or expired two factor login." (docs/protocol/errors.md#two-factor).
            if location.startswith(LOGIN):
                return False
            self.second_factor = "totp"
            return True
        if response.status_code == 429:
            raise self._rate_limited(response, "two-factor")
        if response.status_code != 200:
            raise self.unexpected(response, "two-factor")
        self.totp.reject(Page(response.text).field_errors())
        # A token minted before that wait would be refused if any login of the account landed meanwhile.
        raise _StartOver

    def _security_key(self, url: str, csrf: str) -> bool:
        """A WebAuthn assertion in place of the TOTP code; PyPI confirms a new IP at once for it.

        See docs/protocol/security-keys.md#login.

        One assertion per login: a refused one counts against PyPI's two-factor limit, so it is never retried.
        Only an expired two-factor token (the same-second race, docs/protocol/login.md#same-second) lets
        :meth:`login` try again.
        """
        from ...credentials.passkey import PasskeyRefused

        key = self.credentials.passkey
        assert key is not None
        token = urlsplit(url).query
        options = self.json_reply(self.http.get(f"{WEBAUTHN_OPTIONS}?{token}"), "security-key login")
        refusal = fail_text(options)
        if refusal is not None:
            if EXPIRED_TWO_FACTOR in refusal.lower():
                return False
            raise RegistrationFailed("passkey-refused", f"PyPI refused the security-key login: {refusal}")
        try:
            credential = key.assertion(options)
        except PasskeyRefused as exc:
            raise RegistrationFailed(exc.reason, exc.message) from None
        response = self.http.post(
            f"{WEBAUTHN_VALIDATE}?{token}", {"csrf_token": csrf, "credential": json.dumps(credential)}
        )
        if response.status_code == 429:
            raise self._rate_limited(response, "two-factor")
        reply = self.json_reply(response, "security-key login")
        refusal = fail_text(reply)
        if refusal is None and "success" in reply:
            self.second_factor = "security-key"
            return True
        if refusal is not None and EXPIRED_TWO_FACTOR in refusal.lower():
            return False
        raise RegistrationFailed(
            "passkey-refused",
            f"PyPI refused the security key {key.label!r} ({refusal or 'no reason given'}): it was removed from "
            "the account, or the string belongs to another account. It was not tried again: each refusal counts "
            "against PyPI's two-factor limit.",
        )

    def json_reply(self, response: httpx.Response, what: str) -> dict[str, Any]:
        """The JSON object of a WebAuthn endpoint, else an unexpected response.

        Always HTTP 200 (docs/protocol/security-keys.md#enrolment-replies).
        """
        if response.status_code == 429:
            raise self._rate_limited(response, "page")
        if response.status_code == 303 and self.http.location(response).startswith(LOGIN):
            raise self.logged_out()
        try:
            body = response.json() if response.status_code == 200 else None
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise self.unexpected(response, what)
        return body

    def _confirm_new_ip(self) -> None:
        request = ConfirmationRequest(self.http.index, self.credentials.username)
        link = self.confirmer.confirm_link(request)
        if link is None:
            raise NeedsConfirmation()
        link = check_confirm_link(link, self.http.index)
        self.http.fresh_cookies()
        response = self.http.get(link)
        if response.status_code == 303 and not self.http.location(response).startswith(LOGIN):
            return
        flashes = self.flashes()
        text = "; ".join(f.text for f in flashes if f.level == "error") or "the link was refused"
        raise RegistrationFailed(
            "confirmation-failed",
            sentences(
                f"PyPI did not accept the confirmation link: {text}",
                "The link only works from the IP address that logged in, within 6 hours.",
            ),
        )

    # -- pages --------------------------------------------------------------

    def flashes(self) -> list[Flash]:
        response = self.http.get(FLASHES)
        if response.status_code != 200:  # the flash endpoint moved: what PyPI said cannot be read
            raise PageChanged(f"the flash messages answered HTTP {response.status_code}", "flash endpoint")
        return Page(response.text, "flash endpoint").flashes()

    def open(self, path: str, *, attempts: int = GET_ATTEMPTS) -> tuple[int, Page]:
        """GET a manage page, doing reauthentication when it asks; 200/403/404 and the page."""
        response = self.http.get(path, attempts=attempts)
        page = self._manage_response(response, path)
        if page.is_reauth():
            self.reauthenticate(page)
            page = self._manage_response(self.http.get(path, attempts=attempts), path)
            if page.is_reauth():
                raise RegistrationFailed(
                    "reauth-failed", "PyPI asked to confirm the password again and refused it."
                )
        return response.status_code, page

    def reauthenticate(self, page: Page) -> None:
        fields = page.reauth_fields()
        response = self.http.post(REAUTH, {**fields, "password": self.credentials.password})
        if response.status_code != 303:
            raise self.unexpected(response, "reauthentication")

    def _manage_response(self, response: httpx.Response, path: str) -> Page:
        status = response.status_code
        if status in (200, 403, 404):
            return Page(response.text, f"page {path.split('?')[0]}")
        if status == 303:
            location = self.http.location(response)
            if location.startswith(LOGIN):
                raise self.logged_out()
            if location.startswith("/manage/unverified-account/"):
                raise RegistrationFailed(
                    "unverified-email",
                    "PyPI requires a verified primary email address before publishers can be managed.",
                )
            if location.startswith("/manage/account/two-factor/"):
                raise RegistrationFailed(
                    "no-2fa", "PyPI requires two-factor authentication on the account for this."
                )
            if location.startswith("/manage/organizations/"):
                raise RegistrationFailed(
                    "organization-inactive",
                    "The organization's billing is inactive, so its publishing page is unavailable.",
                )
        if status == 429:
            raise self._rate_limited(response, "page")
        raise self.unexpected(response, path)

    def _page(self, response: httpx.Response, what: str) -> Page | None:
        if response.status_code == 200:
            return Page(response.text, what)
        if response.status_code == 303:
            self.http.location(response)  # refuses a redirect to another host
            return None
        raise self.unexpected(response, what)

    def _rate_limited(self, response: httpx.Response, what: str) -> RegistrationFailed:
        wait = retry_after_seconds(response)
        after = f" Try again in {wait} seconds." if wait is not None else " Try again later."
        reason = "rate-limited" if what == "page" else "locked-out"
        return RegistrationFailed(
            reason, f"PyPI rate-limited the {what} step (HTTP 429).{after}", retry_after=wait
        )

    def logged_out(self) -> RegistrationFailed:
        return RegistrationFailed("logged-out", "PyPI sent us back to the login page: the session was not accepted.")

    def unexpected(self, response: httpx.Response, what: str) -> RegistrationFailed:
        return RegistrationFailed(
            "unexpected-response",
            f"Unexpected HTTP {response.status_code} from {self.http.index.host} during {what}; "
            "Warehouse may have changed.",
        )


def fail_text(reply: dict[str, Any]) -> str | None:
    """The errors of a ``{"fail": {"errors": [...]}}`` reply, or None when it is not a failure."""
    fail = reply.get("fail")
    if fail is None:
        return None
    errors = fail.get("errors") if isinstance(fail, dict) else None
    texts = [str(e) for e in errors] if isinstance(errors, list) else []
    return "; ".join(texts) or "no reason given"


__all__ = ["NeedsConfirmation", "PageChanged", "TotpSource", "WebSession"]
