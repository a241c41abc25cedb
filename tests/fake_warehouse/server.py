"""A strict stand-in for Warehouse's logged-in Trusted Publisher web flow.

Why it exists: the client has to survive everything pypi.org does to a scripted browser
(CSRF and Origin checks, 2FA with a one-time code that cannot be reused, new-device
e-mail confirmation bound to an IP, re-authentication, predicate-based form dispatch,
flash messages served from a separate endpoint, rate limits). Tests cannot use pypi.org,
so this server enforces those rules as ``docs/protocol/`` describes them (comments point to its
files and anchors), with Warehouse's exact messages and the
processing order of Pyramid's view pipeline:

    route -> context (project/organization lookup) -> view predicates (method and
    request parameter names) -> CSRF/Origin -> permission -> re-authentication -> view

A client that skips a step fails here as it would on the real site.

Only the standard library is used for serving (one ``ThreadingHTTPServer`` on 127.0.0.1,
in a daemon thread) plus ``pyotp`` for TOTP checks. All state sits behind one lock, so
tests may inspect and change it between requests. Every time-dependent rule reads
``FakeWarehouse.clock``, so tests move time instead of sleeping.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import sys
import threading
import time
import traceback
import unicodedata
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus, cookies
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, NamedTuple, Self
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pyotp

from . import templates as t
from .records import FIELD_NAMES, FakePublisher

if TYPE_CHECKING:
    from . import oidc

# --- Settings and messages (Warehouse defaults: docs/protocol/limits.md) -------------------------

REAUTH_SECONDS = 30 * 60
TWO_FACTOR_MAX_AGE = 300
CONFIRM_LOGIN_MAX_AGE = 6 * 3600
REMEMBER_DEVICE_SECONDS = 30 * 86400
SESSION_MAX_AGE = 12 * 3600
EMAIL_REPEAT_WINDOW = 15 * 60
PENDING_LIMIT = 3
REGISTRATION_WINDOW = 86400
LOGIN_USER_LIMITS = ((10, 300.0),)
LOGIN_IP_LIMITS = ((10, 300.0),)
TWO_FACTOR_USER_LIMITS = ((5, 300.0), (20, 3600.0), (50, 86400.0))
TWO_FACTOR_IP_LIMITS = ((10, 300.0), (50, 3600.0))
PHISHABLE_METHODS = frozenset({"totp"})

DEFAULT_USERNAME = "dana"
DEFAULT_PASSWORD = "fake-warehouse-password"
DEFAULT_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DEFAULT_EMAIL = "dana@example.com"

GITLAB_ISSUER = t.GITLAB_ISSUER
LOGIN_EMAIL_SUBJECT = "[PyPI] Unrecognized login to your PyPI account"

MSG_REQUIRED = "This field is required."
MSG_INVALID_PASSWORD = "The password is invalid. Try again."
MSG_EMAIL_AS_USERNAME = (
    "Usernames are not the same as email addresses. Enter your username instead of your email address."
)
MSG_LOCKED_OUT = (
    "There have been too many unsuccessful login attempts. You have been locked out for {time}. Please try again later."
)
MSG_BAD_2FA_TOKEN = "Invalid or expired two factor login."
MSG_DEVICE_MISMATCH = "Device details didn't match, please try again from the device you originally used to log in."
MSG_LOGIN_CONFIRMED = "Your login has been confirmed and this device is now recognized."
MSG_NOT_REGISTERED = "The trusted publisher could not be registered"
MSG_TOO_MANY_REGISTRATIONS = "There have been too many attempted trusted publisher registrations. Try again later."
MSG_PENDING_LIMIT = "You can't register more than 3 pending trusted publishers at once."
MSG_PENDING_EXISTS = (
    "This trusted publisher has already been registered. Please contact PyPI's admins if this wasn't intentional."
)
MSG_PENDING_OTHER_NAME = (
    "A pending trusted publisher matching this configuration has already been registered "
    "for a different project name. Please contact PyPI's admins if this wasn't intentional."
)
MSG_ORG_PENDING_EXISTS = (
    "This publisher has already been registered in your organization. See your existing pending publishers below."
)
MSG_BILLING_INACTIVE = (
    "This organization's billing is inactive. Activate billing to manage its projects, teams, and members."
)
MSG_UNVERIFIED = "You must verify your **primary** email address before you can perform this action."
MSG_NO_2FA = "Two-factor authentication must be enabled on your account to perform this action."

# Security keys (docs/protocol/security-keys.md): options as recorded (79, 89), the forms' messages.
WEBAUTHN_TIMEOUT = 60000
WEBAUTHN_ALGORITHMS = (-7, -8, -36, -37, -38, -39, -257, -258, -259)
WEBAUTHN_LABEL_MAX = 64
MSG_ALREADY_AUTHENTICATED = "Already authenticated"
MSG_KEY_ADDED = "Security device successfully set up"
MSG_KEY_REMOVED = "Security device removed"
MSG_NO_KEY_TO_DELETE = "There is no security device to delete"
MSG_LAST_2FA = "Cannot remove last 2FA method"
MSG_INVALID_CREDENTIALS = "Invalid credentials"
MSG_INVALID_WEBAUTHN = "Invalid WebAuthn credential"
MSG_ASSERTION_OK = "Successful WebAuthn assertion"
TWO_FACTOR_ADDED_SUBJECT = "[PyPI] Two-factor method added"
TWO_FACTOR_REMOVED_SUBJECT = "[PyPI] Two-factor method removed"
RECOVERY_REMINDER_SUBJECT = "[PyPI] Two-factor recovery codes are available"

_EXPLAIN_CSRF_TOKEN = (
    "Bad CSRF token received. Access is denied. This server can not verify that your "
    "cross-site request forgery token belongs to your login session. Either you supplied "
    "the wrong cross-site request forgery token or your session no longer exists. This may "
    "be due to session timeout or because browser is not supplying the credentials required, "
    "as can happen when the browser has cookies turned off."
)
_EXPLAIN_CSRF_ORIGIN = (
    "Bad CSRF Origin. Access is denied. This server can not verify that the origin or "
    "referrer of your request matches the current site. Either your browser supplied the "
    "wrong Origin or Referrer or it did not supply one at all."
)
_EXPLAIN_BAD_REQUEST = (
    "The server could not comply with the request since it is either malformed or otherwise incorrect."
)
_EXPLAIN_TOO_MANY = "The action could not be performed because there were too many requests by the client."

# --- Validation patterns (docs/protocol/validation.md) ----------------------------------------------------

_GITHUB_OWNER_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*$")
_GITHUB_REPO_RE = re.compile(r"^[a-zA-Z0-9-_.]+$")
_GITHUB_ENV_FORBIDDEN_RE = re.compile(r"[\x00-\x1F\x7F'\"`,;\\]")
_GITLAB_NAMESPACE_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-_./+]*[a-zA-Z0-9]$")
_GITLAB_PROJECT_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*[a-zA-Z0-9]$")
_GITLAB_NO_DOUBLE_SPECIALS_RE = re.compile(r"(?!.*[._-]{2})")
_GITLAB_ENV_RE = re.compile(r"^[a-zA-Z0-9\-_/${} ]+$")
_ACTIVESTATE_PROJECT_RE = re.compile(r"^[.a-zA-Z0-9-]{3,40}$")
_PROJECT_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])\Z", re.IGNORECASE | re.ASCII)
# wtforms' Email() delegates to email_validator; this keeps its everyday verdicts.
_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$"
)
_TOTP_RE = re.compile(r"^[0-9]{6}$")

_FORM_PARAMS = FIELD_NAMES
# View registration order in each Warehouse view class (the first match wins).
_PROJECT_KINDS = ("github", "gitlab", "google", "activestate")
_ACCOUNT_KINDS = ("google", "github", "activestate", "gitlab")
_RENDER_ORDER = ("github", "gitlab", "google", "activestate")

_ROUTE_PATTERNS = {
    "index": "/",
    "accounts.login": "/account/login/",
    "accounts.logout": "/account/logout/",
    "accounts.two-factor": "/account/two-factor/",
    "accounts.confirm-login": "/account/confirm-login/",
    "accounts.reauthenticate": "/account/reauthenticate/",
    "manage.projects": "/manage/projects/",
    "manage.account": "/manage/account/",
    "manage.organizations": "/manage/organizations/",
    "manage.unverified-account": "/manage/unverified-account/",
    "manage.account.two-factor": "/manage/account/two-factor/",
    "manage.account.publishing": "/manage/account/publishing/",
    "manage.project.settings.publishing": "/manage/project/{project_name}/settings/publishing/",
    "manage.organization.publishing": "/manage/organization/{organization_name}/publishing/",
    "manage.organization.projects": "/manage/organization/{organization_name}/projects/",
}
_PATH_SAFE = "~!$&'()*+,;=:@"
_SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
logger = logging.getLogger(__name__)


def normalize_name(name: str) -> str:
    """PEP 503 normalisation, as Warehouse's ``normalize_pep426_name``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def ultranormalize_name(name: str) -> str:
    """Warehouse's SQL ``ultranormalize_name``: the "too similar" comparison key."""
    folded = re.sub(r"[._-]", "", name)
    folded = re.sub(r"[lLiI]", "1", folded)
    return re.sub(r"[oO]", "0", folded).lower()


_STDLIB_NAMES = frozenset(normalize_name(name) for name in sys.stdlib_module_names)


def _natural_delta(seconds: float) -> str:
    """``humanize.naturaldelta`` for the lockout messages."""
    s = int(seconds)
    if s < 60:
        return "a second" if s == 1 else f"{max(s, 0)} seconds"
    for size, one, many in ((86400, "a day", "days"), (3600, "an hour", "hours")):
        if s >= size:
            return one if s < 2 * size else f"{s // size} {many}"
    return "a minute" if s < 120 else f"{s // 60} minutes"


# --- State -------------------------------------------------------------------------------------


@dataclass
class SecurityKey:
    """A WebAuthn credential as Warehouse stores it (``user_security_keys``): the credential id
    and the COSE public key as unpadded base64url, and the last accepted signature counter.
    ``id`` is the row's UUID, which the account page puts in the remove modal's id."""

    label: str
    credential_id: str
    public_key: str
    sign_count: int = 0
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class RecoveryCode:
    """One of the codes generated for an account; ``burned`` is when it was used (None: unused)."""

    code: str
    generated: float
    burned: float | None = None


@dataclass
class User:
    """An account. ``confirmed_ips`` are the IPs whose logins need no e-mail confirmation.
    ``has_2fa`` means an authentication application (TOTP); ``security_keys`` are the other
    second factor, so a user without TOTP but with a key still has two-factor authentication."""

    username: str
    password: str
    totp_secret: str
    email: str
    confirmed_ips: set[str]
    verified_email: bool = True
    has_2fa: bool = True
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    last_login: float | None = None
    last_totp_value: str | None = None
    security_keys: list[SecurityKey] = field(default_factory=list)
    recovery_codes: list[RecoveryCode] = field(default_factory=list)

    @property
    def has_two_factor(self) -> bool:
        """``User.has_two_factor``: TOTP or at least one security key."""
        return self.has_2fa or bool(self.security_keys)

    @property
    def has_single_2fa(self) -> bool:
        """``User.has_single_2fa``: removing this one method would leave no second factor."""
        return not self.security_keys if self.has_2fa else len(self.security_keys) == 1

    @property
    def has_recovery_codes(self) -> bool:
        """Warehouse's ``has_recovery_codes``: some generated code is still unused."""
        return any(code.burned is None for code in self.recovery_codes)

    @property
    def has_burned_recovery_codes(self) -> bool:
        """Some code was used once: the proof that the codes were stored, asked before a key."""
        return any(code.burned is not None for code in self.recovery_codes)


@dataclass
class PublisherRecord:
    """A project publisher row. Warehouse shares one row between projects with the same
    configuration, so the same record (and id) can sit in several projects' lists.
    ``external_id`` is what the server looked up: GitHub's owner id, ActiveState's actor id."""

    id: str
    publisher: FakePublisher
    external_id: str = ""


@dataclass
class PendingPublisherRecord:
    """A pending publisher, added from the account page or an organization page."""

    id: str
    project_name: str
    publisher: FakePublisher
    added_by: str
    organization: str | None = None
    external_id: str = ""
    created: float = 0.0


@dataclass
class Project:
    name: str
    owners: list[str]
    maintainers: list[str]
    has_releases: bool = False
    organization: str | None = None
    publishers: list[PublisherRecord] = field(default_factory=list)
    # The latest release's metadata as the JSON API shows it (``info.project_urls``, ``info.home_page``).
    project_urls: dict[str, str] = field(default_factory=dict)
    home_page: str | None = None
    # Lifecycle "quarantine-enter": Owners keep their role but lose ProjectsWrite.
    quarantined: bool = False


@dataclass
class Organization:
    name: str
    owners: list[str]
    active: bool = True
    # Members with another role (Manager, Member, Billing Manager): they may read the organization's pages.
    members: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Email:
    """A sent e-mail; ``confirm_url`` is the link of an unrecognized-login mail."""

    to: str
    subject: str
    body: str
    confirm_url: str
    sent_at: float


class RequestRecord(NamedTuple):
    """One served request (status 0: the connection was dropped by ``fail_next``)."""

    method: str
    path: str
    status: int
    client_ip: str


@dataclass
class _Fault:
    method: str
    path_prefix: str
    status: int
    headers: Mapping[str, str]
    body: str
    times: int
    drop_connection: bool


@dataclass
class _UniqueLogin:
    """Warehouse's ``UserUniqueLogin`` row for a not-yet-confirmed (user, IP) pair."""

    id: int
    user_id: str
    ip: str
    expires: float


@dataclass
class _Session:
    id: str
    csrf_token: str | None = None
    username: str | None = None
    auth_timestamp: float | None = None
    flashes: dict[str, list[str]] = field(default_factory=dict)
    last_used: float = 0.0
    webauthn_challenge: bytes | None = None


class _HitLog:
    """Timestamps of counted events per key, enough for Warehouse's moving windows."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], list[float]] = {}

    def hit(self, key: tuple[str, str], now: float) -> None:
        self._hits.setdefault(key, []).append(now)

    def clear(self, key: tuple[str, str]) -> None:
        """``RateLimiter.clear``: the key's window starts empty again."""
        self._hits.pop(key, None)

    def blocked_for(self, key: tuple[str, str], limits: Iterable[tuple[int, float]], now: float) -> float | None:
        """Seconds until the oldest counted event leaves a full window; None if allowed."""
        hits = self._hits.get(key, [])
        for count, window in limits:
            recent = [at for at in hits if at > now - window]
            if len(recent) >= count:
                return min(recent, default=now) + window - now
        return None


class _TokenError(Exception):
    pass


class _TokenExpired(_TokenError):
    pass


class _Signer:
    """Signed, timestamped tokens in the shape of itsdangerous' (payload.timestamp.signature).

    Like Warehouse's token services, the timestamp has whole-second resolution: that is what
    makes two logins within one second fail (docs/protocol/login.md#same-second)."""

    def __init__(self, salt: str) -> None:
        self._key = secrets.token_bytes(32) + salt.encode()

    @staticmethod
    def _b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    @staticmethod
    def _unb64(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    def _sign(self, value: str) -> str:
        return self._b64(hmac.new(self._key, value.encode(), hashlib.sha512).digest())

    def dumps(self, payload: Mapping[str, Any], now: float) -> str:
        body = self._b64(json.dumps(payload, separators=(",", ":")).encode())
        value = f"{body}.{self._b64(int(now).to_bytes(8, 'big'))}"
        return f"{value}.{self._sign(value)}"

    def loads(self, token: str, max_age: float, now: float) -> tuple[dict[str, Any], int]:
        """Payload and issue second; a trailing ``=`` (base64 padding) is tolerated."""
        parts = token.rstrip("=").split(".")
        if len(parts) != 3 or not hmac.compare_digest(self._sign(f"{parts[0]}.{parts[1]}"), parts[2]):
            raise _TokenError
        try:
            payload = json.loads(self._unb64(parts[0]))
            issued = int.from_bytes(self._unb64(parts[1]), "big")
        except ValueError:
            raise _TokenError from None
        if not isinstance(payload, dict):
            raise _TokenError
        if now - issued > max_age:
            raise _TokenExpired
        return payload, issued


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=UTF-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    reason: str | None = None


class _Halt(Exception):
    """Ends request processing early with a ready response (redirects, 400, 403, 429 …)."""

    def __init__(self, response: _Response) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass
class _Checked:
    """A validated publisher form: wtforms-style errors, the field data to render back,
    and, when valid, the publisher as Warehouse would store it."""

    errors: dict[str, list[str]]
    values: dict[str, str]
    publisher: FakePublisher | None = None
    external_id: str = ""


class _Submitted:
    """Submitted values read like wtforms reads ``formdata``: the first raw value or None."""

    def __init__(self, source: Mapping[str, Sequence[str]]) -> None:
        self._source = source

    def raw(self, name: str) -> str | None:
        values = self._source.get(name)
        return values[0] if values else None


def _is_safe_url(url: str, host: str) -> bool:
    """Warehouse's ``is_safe_url``: relative, or absolute on this host."""
    url = url.strip().replace("\\", "/")
    if not url or url.startswith("///") or unicodedata.category(url[0])[0] == "C":
        return False
    parts = urlsplit(url)
    if parts.scheme and (not parts.netloc or parts.scheme not in ("http", "https")):
        return False
    return not parts.netloc or parts.netloc == host


def _route_path(name: str, matchdict: Mapping[str, Any], query: Mapping[str, Any]) -> str:
    """``request.route_path`` for the routes the fake knows; KeyError for anything else."""

    def segment(match: re.Match[str]) -> str:
        return quote(str(matchdict[match.group(1)]), safe=_PATH_SAFE)

    path = re.sub(r"\{(\w+)\}", segment, _ROUTE_PATTERNS[name])
    return f"{path}?{urlencode(query, doseq=True)}" if query else path


# --- Request handling ------------------------------------------------------------------------


class _View:
    """One request: parsing, the Pyramid-like pipeline helpers and every view."""

    def __init__(
        self,
        wh: FakeWarehouse,
        method: str,
        raw_path: str,
        headers: Mapping[str, str],
        body: bytes,
        client_ip: str,
    ) -> None:
        self.wh = wh
        self.now = wh.clock()
        self.method = method
        parts = urlsplit(raw_path)
        self.raw_path = parts.path
        self.path = unquote(parts.path)
        self.query = parts.query
        self.path_qs = raw_path
        self.headers = headers
        self.body = body
        self.client_ip = client_ip
        self.get = parse_qs(self.query, keep_blank_values=True)
        form_body = headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
        self.post = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True) if form_body else {}
        jar = cookies.SimpleCookie()
        try:
            jar.load(headers.get("Cookie", ""))
        except cookies.CookieError:
            jar = cookies.SimpleCookie()
        self.cookies = {name: morsel.value for name, morsel in jar.items()}
        self.incoming_sid = self.cookies.get("session_id", "")
        self.session = wh._live_session(self.incoming_sid, self.now)
        self.drop_session_cookie = False

    # -- plumbing ---------------------------------------------------------------------------

    def dispatch(self) -> _Response:
        try:
            response = self._route()
        except _Halt as halt:
            response = halt.response
        if self.session is not None:
            self.session.last_used = self.now
            if self.session.id != self.incoming_sid:
                response.headers.append(("Set-Cookie", f"session_id={self.session.id}; Path=/; HttpOnly; SameSite=lax"))
        elif self.drop_session_cookie:
            response.headers.append(("Set-Cookie", "session_id=; Max-Age=0; Path=/"))
        return response

    def _route(self) -> _Response:
        routes: tuple[tuple[str, Callable[..., _Response]], ...] = (
            (r"/", self.index),
            (r"/account/login/", self.login),
            (r"/account/logout/", self.logout),
            (r"/account/two-factor/", self.two_factor),
            (r"/account/confirm-login/", self.confirm_login),
            (r"/account/reauthenticate/", self.reauthenticate),
            (r"/account/webauthn-authenticate/options", self.webauthn_authenticate_options),
            (r"/account/webauthn-authenticate/validate", self.webauthn_authenticate_validate),
            (r"/_includes/unauthed/flash-messages/", self.flash_messages),
            (r"/manage/projects/", self.manage_projects),
            (r"/manage/organizations/", self.manage_organizations),
            (r"/manage/unverified-account/", self.unverified_account),
            (r"/manage/account/two-factor/", self.two_factor_setup),
            (r"/manage/account/", self.manage_account),
            (r"/manage/account/webauthn-provision", self.webauthn_provision),
            (r"/manage/account/webauthn-provision/options", self.webauthn_provision_options),
            (r"/manage/account/webauthn-provision/validate", self.webauthn_provision_validate),
            (r"/manage/account/webauthn-provision/delete", self.webauthn_provision_delete),
            (r"/manage/account/recovery-codes/burn", self.recovery_codes_burn),
            (r"/manage/account/publishing/", self.account_publishing),
            (r"/manage/project/(?P<name>[^/]+)/settings/publishing/", self.project_publishing),
            (r"/manage/organization/(?P<name>[^/]+)/publishing/", self.organization_publishing),
            (r"/manage/organization/(?P<name>[^/]+)/projects/", self.organization_projects),
            (r"/pypi/(?P<name>[^/]+)/json(?P<slash>/?)", self.pypi_json),
            (r"/simple/(?P<name>[^/]+)/", self.simple_detail),
            (r"/_/oidc/audience", self.oidc_audience),
            (r"/_/oidc/mint-token", self.oidc_mint_token),
            (r"/_/oidc/github/mint-token", self.oidc_mint_token),
            (r"/danger-api/echo", self.api_echo),
            (r"/danger-api/projects/(?P<name>[^/]+)/trusted-publishers", self.api_publishers),
            (
                r"/danger-api/projects/(?P<name>[^/]+)/trusted-publishers/(?P<publisher_id>[^/]+)",
                self.api_publisher,
            ),
        )
        for pattern, view in routes:
            match = re.fullmatch(pattern, self.path)
            if match:
                return view(**match.groupdict())
        return self.error(404)

    @property
    def user(self) -> User | None:
        if self.session is None or self.session.username is None:
            return None
        return self.wh.users.get(self.session.username)

    @property
    def is_get(self) -> bool:
        return self.method in ("GET", "HEAD")

    def param_names(self) -> set[str]:
        return set(self.get) | set(self.post)

    def url(self, location: str) -> str:
        return self.wh.url + location if location.startswith("/") else location

    def html(self, body: str, status: int = 200) -> _Response:
        return _Response(status, body.encode())

    def json(self, payload: Any, status: int = 200, headers: Sequence[tuple[str, str]] = ()) -> _Response:
        return _Response(status, json.dumps(payload).encode(), "application/json", list(headers))

    def error(self, code: int) -> _Response:
        return self.html(t.error_page(code), code)

    def redirect(self, location: str, status: int = 303) -> _Response:
        """Location is absolute (docs/protocol/session.md#redirects); the body shows it as the view gave it."""
        body = t.redirect_body(location, f"{status} {HTTPStatus(status).phrase}")
        return _Response(status, body.encode(), headers=[("Location", self.url(location))])

    def ensure_session(self) -> _Session:
        if self.session is None:
            self.session = self.wh._new_session(self.now)
        return self.session

    def csrf_token(self) -> str:
        session = self.ensure_session()
        if session.csrf_token is None:
            session.csrf_token = secrets.token_urlsafe(32)
        return session.csrf_token

    def flash(self, message: str, queue: str = "error") -> None:
        self.ensure_session().flashes.setdefault(queue, []).append(message)

    def login_url(self) -> str:
        return f"/account/login/?{urlencode({'next': self.path_qs})}"

    # -- pipeline steps (docs/protocol/session.md, reauth.md) --------------------------------------

    def check_csrf(self) -> None:
        """Pyramid's CSRF deriver for unsafe methods: Origin first, then the token."""
        if self.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        if self.wh.require_origin:
            origin = self.headers.get("Origin")
            if origin is None:
                origin = self.headers.get("Referer", "")
            if not origin:
                self._bad_request(_EXPLAIN_CSRF_ORIGIN, "Origin checking failed - missing Origin or Referer.")
            parts = urlsplit(origin)
            if f"{parts.scheme}://{parts.netloc}" != self.wh.url:
                self._bad_request(
                    _EXPLAIN_CSRF_ORIGIN,
                    f"Origin checking failed - {origin} does not match any trusted origins.",
                )
        supplied = self.headers.get("X-CSRF-Token", "") or (self.post.get("csrf_token") or [""])[0]
        expected = self.session.csrf_token if self.session else None
        if not expected or not hmac.compare_digest(supplied.encode(), expected.encode()):
            self._bad_request(_EXPLAIN_CSRF_TOKEN, "check_csrf_token(): Invalid token")

    def _bad_request(self, explanation: str, detail: str) -> None:
        raise _Halt(self.html(t.webob_error("400 Bad Request", explanation, detail), 400))

    def select(
        self,
        get_view: Callable[[], _Response],
        post_views: Sequence[tuple[Sequence[str], Callable[[], _Response]]],
    ) -> Callable[[], _Response]:
        """View lookup by method and ``request_param`` names (any value, even empty)."""
        if self.is_get:
            return get_view
        if self.method == "POST":
            names = self.param_names()
            for params, view in post_views:
                if set(params) <= names:
                    return view
        return self.predicate_mismatch()

    def predicate_mismatch(self) -> _Response:
        """No view matches: the forbidden view answers 404, or the login page when logged out."""
        if self.user is None:
            raise _Halt(self.redirect(self.url(self.login_url())))
        raise _Halt(self.error(404))

    def authorize(
        self,
        allowed: Callable[[User], bool] = lambda user: True,
        *,
        verified: bool = True,
        two_factor: bool = True,
    ) -> User:
        """Warehouse's session policy: login, then the ACL, then e-mail and 2FA.

        See docs/protocol/session.md#manage-responses.
        """
        user = self.user
        if user is None:
            raise _Halt(self.redirect(self.url(self.login_url())))
        if not allowed(user):
            raise _Halt(self.error(403))
        query = urlencode({"next": self.path_qs})
        if verified and not user.verified_email:
            self.flash(MSG_UNVERIFIED)
            raise _Halt(self.redirect(self.url(f"/manage/unverified-account/?{query}")))
        if two_factor and not user.has_two_factor:
            self.flash(MSG_NO_2FA)
            raise _Halt(self.redirect(self.url(f"/manage/account/two-factor/?{query}")))
        return user

    def reauth_page(self, route: str, matchdict: Mapping[str, Any]) -> _Response | None:
        """The 200 "Confirm password" page once the window has passed; the view never runs."""
        session = self.ensure_session()
        stamp = session.auth_timestamp
        if stamp is not None and self.now - stamp < self.wh.reauth_seconds:
            return None
        mixed = {k: v[0] if len(v) == 1 else v for k, v in self.get.items()}
        return self.html(
            t.reauth_page(
                csrf_token=self.csrf_token(),
                next_route=route,
                matchdict=json.dumps(dict(matchdict)),
                query=json.dumps(mixed),
            )
        )

    def login_user(self, user: User, method: str) -> None:
        """``_login_user``: new session id (data kept), new CSRF token, reauth window starts."""
        old = self.session
        if old is not None:
            self.wh._sessions.pop(old.id, None)
        session = self.wh._new_session(self.now)
        if old is not None and old.username in (None, user.username):
            session.flashes = old.flashes
            session.webauthn_challenge = old.webauthn_challenge
        session.username = user.username
        session.csrf_token = secrets.token_urlsafe(32)
        session.auth_timestamp = self.now
        self.session = session
        user.last_login = self.now
        if method not in PHISHABLE_METHODS:
            user.confirmed_ips.add(self.client_ip)

    # -- rate limits ---------------------------------------------------------------------------

    def check_password(self, user: User, password: str) -> str | None:
        """``check_password``: lockout first, then the hash; failures count (docs/protocol/login.md#login-form)."""
        for key, limits in (
            (("login-ip", self.client_ip), LOGIN_IP_LIMITS),
            (("login-user", user.id), LOGIN_USER_LIMITS),
        ):
            blocked = self.wh._hits.blocked_for(key, limits, self.now)
            if blocked is not None:
                return MSG_LOCKED_OUT.format(time=_natural_delta(blocked))
        if hmac.compare_digest(password.encode(), user.password.encode()):
            return None
        self.wh._hits.hit(("login-user", user.id), self.now)
        self.wh._hits.hit(("login-ip", self.client_ip), self.now)
        return MSG_INVALID_PASSWORD

    def check_totp(self, user: User, value: str) -> bool:
        """``check_totp_value``: 2FA limits (429), reuse, then ±1 step; failures count."""
        self.check_two_factor_limits(user)
        if user.last_totp_value is not None and value == user.last_totp_value:
            return False
        totp = pyotp.TOTP(user.totp_secret)
        if any(totp.verify(value, for_time=self.now + step) for step in (0, -30, 30)):
            return True
        self.hit_two_factor_limits(user)
        return False

    def check_two_factor_limits(self, user: User) -> None:
        """``_check_2fa_ratelimits``: per IP, then per user; a 429 once a window is full."""
        for key, limits in (
            (("2fa-ip", self.client_ip), TWO_FACTOR_IP_LIMITS),
            (("2fa-user", user.id), TWO_FACTOR_USER_LIMITS),
        ):
            blocked = self.wh._hits.blocked_for(key, limits, self.now)
            if blocked is not None:
                message = MSG_LOCKED_OUT.format(time=_natural_delta(blocked))
                status = "429 Too Many Failed Login Attempts"
                raise _Halt(
                    _Response(
                        429,
                        t.webob_error(status, _EXPLAIN_TOO_MANY, message).encode(),
                        headers=[("Retry-After", str(int(blocked)))],
                        reason="Too Many Failed Login Attempts",
                    )
                )

    def hit_two_factor_limits(self, user: User) -> None:
        """A failed second factor (TOTP, recovery code, security key) counts per user and IP."""
        self.wh._hits.hit(("2fa-user", user.id), self.now)
        self.wh._hits.hit(("2fa-ip", self.client_ip), self.now)

    def check_registration_limits(self, user: User) -> _Response | None:
        """The registration limiters: tested per user, then per IP, before any hit.

        See docs/protocol/limits.md#registration-limits.
        """
        limits = ((self.wh.registration_limit, float(REGISTRATION_WINDOW)),)
        for key in (("register-user", user.id), ("register-ip", self.client_ip)):
            if self.wh._hits.blocked_for(key, limits, self.now) is not None:
                return self.too_many_registrations()
        return None

    def too_many_registrations(self) -> _Response:
        body = t.webob_error("429 Too Many Requests", _EXPLAIN_TOO_MANY, MSG_TOO_MANY_REGISTRATIONS)
        return _Response(429, body.encode(), headers=[("Retry-After", str(self.wh.registration_retry_after))])

    def hit_registration(self, user: User) -> None:
        self.wh._hits.hit(("register-user", user.id), self.now)
        self.wh._hits.hit(("register-ip", self.client_ip), self.now)

    # -- simple pages --------------------------------------------------------------------------

    def index(self) -> _Response:
        self.check_csrf()
        return self.html(t.simple_page("The Python Package Index", "Find, install and publish"))

    def flash_messages(self) -> _Response:
        """Pops the session's messages (docs/protocol/session.md#flashes)."""
        self.check_csrf()
        if self.session is None:
            return self.html("")
        flashes, self.session.flashes = self.session.flashes, {}
        return self.html(t.flash_fragment(flashes))

    def manage_projects(self) -> _Response:
        """Projects with a role of the user's, and those of organizations the user owns (``user_projects``)."""
        self.check_csrf()
        user = self.authorize()
        listed = [p for p in self.wh.projects.values() if self.wh._has_role(p, user) or self.wh._owns(p, user)]
        return self.html(t.projects_page(self._snippets(listed, user)))

    def _snippets(self, projects: Iterable[Project], user: User) -> list[t.ProjectSnippet]:
        """Newest first, as Warehouse sorts them; here, the order they were added in, reversed. Manage is a link
        for the projects the user owns (``projects_owned``), also quarantined ones."""
        return [
            t.ProjectSnippet(
                p.name, self.wh._owns(p, user), p.has_releases, p.organization or "", self.wh._sole_owner(p, user)
            )
            for p in reversed(list(projects))
        ]

    def organization_projects(self, name: str) -> _Response:
        """``manage.organization.projects``: readable by every member, Manage only where the user may write."""
        org = self.wh._find_organization(name)
        if org is None:
            return self.error(404)
        view = self.select(lambda: self._render_organization_projects(org), [])
        if not org.active:
            return self.inactive_organization()
        self.check_csrf()
        self.authorize(lambda user: user.username in org.owners or user.username in org.members)
        reauth = self.reauth_page("manage.organization.projects", {"organization_name": name, "traverse": [name]})
        return reauth or view()

    def inactive_organization(self) -> _Response:
        """``require_active_organization``: back to the organizations list, with one flash."""
        session = self.ensure_session()
        if MSG_BILLING_INACTIVE not in session.flashes.get("error", []):
            self.flash(MSG_BILLING_INACTIVE)
        return self.redirect("/manage/organizations/")

    def _render_organization_projects(self, org: Organization) -> _Response:
        user = self.authorize()
        projects = [p for p in self.wh.projects.values() if p.organization == org.name]
        return self.html(t.organization_projects_page(org.name, self._snippets(projects, user)))

    def manage_organizations(self) -> _Response:
        self.check_csrf()
        user = self.authorize()
        names = [o.name for o in self.wh.organizations.values() if user.username in o.owners]
        body = "".join(f"      <p>{t.esc(name)}</p>\n" for name in names)
        return self.html(t.simple_page("Your organizations", "Your organizations", body))

    def unverified_account(self) -> _Response:
        self.check_csrf()
        self.authorize(verified=False, two_factor=False)
        return self.html(t.simple_page("Verify your email", "Verify your email to continue"))

    def two_factor_setup(self) -> _Response:
        self.check_csrf()
        self.authorize(two_factor=False)
        return self.html(t.simple_page("Two-factor authentication", "Two-factor authentication"))

    # -- authentication (docs/protocol/login.md) ---------------------------------------------------

    def login(self) -> _Response:
        self.check_csrf()
        if self.user is not None:
            return self.redirect("/manage/projects/")
        redirect_to = (self.post.get("next") or self.get.get("next") or [""])[0]
        errors: dict[str, list[str]] = {}
        username = (self.post.get("username") or [""])[0]
        if self.method == "POST":
            user, errors = self._validate_login()
            if user is not None and not errors:
                if not user.has_two_factor or self._remembered(user):
                    host = self.headers.get("Host", "")
                    if not redirect_to or not _is_safe_url(redirect_to, host):
                        redirect_to = "/manage/projects/"
                    self.login_user(user, "remembered-device" if user.has_two_factor else "password")
                    return self.redirect(redirect_to)
                data = {"userid": user.id} | ({"redirect_to": redirect_to} if redirect_to else {})
                token = self.wh._signers["two_factor"].dumps(data, self.now)
                return self.redirect(f"/account/two-factor/?{token}")
        action = "/account/login/" + (f"?{self.query}" if self.query else "")
        return self.html(
            t.login_page(
                action=action,
                csrf_token=self.csrf_token(),
                next_value=redirect_to,
                username=username.strip(),
                errors=errors,
            )
        )

    def _validate_login(self) -> tuple[User | None, dict[str, list[str]]]:
        errors: dict[str, list[str]] = {}
        user = None
        username = (self.post.get("username") or [""])[0]
        if not username:
            errors["username"] = [MSG_REQUIRED]
        elif "\x00" in username:
            errors["username"] = ["Null bytes are not allowed."]
        elif "@" in username.strip():
            errors["username"] = [MSG_EMAIL_AS_USERNAME]
        else:
            user = self.wh._find_user(username.strip())
            if user is None:
                errors["username"] = ["No user found with that username"]
        password = (self.post.get("password") or [""])[0]
        if not password:
            errors["password"] = [MSG_REQUIRED]
        elif "\x00" in password:
            errors["password"] = [MSG_INVALID_PASSWORD]
        elif len(password) > 4096:
            errors["password"] = ["Password too long."]
        elif user is not None:
            problem = self.check_password(user, password)
            if problem:
                errors["password"] = [problem]
        return user, errors

    def _remembered(self, user: User) -> bool:
        token = self.cookies.get("remember_device")
        if not token:
            return False
        try:
            data, _ = self.wh._signers["remember_device"].loads(token, REMEMBER_DEVICE_SECONDS, self.now)
        except _TokenError:
            return False
        return data.get("user_id") == user.id

    def two_factor(self) -> _Response:
        self.check_csrf()
        if self.user is not None:
            return self.redirect("/manage/projects/")
        found = self.two_factor_login()
        if found is None:
            self.flash(MSG_BAD_2FA_TOKEN)
            return self.redirect("/account/login/")
        user, redirect_to = found
        errors: list[str] = []
        if self.method == "POST":
            if not user.has_2fa:
                # Warehouse looks up the TOTP form it did not build for a key-only account.
                return self.html(t.error_page(500), 500)
            errors, code = self._validate_totp(user)
            if not errors:
                if self.client_ip not in user.confirmed_ips:
                    self._unrecognized_device(user)
                    return self.redirect("/account/confirm-login/")
                self.login_user(user, "totp")
                user.last_totp_value = code
                response = self.redirect(redirect_to)
                if self.remember_device_requested():
                    response.headers.append(self.remember_device_cookie(user))
                return response
        action = "/account/two-factor/?" + urlencode([(k, v) for k, values in self.get.items() for v in values])
        return self.html(
            t.two_factor_page(
                action=action,
                csrf_token=self.csrf_token(),
                errors=errors,
                has_totp=user.has_2fa,
                has_webauthn=bool(user.security_keys),
                recovery_query=self.query if user.has_recovery_codes else None,
            )
        )

    def two_factor_login(self) -> tuple[User, str] | None:
        """``_get_two_factor_data``: the user and safe ``redirect_to`` of the token that is the
        whole query string; None when it is invalid, expired or older than the last login."""
        try:
            data, issued = self.wh._signers["two_factor"].loads(self.query, TWO_FACTOR_MAX_AGE, self.now)
        except _TokenError:
            return None
        user = self.wh._user_by_id(data.get("userid"))
        if user is None or not user.has_two_factor:
            return None
        if user.last_login is not None and issued < user.last_login:
            return None
        redirect_to = data.get("redirect_to")
        if not isinstance(redirect_to, str) or not _is_safe_url(redirect_to, self.headers.get("Host", "")):
            redirect_to = "/"
        return user, redirect_to

    def remember_device_requested(self) -> bool:
        """wtforms' BooleanField: anything but absent, empty or "false" is true."""
        return (self.post.get("remember_device") or [""])[0] not in ("", "false")

    def remember_device_cookie(self, user: User) -> tuple[str, str]:
        """The ``remember_device`` cookie (docs/protocol/login.md#remember-device)."""
        token = self.wh._signers["remember_device"].dumps({"user_id": user.id}, self.now)
        return (
            "Set-Cookie",
            (
                f"remember_device={token}; Max-Age={REMEMBER_DEVICE_SECONDS}; "
                "Path=/account/login/; HttpOnly; SameSite=strict"
            ),
        )

    def _validate_totp(self, user: User) -> tuple[list[str], str]:
        raw = (self.post.get("totp_value") or [""])[0]
        if not raw:
            return [MSG_REQUIRED], ""
        code = "".join(raw.split())
        if "\x00" in code:
            return ["Null bytes are not allowed."], code
        errors = [] if _TOTP_RE.match(code) else ["TOTP code must be 6 digits."]
        if not self.check_totp(user, code):
            errors.append("Invalid TOTP code.")
        return errors, code

    def _unrecognized_device(self, user: User) -> None:
        """``device_is_known`` for an unconfirmed IP: pending row, token, e-mail.

        See docs/protocol/new-ip.md#device-check.
        """
        wh = self.wh
        row = wh._unique_logins.get((user.id, self.client_ip))
        is_new = row is None
        if row is None:
            row = _UniqueLogin(
                len(wh._unique_logins) + 1,
                user.id,
                self.client_ip,
                self.now + CONFIRM_LOGIN_MAX_AGE,
            )
            wh._unique_logins[(user.id, self.client_ip)] = row
        lapsed = row.expires < self.now
        if lapsed:
            row.expires = self.now + CONFIRM_LOGIN_MAX_AGE
        token = wh._signers["confirm_login"].dumps(
            {
                "action": "login-confirmation",
                "user.id": user.id,
                "user.last_login": str(user.last_login),
                "unique_login_id": row.id,
            },
            self.now,
        )
        recently_sent = any(
            mail.to == user.email
            and mail.subject == LOGIN_EMAIL_SUBJECT
            and self.now - mail.sent_at < EMAIL_REPEAT_WINDOW
            for mail in wh.outbox
        )
        if is_new or lapsed or not recently_sent:
            confirm_url = f"{wh.url}/account/confirm-login/?token={token}"
            body = t.unrecognized_login_email(
                confirm_url=confirm_url,
                ip_address=self.client_ip,
                user_agent=self.headers.get("User-Agent", ""),
            )
            wh.outbox.append(Email(user.email, LOGIN_EMAIL_SUBJECT, body, confirm_url, self.now))

    def confirm_login(self) -> _Response:
        """The e-mailed link: confirms the IP and logs *this* client in (docs/protocol/new-ip.md#link)."""
        self.check_csrf()
        if self.user is not None:
            return self.redirect("/")
        token = (self.get.get("token") or self.post.get("token") or [""])[0]
        if not token:
            return self.html(t.unrecognized_device_page())

        def fail(message: str) -> _Response:
            self.flash(message)
            return self.redirect("/account/login/")

        try:
            data, _ = self.wh._signers["confirm_login"].loads(token, CONFIRM_LOGIN_MAX_AGE, self.now)
        except _TokenExpired:
            return fail("Expired token: please try to login again")
        except _TokenError:
            return fail("Invalid token: please try to login again")
        if data.get("action") != "login-confirmation":
            return fail("Invalid token: not a login confirmation token")
        user = self.wh._user_by_id(data.get("user.id"))
        if user is None:
            return fail("Invalid token: user not found")
        row = next(
            (r for r in self.wh._unique_logins.values() if r.id == data.get("unique_login_id")),
            None,
        )
        if row is None:
            return fail("Invalid login attempt.")
        if row.ip != self.client_ip:
            return fail(MSG_DEVICE_MISMATCH)
        user.confirmed_ips.add(row.ip)
        self.login_user(user, "email-confirmation")
        self.flash(MSG_LOGIN_CONFIRMED, "success")
        return self.redirect("/manage/projects/")

    def reauthenticate(self) -> _Response:
        """``POST /account/reauthenticate/``: always a 303; stamps only on a right password."""
        self.check_csrf()
        user = self.user
        if user is None:
            return self.redirect("/account/login/")
        defaults = {
            "next_route": "accounts.reauthenticate",
            "next_route_matchdict": "{}",
            "next_route_query": json.dumps({k: v[0] if len(v) == 1 else v for k, v in self.get.items()}),
        }
        fields = {name: (self.post[name][0] if self.post.get(name) else default) for name, default in defaults.items()}
        if fields["next_route"] and fields["next_route_matchdict"]:
            try:
                matchdict = json.loads(fields["next_route_matchdict"])
                query = json.loads(fields["next_route_query"])
                if not isinstance(matchdict, dict) or not isinstance(query, dict):
                    raise TypeError
                location = _route_path(fields["next_route"], matchdict, query)
            except (ValueError, KeyError, TypeError):
                return self.html(t.webob_error("400 Bad Request", _EXPLAIN_BAD_REQUEST, ""), 400)
        else:
            location = "/manage/projects/"
        password = (self.post.get("password") or [""])[0]
        required = [password] + [(self.post.get(name) or [""])[0] for name in defaults]
        password_ok = bool(password) and self.check_password(user, password) is None
        if self.method == "POST" and all(required) and password_ok:
            self.ensure_session().auth_timestamp = self.now
        return self.redirect(location)

    def logout(self) -> _Response:
        self.check_csrf()
        redirect_to = (self.post.get("next") or self.get.get("next") or [""])[0]
        if not redirect_to or not _is_safe_url(redirect_to, self.headers.get("Host", "")):
            redirect_to = "/"
        user = self.user
        if user is None:
            return self.redirect(redirect_to)
        if self.method == "POST":
            if self.session is not None:
                self.wh._sessions.pop(self.session.id, None)
            self.session = None
            self.drop_session_cookie = True
            return self.redirect(redirect_to)
        next_value = (self.get.get("next") or [""])[0]
        return self.html(t.logout_page(self.csrf_token(), user.username, next_value))

    # -- account page and security keys (docs/protocol/security-keys.md) ---------------------------

    def renderer_json(self, payload: Any) -> _Response:
        """Pyramid's ``json`` renderer as recorded: sorted keys, no spaces, always 200."""
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return _Response(200, body.encode(), "application/json")

    def json_fail(self, *errors: str) -> _Response:
        return self.renderer_json({"fail": {"errors": list(errors)}})

    def webauthn_origin(self) -> tuple[str, str]:
        """``request.host_url`` and ``request.domain``: the origin the browser puts in the
        client data and the relying-party id whose hash is in the authenticator data."""
        host = self.headers.get("Host") or urlsplit(self.wh.url).netloc
        return f"{urlsplit(self.wh.url).scheme}://{host}", urlsplit(f"//{host}").hostname or ""

    def webauthn_challenge(self) -> bytes:
        """The session's challenge: 64 random bytes, kept until a validate POST clears it."""
        session = self.ensure_session()
        if session.webauthn_challenge is None:
            session.webauthn_challenge = secrets.token_bytes(64)
        return session.webauthn_challenge

    def take_webauthn_challenge(self) -> bytes:
        """The challenge a validate POST checks against; the session forgets it at once."""
        challenge = self.webauthn_challenge()
        self.ensure_session().webauthn_challenge = None
        return challenge

    def send_mail(self, user: User, subject: str, body: str) -> None:
        self.wh.outbox.append(Email(user.email, subject, body, "", self.now))

    def account_view(
        self,
        get_view: Callable[[], _Response],
        post_views: Sequence[tuple[Sequence[str], Callable[[], _Response]]] = (),
    ) -> _Response:
        """The pipeline of the account's two-factor views (permission ``Account2FA``): a
        logged-in user with a verified e-mail, who need not have 2FA yet; no reauth."""
        view = self.select(get_view, post_views)
        self.check_csrf()
        self.authorize(two_factor=False)
        return view()

    def manage_account(self) -> _Response:
        view = self.select(self._render_manage_account, [])
        self.check_csrf()
        self.authorize(two_factor=False)
        return self.reauth_page("manage.account", {}) or view()

    def _render_manage_account(self) -> _Response:
        user = self.authorize(two_factor=False)
        generated = min((code.generated for code in user.recovery_codes), default=self.now)
        state = t.TwoFactorView(
            has_totp=user.has_2fa,
            keys=[(key.id, key.label) for key in user.security_keys],
            has_two_factor=user.has_two_factor,
            has_single_2fa=user.has_single_2fa,
            unused_recovery_codes=sum(code.burned is None for code in user.recovery_codes),
            recovery_codes_age=_natural_delta(self.now - generated),
            has_burned_recovery_codes=user.has_burned_recovery_codes,
        )
        return self.html(t.account_page(csrf_token=self.csrf_token(), username=user.username, two_factor=state))

    def recovery_codes_burn(self) -> _Response:
        """Where the provision page sends a user who never used a recovery code; the form's
        POST is not modelled (seed ``burned_recovery_codes`` instead)."""
        return self.account_view(self._render_recovery_codes_burn)

    def _render_recovery_codes_burn(self) -> _Response:
        user = self.authorize(two_factor=False)
        if not user.has_recovery_codes:
            return self.redirect("/manage/account/")
        if user.has_burned_recovery_codes:
            return self.redirect("/manage/account/two-factor/")
        return self.html(t.recovery_codes_burn_page(self.csrf_token(), self.raw_path))

    def webauthn_provision(self) -> _Response:
        return self.account_view(self._render_webauthn_provision)

    def _render_webauthn_provision(self) -> _Response:
        """Recovery codes first: only a user who has used one gets the page (recording 78)."""
        if not self.authorize(two_factor=False).has_burned_recovery_codes:
            return self.redirect("/manage/account/recovery-codes/burn")
        return self.html(t.webauthn_provision_page(self.csrf_token()))

    def webauthn_provision_options(self) -> _Response:
        return self.account_view(self._creation_options)

    def _creation_options(self) -> _Response:
        """``navigator.credentials.create()`` options (recording 79); no recovery-code check."""
        user = self.authorize(two_factor=False)
        _, rp_id = self.webauthn_origin()
        return self.renderer_json(
            {
                "attestation": "none",
                "authenticatorSelection": {
                    "requireResidentKey": False,
                    "userVerification": "discouraged",
                },
                "challenge": _Signer._b64(self.webauthn_challenge()),
                "excludeCredentials": [{"id": key.credential_id, "type": "public-key"} for key in user.security_keys],
                "pubKeyCredParams": [{"alg": alg, "type": "public-key"} for alg in WEBAUTHN_ALGORITHMS],
                "rp": {"id": rp_id, "name": t.SITE_NAME},
                "timeout": WEBAUTHN_TIMEOUT,
                "user": {
                    "displayName": user.username,
                    "id": _Signer._b64(user.id.encode()),
                    "name": user.username,
                },
            }
        )

    def webauthn_provision_validate(self) -> _Response:
        return self.account_view(self.predicate_mismatch, [(("label", "credential"), self._validate_provision)])

    def _validate_provision(self) -> _Response:
        """``ProvisionWebAuthnForm``: the credential's errors, then the label's, all in one
        200 JSON reply; the challenge is spent whatever the outcome."""
        user = self.authorize(two_factor=False)
        challenge = self.take_webauthn_challenge()
        form = _Submitted(self.post)
        errors: list[str] = []
        credential = form.raw("credential")
        verified = None
        if not credential:
            errors.append(MSG_REQUIRED)
        elif not _is_json(credential):
            errors.append("Invalid WebAuthn credential: Bad payload")
        else:
            verified, problem = self._verify_registration(credential, challenge)
            errors += [problem] if problem else []
        label = form.raw("label") or ""
        if not label:
            errors.append("Specify a label")
        else:
            if len(label) > WEBAUTHN_LABEL_MAX:
                errors.append(f"Label must be {WEBAUTHN_LABEL_MAX} characters or less")
            if any(key.label == label for key in user.security_keys):
                errors.append(f"Label '{label}' already in use")
        if errors or verified is None:
            return self.json_fail(*errors)
        user.security_keys.append(
            SecurityKey(
                label,
                _Signer._b64(verified.credential_id),
                _Signer._b64(verified.credential_public_key),
                verified.sign_count,
            )
        )
        self.flash(MSG_KEY_ADDED, "success")
        self.send_mail(user, TWO_FACTOR_ADDED_SUBJECT, t.two_factor_method_email(user.username))
        return self.renderer_json({"success": MSG_KEY_ADDED})

    def _verify_registration(self, credential: str, challenge: bytes) -> tuple[Any, str]:
        """py_webauthn with the challenge encoded twice and no user verification: the verified
        registration, or None and the message Warehouse shows (``str`` of the exception)."""
        import webauthn
        from webauthn.helpers.exceptions import WebAuthnException

        origin, rp_id = self.webauthn_origin()
        try:
            verified = webauthn.verify_registration_response(
                credential=credential,
                expected_challenge=_Signer._b64(challenge).encode(),
                expected_rp_id=rp_id,
                expected_origin=origin,
                require_user_verification=False,
            )
        except WebAuthnException as error:
            return None, str(error)
        stored = _Signer._b64(verified.credential_id)
        if any(k.credential_id == stored for u in self.wh.users.values() for k in u.security_keys):
            return None, "Credential ID already in use"
        return verified, ""

    def webauthn_provision_delete(self) -> _Response:
        return self.account_view(self.predicate_mismatch, [(("confirm_device_name",), self._delete_security_key)])

    def _delete_security_key(self) -> _Response:
        """``DeleteWebAuthnForm``: the key is chosen by ``label``; ``confirm_device_name`` must
        be sent but is never compared (recording 97). No password, no reauth."""
        user = self.authorize(two_factor=False)
        label = _Submitted(self.post).raw("label")
        key = next((k for k in user.security_keys if label and k.label == label), None)
        if not user.security_keys:
            self.flash(MSG_NO_KEY_TO_DELETE)
        elif user.has_single_2fa:
            self.flash(MSG_LAST_2FA)
        elif key is None:
            self.flash(MSG_INVALID_CREDENTIALS)
        else:
            user.security_keys.remove(key)
            self.flash(MSG_KEY_REMOVED, "success")
            body = t.two_factor_method_email(user.username, added=False)
            self.send_mail(user, TWO_FACTOR_REMOVED_SUBJECT, body)
        return self.redirect("/manage/account/")

    def webauthn_authenticate_options(self) -> _Response:
        view = self.select(self._assertion_options, [])
        self.check_csrf()
        return view()

    def key_login(self) -> tuple[User, str] | _Response:
        """Both login endpoints refuse a logged-in session, then an unusable token.

        See docs/protocol/login.md#two-factor-token.
        """
        if self.user is not None:
            return self.json_fail(MSG_ALREADY_AUTHENTICATED)
        found = self.two_factor_login()
        if found is None:
            self.flash(MSG_BAD_2FA_TOKEN)
            return self.json_fail(MSG_BAD_2FA_TOKEN)
        return found

    def _assertion_options(self) -> _Response:
        """``navigator.credentials.get()`` options for the user of the two-factor token."""
        found = self.key_login()
        if isinstance(found, _Response):
            return found
        user, _ = found
        _, rp_id = self.webauthn_origin()
        return self.renderer_json(
            {
                "allowCredentials": [{"id": key.credential_id, "type": "public-key"} for key in user.security_keys],
                "challenge": _Signer._b64(self.webauthn_challenge()),
                "rpId": rp_id,
                "timeout": WEBAUTHN_TIMEOUT,
                "userVerification": "discouraged",
            }
        )

    def webauthn_authenticate_validate(self) -> _Response:
        view = self.select(self.predicate_mismatch, [(("credential",), self._validate_assertion)])
        self.check_csrf()
        return view()

    def _validate_assertion(self) -> _Response:
        """A security-key login: not phishable, so the IP is confirmed at once.

        See docs/protocol/security-keys.md#login.
        """
        found = self.key_login()
        if isinstance(found, _Response):
            return found
        user, redirect_to = found
        challenge = self.take_webauthn_challenge()
        credential = _Submitted(self.post).raw("credential")
        if not credential:
            return self.json_fail(MSG_REQUIRED)
        if not _is_json(credential):
            return self.json_fail("Invalid WebAuthn assertion: Bad payload")
        self.check_two_factor_limits(user)
        verified = self._verify_assertion(user, credential, challenge)
        if verified is None:
            self.hit_two_factor_limits(user)
            return self.json_fail(MSG_INVALID_WEBAUTHN)
        used = _Signer._b64(verified.credential_id)
        key = next((k for k in user.security_keys if k.credential_id == used), None)
        if key is None:
            # One of the user's keys signed, but the id names none of them: Warehouse finds
            # no row to update the counter of and fails with a server error.
            return self.html(t.error_page(500), 500)
        key.sign_count = verified.new_sign_count
        self.login_user(user, "webauthn")
        response = self.renderer_json({"redirect_to": redirect_to, "success": MSG_ASSERTION_OK})
        digest = hashlib.blake2b(user.id.encode("ascii"), person=b"warehouse.userid")
        response.headers.append(("Set-Cookie", f"user_id__insecure={digest.hexdigest()}; Path=/"))
        if not user.has_recovery_codes:
            generate_url = f"{self.wh.url}/manage/account/recovery-codes/generate"
            body = t.recovery_code_reminder_email(user.username, generate_url)
            self.send_mail(user, RECOVERY_REMINDER_SUBJECT, body)
        if self.remember_device_requested():
            response.headers.append(self.remember_device_cookie(user))
        return response

    def _verify_assertion(self, user: User, credential: str, challenge: bytes) -> Any:
        """Warehouse tries each of the user's public keys with its stored counter (py_webauthn
        refuses a counter that is not above a non-zero stored one); None if none verifies."""
        import webauthn
        from webauthn.helpers.exceptions import WebAuthnException

        origin, rp_id = self.webauthn_origin()
        for key in user.security_keys:
            try:
                return webauthn.verify_authentication_response(
                    credential=credential,
                    expected_challenge=_Signer._b64(challenge).encode(),
                    expected_rp_id=rp_id,
                    expected_origin=origin,
                    credential_public_key=_Signer._unb64(key.public_key),
                    credential_current_sign_count=key.sign_count,
                    require_user_verification=False,
                )
            except WebAuthnException:
                continue
        return None

    # -- publisher form validation (docs/protocol/validation.md) -----------------------------------

    def validate(
        self,
        kind: str,
        source: Mapping[str, Sequence[str]],
        *,
        normalize_gitlab_environment: bool = True,
    ) -> _Checked:
        """Run one publisher form's validators with wtforms' semantics (every field is
        validated; ``InputRequired`` stops a field's chain, other failures accumulate)."""
        form = _Submitted(source)
        checked = _Checked({}, {})
        validators: dict[str, Callable[[], tuple[FakePublisher, str]]] = {
            "github": lambda: self._validate_github(form, checked),
            "gitlab": lambda: self._validate_gitlab(form, checked, normalize_gitlab_environment),
            "google": lambda: self._validate_google(form, checked),
            "activestate": lambda: self._validate_activestate(form, checked),
        }
        result = validators[kind]()
        if not checked.errors:
            checked.publisher, checked.external_id = result
        return checked

    @staticmethod
    def _required(form: _Submitted, checked: _Checked, name: str, message: str) -> str | None:
        """``InputRequired``: stops the field's chain; returns the value when present."""
        value = form.raw(name)
        checked.values[name] = value or ""
        if not value:
            checked.errors[name] = [message]
            return None
        return value

    def _validate_github(self, form: _Submitted, checked: _Checked) -> tuple[FakePublisher, str]:
        login, owner_id = "", ""
        owner = self._required(form, checked, "owner", "Specify GitHub repository owner (username or organization)")
        if owner is not None:
            if not _GITHUB_OWNER_RE.match(owner):
                checked.errors["owner"] = ["Invalid GitHub user or organization name."]
            else:
                found = self.wh._github_owner(owner)
                if found is None:
                    checked.errors["owner"] = ["Unknown GitHub user or organization."]
                else:
                    login, owner_id = found[0], str(found[1])
        repository = self._required(form, checked, "repository", "Specify repository name")
        if repository is not None and not _GITHUB_REPO_RE.match(repository):
            checked.errors["repository"] = ["Invalid repository name"]
        workflow = self._workflow(
            form,
            checked,
            "workflow_filename",
            "Specify workflow filename",
            _github_workflow_problem,
        )
        environment = form.raw("environment") or ""
        checked.values["environment"] = environment
        # Optional(): a blank or whitespace-only value skips the checks.
        if environment.strip() and (problem := _github_environment_problem(environment)):
            checked.errors["environment"] = [problem]
        publisher = FakePublisher.github(login, repository or "", workflow, environment.lower())
        return publisher, owner_id

    def _workflow(
        self,
        form: _Submitted,
        checked: _Checked,
        name: str,
        required: str,
        problem: Callable[[str], str | None],
    ) -> str:
        """A stripped workflow path: ``InputRequired`` sees the raw value, the check the
        stripped one, so "  " passes the first and fails the second."""
        raw = form.raw(name)
        value = raw.strip() if raw else ""
        checked.values[name] = value
        if not raw:
            checked.errors[name] = [required]
        elif message := problem(value):
            checked.errors[name] = [message]
        return value

    def _gitlab_name(self, form: _Submitted, checked: _Checked, name: str, messages: tuple[str, str]) -> str:
        pattern = _GITLAB_NAMESPACE_RE if name == "namespace" else _GITLAB_PROJECT_RE
        value = self._required(form, checked, name, messages[0])
        if value is None:
            return ""
        errors = []
        if value.lower().endswith((".atom", ".git")):
            errors.append("Name ends with .git or .atom")
        if not pattern.match(value):
            errors.append(messages[1])
        if not _GITLAB_NO_DOUBLE_SPECIALS_RE.match(value):
            errors.append(messages[1])
        if errors:
            checked.errors[name] = errors
        return value

    def _validate_gitlab(
        self,
        form: _Submitted,
        checked: _Checked,
        normalize_environment: bool,
    ) -> tuple[FakePublisher, str]:
        namespace = self._gitlab_name(
            form,
            checked,
            "namespace",
            (
                "Specify GitLab namespace (username or group/subgroup)",
                "Invalid GitLab username or group/subgroup name.",
            ),
        )
        project = self._gitlab_name(form, checked, "project", ("Specify project name", "Invalid project name"))
        workflow = self._workflow(
            form,
            checked,
            "workflow_filepath",
            "Specify top-level pipeline file path",
            _gitlab_workflow_problem,
        )
        environment = form.raw("environment") or ""
        checked.values["environment"] = environment
        if environment.strip() and not _GITLAB_ENV_RE.match(environment):
            checked.errors["environment"] = ["Invalid environment name"]
        if normalize_environment and environment.isspace():
            environment = ""
        raw_issuer = form.raw("issuer_url")
        issuer = raw_issuer or GITLAB_ISSUER
        checked.values["issuer_url"] = issuer
        # The fake models no organization-specific issuers: gitlab.com is the only choice.
        issuer_errors = [] if issuer == GITLAB_ISSUER else ["Not a valid choice."]
        if not raw_issuer:
            issuer_errors.append("Choose GitLab issuer URL")
        if issuer_errors:
            checked.errors["issuer_url"] = issuer_errors
        return FakePublisher.gitlab(namespace, project, workflow, environment, issuer), ""

    def _validate_google(self, form: _Submitted, checked: _Checked) -> tuple[FakePublisher, str]:
        email = self._required(form, checked, "email", MSG_REQUIRED)
        if email is not None and not _EMAIL_RE.match(email):
            checked.errors["email"] = ["Invalid email address."]
        sub = form.raw("sub") or ""
        checked.values["sub"] = sub
        return FakePublisher.google(email or "", sub), ""

    def _validate_activestate(self, form: _Submitted, checked: _Checked) -> tuple[FakePublisher, str]:
        organization = self._required(form, checked, "organization", "Specify ActiveState organization name")
        if organization is not None and organization not in self.wh.activestate_orgs:
            checked.errors["organization"] = ["ActiveState organization not found"]
        project = self._required(form, checked, "project", "Specify ActiveState project name")
        if project is not None:
            errors = []
            if not _ACTIVESTATE_PROJECT_RE.match(project):
                errors.append("Invalid ActiveState project name")
            if re.search(r"--+", project):
                errors.append("Double dashes are not allowed in the name")
            if project.startswith("-") or project.endswith("-"):
                errors.append("Leading or trailing dashes are not allowed in the name")
            if errors:
                checked.errors["project"] = errors
        actor = self._required(form, checked, "actor", "Specify the ActiveState actor username")
        actor_id = ""
        if actor is not None:
            if actor in self.wh.activestate_actors:
                actor_id = self.wh.activestate_actors[actor]
            else:
                checked.errors["actor"] = ["ActiveState actor not found"]
        return FakePublisher.activestate(organization or "", project or "", actor or ""), actor_id

    def validate_project_name(self, kind: str, checked: _Checked, user: User) -> str:
        """The pending forms' ``project_name``, checked after the other fields so the
        owner's "already exists" link can carry their values as prefill parameters
        (docs/protocol/validation.md#project-name)."""
        name = _Submitted(self.post).raw("project_name") or ""
        values = {"project_name": name, **checked.values}
        checked.values = values
        if not name:
            checked.errors["project_name"] = ["Specify project name"]
            return name
        # wtforms runs the Regexp validator and then the inline check, which tests the same
        # regex again: an invalid name gets the message twice, as on the site.
        errors: list[str] = []
        if not _PROJECT_NAME_RE.match(name):
            errors += ["Invalid project name", "Invalid project name"]
        elif normalize_name(name) in _STDLIB_NAMES:
            errors.append("This project name isn't allowed (conflict with the Python standard library module name)")
        elif (existing := self.wh._find_project(name)) is not None:
            if user.username in existing.owners:
                params = {k: v for k, v in values.items() if v} | {"provider": kind}
                link = self.url(_route_path("manage.project.settings.publishing", {"project_name": name}, params))
                errors.append(
                    t.Markup(
                        "This project already exists: use the project's publishing settings "
                        f"<a href='{link}'>here</a> to create a Trusted Publisher for it."
                    )
                )
            else:
                errors.append("This project already exists.")
        elif any(ultranormalize_name(p.name) == ultranormalize_name(name) for p in self.wh.projects.values()):
            errors.append("This project name is too similar to an existing project")
        if errors:
            checked.errors["project_name"] = errors
        return name

    # -- project publishing page (docs/protocol/registration.md#project-page) ----------------------

    def project_publishing(self, name: str) -> _Response:
        project = self.wh._find_project(name)
        if project is None:
            return self.error(404)
        prefill = self.get.get("provider")
        view = self.select(
            lambda: self._render_project(project, prefill=prefill[0].lower() if prefill else ""),
            [(_FORM_PARAMS[kind], self._adder(project, kind)) for kind in _PROJECT_KINDS]
            + [(("publisher_id",), lambda: self._delete_project_publisher(project))],
        )
        self.check_csrf()
        self.authorize(lambda user: self.wh._can_write(project, user))
        reauth = self.reauth_page("manage.project.settings.publishing", {"project_name": name, "traverse": [name]})
        return reauth or view()

    def _adder(self, project: Project, kind: str) -> Callable[[], _Response]:
        return lambda: self._add_project_publisher(project, kind)

    def _render_project(
        self,
        project: Project,
        *,
        prefill: str = "",
        checked: _Checked | None = None,
        kind: str = "",
    ) -> _Response:
        action = f"/manage/project/{project.name}/settings/publishing/"
        prefilled = prefill if prefill in _FORM_PARAMS else ""
        forms = [
            None
            if k in self.wh.disabled_providers
            else t.FormView(
                k,
                f"{k}-publisher-form",
                action,
                pending=False,
                values=self._form_values(k, kind, checked, prefilled),
                errors=checked.errors if checked is not None and k == kind else {},
            )
            for k in _RENDER_ORDER
        ]
        rows = [t.RowView(r.id, r.publisher, action) for r in project.publishers]
        return self.html(
            t.project_publishing_page(
                project_name=project.name,
                csrf_token=self.csrf_token(),
                rows=rows,
                forms=forms,
                prefilled=prefilled,
            )
        )

    def _form_values(self, kind: str, submitted: str, checked: _Checked | None, prefilled: str = "") -> dict[str, str]:
        """Every form on a page is bound to the POST data; the validated one shows its data."""
        if checked is not None and kind == submitted:
            return checked.values
        if prefilled == kind:
            return {name: values[0] for name, values in self.get.items()}
        return {name: values[0] for name, values in self.post.items() if name != "csrf_token"}

    def _add_project_publisher(self, project: Project, kind: str) -> _Response:
        user = self.authorize()
        if kind in self.wh.disabled_providers:
            self.flash(self._disabled_message(kind))
            return self._render_project(project)
        limited = self.check_registration_limits(user)
        if limited is not None:
            return limited
        self.hit_registration(user)
        checked = self.validate(kind, self.post)
        if checked.publisher is None:
            self.flash(MSG_NOT_REGISTERED)
            return self._render_project(project, checked=checked, kind=kind)
        record = self.wh._attach(project, checked.publisher, checked.external_id)
        if record is None:
            self.flash(f"{t.publisher_specifier(checked.publisher)} is already registered with {project.name}")
            return self._render_project(project, checked=checked, kind=kind)
        self.flash(self._added_message(checked.publisher, project), "success")
        return self.redirect(self.raw_path)

    @staticmethod
    def _added_message(publisher: FakePublisher, project: Project) -> str:
        url = t.publisher_url(publisher)
        # Google has no URL; Warehouse's concatenation then leaves two spaces.
        return f"Added {t.publisher_specifier(publisher)} " + (f"in {url}" if url else "") + f" to {project.name}"

    @staticmethod
    def _disabled_message(kind: str) -> str:
        return (
            f"{t.KIND_TITLES[kind]}-based trusted publishing is temporarily disabled. "
            "See https://pypi.org/help#admin-intervention for details."
        )

    def _delete_project_publisher(self, project: Project) -> _Response:
        publisher_id = _parse_uuid(self.post)
        if publisher_id is None:
            return self._render_project(project)
        record = next((r for r in project.publishers if r.id == publisher_id), None)
        if record is None:
            self.flash("Invalid publisher for project")
            return self._render_project(project)
        project.publishers.remove(record)
        self.flash(f"Removed trusted publisher for project {project.name!r}", "success")
        return self.redirect(self.raw_path)

    # -- account (pending) publishing page (docs/protocol/registration.md#account-page) ------------

    def account_publishing(self) -> _Response:
        view = self.select(
            self._render_account,
            [((*_FORM_PARAMS[kind], "project_name"), self._pending_adder(kind)) for kind in _ACCOUNT_KINDS]
            + [(("publisher_id",), self._delete_pending_publisher)],
        )
        self.check_csrf()
        self.authorize()
        return self.reauth_page("manage.account.publishing", {}) or view()

    def _pending_adder(self, kind: str) -> Callable[[], _Response]:
        return lambda: self._add_pending_publisher(kind)

    def _render_account(self, checked: _Checked | None = None, kind: str = "") -> _Response:
        user = self.authorize()
        action = "/manage/account/publishing/"
        forms = [
            None
            if k in self.wh.disabled_providers
            else t.FormView(
                k,
                f"pending-{k}-publisher-form",
                action,
                pending=True,
                values=self._form_values(k, kind, checked),
                errors=checked.errors if checked is not None and k == kind else {},
            )
            for k in _RENDER_ORDER
        ]
        active = sorted(
            (p.name for p in self.wh.projects.values() if p.publishers and self.wh._has_role(p, user)),
            key=normalize_name,
        )
        rows = [
            t.RowView(r.id, r.publisher, action, r.project_name)
            for r in self.wh.pending_publishers
            if r.added_by == user.username
        ]
        return self.html(
            t.account_publishing_page(csrf_token=self.csrf_token(), active_projects=active, rows=rows, forms=forms)
        )

    def _add_pending_publisher(self, kind: str) -> _Response:
        # The view's own "verified e-mail" check is unreachable: the session policy has
        # already sent unverified users to /manage/unverified-account/ (docs/protocol/session.md#manage-responses).
        user = self.authorize()
        if kind in self.wh.disabled_providers:
            self.flash(self._disabled_message(kind))
            return self._render_account()
        if sum(r.added_by == user.username for r in self.wh.pending_publishers) >= PENDING_LIMIT:
            self.flash(MSG_PENDING_LIMIT)
            return self._render_account()
        limited = self.check_registration_limits(user)
        if limited is not None:
            return limited
        self.hit_registration(user)
        checked = self.validate(kind, self.post)
        project_name = self.validate_project_name(kind, checked, user)
        if checked.errors or checked.publisher is None:
            self.flash(MSG_NOT_REGISTERED)
            return self._render_account(checked, kind)
        record = PendingPublisherRecord(
            str(uuid.uuid4()),
            project_name,
            checked.publisher,
            user.username,
            None,
            checked.external_id,
            self.now,
        )
        if self.wh._pending_exists(record):
            self.flash(MSG_PENDING_EXISTS)
            return self._render_account(checked, kind)
        if self.wh._pending_conflict(record):
            self.flash(MSG_PENDING_OTHER_NAME)
            return self._render_account(checked, kind)
        self.wh.pending_publishers.append(record)
        self.flash(
            f"Registered a new pending publisher to create the project '{project_name}'.",
            "success",
        )
        return self.redirect(self.raw_path)

    def _delete_pending_publisher(self) -> _Response:
        user = self.authorize()
        publisher_id = _parse_uuid(self.post)
        record = next((r for r in self.wh.pending_publishers if r.id == publisher_id), None)
        if record is None or record.added_by != user.username:
            self.flash("Invalid publisher ID")
            return self._render_account()
        self.wh.pending_publishers.remove(record)
        self.flash(f"Removed trusted publisher for project {record.project_name!r}", "success")
        return self.redirect(self.raw_path)

    # -- organization publishing page (docs/protocol/registration.md#organization-page) ------------

    def organization_publishing(self, name: str) -> _Response:
        org = self.wh._find_organization(name)
        if org is None:
            return self.error(404)
        view = self.select(
            lambda: self._render_organization(org),
            [((*_FORM_PARAMS[kind], "project_name"), self._org_adder(org, kind)) for kind in _PROJECT_KINDS],
        )
        if not org.active:
            return self.inactive_organization()
        self.check_csrf()
        self.authorize(lambda user: user.username in org.owners)
        reauth = self.reauth_page("manage.organization.publishing", {"organization_name": name, "traverse": [name]})
        return reauth or view()

    def _org_adder(self, org: Organization, kind: str) -> Callable[[], _Response]:
        return lambda: self._add_org_pending_publisher(org, kind)

    def _render_organization(self, org: Organization, checked: _Checked | None = None, kind: str = "") -> _Response:
        action = f"/manage/organization/{normalize_name(org.name)}/publishing/"
        forms = [
            None
            if k in self.wh.disabled_providers
            else t.FormView(
                k,
                f"pending-{k}-publisher-form",
                action,
                pending=True,
                values=self._form_values(k, kind, checked),
                errors=checked.errors if checked is not None and k == kind else {},
            )
            for k in _RENDER_ORDER
        ]
        rows = [
            t.RowView(r.id, r.publisher, "/manage/account/publishing/", r.project_name)
            for r in self.wh.pending_publishers
            if r.organization == org.name
        ]
        return self.html(
            t.organization_publishing_page(
                organization_name=org.name, csrf_token=self.csrf_token(), rows=rows, forms=forms
            )
        )

    def _add_org_pending_publisher(self, org: Organization, kind: str) -> _Response:
        """No rate limit and no 3-pending cap here; a duplicate configuration is a silent
        303 that creates nothing (docs/protocol/registration.md#organization-page)."""
        user = self.authorize()
        if kind in self.wh.disabled_providers:
            self.flash(self._disabled_message(kind))
            return self._render_organization(org)
        checked = self.validate(kind, self.post, normalize_gitlab_environment=False)
        project_name = self.validate_project_name(kind, checked, user)
        if checked.errors or checked.publisher is None:
            self.flash(MSG_NOT_REGISTERED)
            return self._render_organization(org, checked, kind)
        record = PendingPublisherRecord(
            str(uuid.uuid4()),
            project_name,
            checked.publisher,
            user.username,
            org.name,
            checked.external_id,
            self.now,
        )
        if self.wh._pending_exists(record):
            self.flash(MSG_ORG_PENDING_EXISTS)
            return self._render_organization(org, checked, kind)
        if self.wh._pending_conflict(record):
            return self.redirect(self.raw_path)
        self.wh.pending_publishers.append(record)
        self.flash(
            f"Registered a new pending publisher to create the project '{project_name}' "
            f"owned by the '{org.name}' organization.",
            "success",
        )
        return self.redirect(self.raw_path)

    # -- JSON endpoints (docs/protocol/publish-time.md, token-api.md) ------------------------------

    def pypi_json(self, name: str, slash: str) -> _Response:
        project = self.wh._find_project(name)
        if project is None or not project.has_releases:
            return self.json({"message": "Not Found"}, 404)
        canonical = normalize_name(project.name)
        if canonical != name:
            return self.redirect(f"/pypi/{canonical}/json{slash}", 301)
        urls = {"Homepage": project.home_page} if project.home_page else {}
        urls.update(
            (label, url)
            for label, url in project.project_urls.items()
            if not (label.lower() == "homepage" and url == project.home_page)
        )
        roles = [{"role": "Owner", "user": u} for u in sorted(project.owners)]
        roles += [{"role": "Maintainer", "user": u} for u in sorted(project.maintainers)]
        return self.json(
            {
                "info": {
                    "name": project.name,
                    "version": "1.0.0",
                    "project_urls": urls or None,
                    "home_page": project.home_page,
                    "download_url": None,
                },
                "last_serial": 1,
                "releases": {"1.0.0": []},
                "urls": [],
                "ownership": {"roles": roles, "organization": project.organization},
            }
        )

    def simple_detail(self, name: str) -> _Response:
        """``api.simple.detail``: 200 for every project, with releases or not (it is found by
        traversal); 301 to the normalised name; 404 otherwise. PEP 691 JSON when asked for."""
        project = self.wh._find_project(name)
        if project is None or not self.is_get:
            return self.error(404)
        canonical = normalize_name(project.name)
        if canonical != name:
            return self.redirect(f"/simple/{canonical}/", 301)
        if _SIMPLE_JSON in self.headers.get("Accept", ""):
            payload = {
                "meta": {"api-version": t.SIMPLE_API_VERSION, "_last-serial": 1},
                "name": canonical,
                "project-status": {"status": "active"},
                "versions": [],
                "files": [],
            }
            return _Response(200, json.dumps(payload).encode(), _SIMPLE_JSON)
        return self.html(t.simple_detail_page(canonical))

    def method_not_allowed(self, allowed: str) -> _Response:
        """``require_methods``: a 405 before any other check, with the bare WebOb body."""
        explanation = f"The method {self.method} is not allowed for this resource."
        body = t.webob_error("405 Method Not Allowed", explanation, "")
        return _Response(405, body.encode(), headers=[("Allow", allowed)])

    def oidc_audience(self) -> _Response:
        """docs/protocol/publish-time.md#audience: GET only, no session, no CSRF."""
        from . import oidc

        if self.method != "GET":
            return self.method_not_allowed("GET")
        status, payload = oidc.audience(self.wh)
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return _Response(status, body.encode(), "application/json")

    def oidc_mint_token(self) -> _Response:
        """docs/protocol/publish-time.md#mint-token: POST only, no session, no CSRF; the JSON renderer's
        sorted, compact output."""
        from . import oidc

        if self.method != "POST":
            return self.method_not_allowed("POST")
        try:
            status, payload = oidc.mint_token(self.wh, self.body, self.now, self.client_ip)
        except oidc.ServerError:
            return _Response(500, b"Internal Server Error", "text/plain; charset=UTF-8")
        if status not in (200, 422):
            return _Response(status, b"Internal Server Error", "text/plain; charset=UTF-8")
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return _Response(status, body.encode(), "application/json")

    def _api_user(self) -> User | None:
        scheme, _, credential = self.headers.get("Authorization", "").partition(" ")
        token = credential.strip()
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(token, validate=True).decode()
            except ValueError:
                return None
            username, _, token = decoded.partition(":")
            if username != "__token__":
                return None
        elif scheme.lower() not in ("token", "bearer"):
            return None
        owner = self.wh._api_tokens.get(token)
        return self.wh.users.get(owner) if owner else None

    def _api_accepts(self) -> bool:
        """The ``accept`` view predicate for ``application/vnd.pypi.api-v0-danger+json``."""
        accept = self.headers.get("Accept")
        if not accept:
            return True
        acceptable = ("*/*", "application/*", "application/vnd.pypi.api-v0-danger+json")
        for item in accept.split(","):
            media, *params = (part.strip() for part in item.split(";"))
            weights = [p.partition("=")[2] for p in params if p.partition("=")[0].strip() == "q"]
            try:
                weight = float(weights[0]) if weights else 1.0
            except ValueError:
                weight = 0.0
            if weight > 0 and media in acceptable:
                return True
        return False

    def api_echo(self) -> _Response:
        user = self._api_user()
        if not self.is_get or not self._api_accepts():
            return self.error(404)
        if user is None:
            return self.json({"error": "Invalid or missing API token"}, 403)
        return self.json({"username": user.username})

    def _api_context(self, name: str, methods: Sequence[str]) -> tuple[Project, User] | _Response:
        """Route, context, predicates and permission of the token API views; a response on failure.

        See docs/protocol/token-api.md#endpoints.
        """
        if not self.wh.token_api:
            return self.error(404)
        project = self.wh._find_project(name)
        if project is None:
            return self.json({"error": "Project not found"}, 404)
        if self.method not in methods or not self._api_accepts():
            return self.error(404)
        user = self._api_user()
        if user is None:
            return self.json({"error": "Invalid or missing API token"}, 403)
        if not self.wh._can_write(project, user):
            return self.json({"error": "Only project Owners can manage trusted publishers"}, 403)
        return project, user

    @staticmethod
    def _api_publisher(record: PublisherRecord) -> dict[str, str | None]:
        return {
            "id": record.id,
            "publisher_name": t.KIND_TITLES[record.publisher.kind],
            # Google publishers have no URL: the model's publisher_url() is None, serialised as null.
            "publisher_url": t.publisher_url(record.publisher) or None,
            "specifier": t.publisher_specifier(record.publisher),
        }

    def api_publishers(self, name: str) -> _Response:
        context = self._api_context(name, ("GET", "HEAD", "POST"))
        if isinstance(context, _Response):
            return context
        project, user = context
        if self.is_get:
            return self.json({"trusted_publishers": [self._api_publisher(r) for r in project.publishers]})
        try:
            data = json.loads(self.body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return self.json({"error": "Request body must be a JSON object"}, 400)
        kind = data.get("publisher", "")
        if kind not in _FORM_PARAMS:
            return self.json({"error": f"Unknown publisher type: {kind!r}"}, 400)
        if kind in self.wh.disabled_providers:
            return self.json({"error": self._disabled_message(kind)}, 403)
        if self.check_registration_limits(user) is not None:
            return self.json(
                {"error": "Too many trusted publisher registrations. Try again later."},
                429,
                [("Retry-After", str(self.wh.registration_retry_after))],
            )
        self.hit_registration(user)
        source = {k: [v if isinstance(v, str) else str(v)] for k, v in data.items() if v is not None}
        checked = self.validate(kind, source)
        if checked.publisher is None:
            return self.json({"errors": checked.errors}, 400)
        record = self.wh._attach(project, checked.publisher, checked.external_id)
        if record is None:
            specifier = t.publisher_specifier(checked.publisher)
            return self.json({"error": f"{specifier} is already registered with {project.name}"}, 409)
        return self.json({"trusted_publisher": self._api_publisher(record)}, 201)

    def api_publisher(self, name: str, publisher_id: str) -> _Response:
        context = self._api_context(name, ("DELETE",))
        if isinstance(context, _Response):
            return context
        project, _ = context
        record = next((r for r in project.publishers if r.id == publisher_id), None)
        if record is None:
            return self.json({"error": "Publisher not found for this project"}, 404)
        project.publishers.remove(record)
        return self.json({"message": f"Removed trusted publisher from {project.name}"})


def _github_workflow_problem(value: str) -> str | None:
    if not value.endswith((".yml", ".yaml")):
        return "Workflow name must end with .yml or .yaml"
    if "/" in value:
        return "Workflow filename must be a filename only, without directories"
    return None


def _gitlab_workflow_problem(value: str) -> str | None:
    if not value.endswith((".yml", ".yaml")):
        return "Top-level pipeline file path must end with .yml or .yaml"
    if value.startswith("/") or value.endswith("/"):
        return "Top-level pipeline file path cannot start or end with /"
    return None


def _github_environment_problem(environment: str) -> str | None:
    if len(environment) > 255:
        return "Environment name is too long (maximum is 255 characters)"
    if environment.startswith(" "):
        return "Environment name may not start with whitespace"
    if environment.endswith(" "):
        return "Environment name may not end with whitespace"
    if _GITHUB_ENV_FORBIDDEN_RE.search(environment):
        return (
            "Environment name must not contain non-printable characters or the characters "
            '"\'", """, "`", ",", ";", "\\"'
        )
    return None


def _is_json(text: str) -> bool:
    """The WebAuthn forms' first check on ``credential``: any JSON document."""
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _parse_uuid(post: Mapping[str, Sequence[str]]) -> str | None:
    """``DeletePublisherForm``: ``publisher_id`` required and a UUID; canonical text or None."""
    raw = _Submitted(post).raw("publisher_id")
    try:
        return str(uuid.UUID(raw)) if raw else None
    except ValueError:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    app: FakeWarehouse
    # Set by stop(): keep-alive connections that outlive the server are dropped, not served.
    closed = False


class _Handler(BaseHTTPRequestHandler):
    """Reads the request, lets the FakeWarehouse answer it, writes the response."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY every keep-alive
    # request would wait for a delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name: value for name, value in self.headers.items()}
        response = None
        if not self.server.closed:
            response = self.server.app._handle(self.command, self.path, headers, body, self.client_address[0])
            hook = self.server.app.after_request
            if hook is not None:  # the request has had its effect; its answer has not left yet
                hook(self.server.app.requests[-1])
            mutate = self.server.app.mutate_page
            if mutate is not None and response is not None and response.content_type.startswith("text/html"):
                response.body = mutate(self.server.app.requests[-1], response.body)
        if response is None:
            self.close_connection = True
            return
        self.send_response(response.status, response.reason)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests read ``FakeWarehouse.requests`` instead of a log."""


# --- Public API --------------------------------------------------------------------------------


class FakeWarehouse:
    """Warehouse's Trusted Publisher web flow on ``http://127.0.0.1:<port>``.

    Configure users, projects, organizations and the knobs below, ``start()`` it (or use it
    as a context manager), point the client at ``url``, then inspect the state.

    Knobs (read on every request, so tests may change them while it runs):
    ``github_owners`` (login -> id; other owners are unknown to "GitHub", unless
    ``any_github_owner``, then only those starting with "nosuch" are),
    ``activestate_orgs`` / ``activestate_actors`` (actor -> id), ``disabled_providers``
    (admin flags, e.g. ``{"gitlab"}``), ``registration_limit`` / ``registration_retry_after``
    (per user and per IP, per day), ``reauth_seconds``, ``token_api`` (serve the token API
    ``/danger-api/`` routes), ``require_origin`` (behave like https) and ``clock``.

    State: ``users``, ``projects`` (their ``publishers``), ``organizations``,
    ``pending_publishers``, ``outbox`` (sent e-mails), ``requests`` (every request, for
    counting) and ``errors`` (tracebacks of views that crashed; tests should expect none).
    Publisher rows (``PublisherRecord``, ``PendingPublisherRecord``) hold the fake's own
    ``FakePublisher`` (``records.py``); ``add_publisher`` / ``add_pending_publisher`` take one.

    Security keys (docs/protocol/security-keys.md, verified with py_webauthn): ``add_user(..., has_2fa=False)``
    makes an account without TOTP, ``recovery_codes=`` / ``burned_recovery_codes=`` seed its
    recovery codes (generated / used once), ``add_security_key(username, label=,
    credential_id=, public_key=, sign_count=0)`` seeds an enrolled key; a user's keys are
    ``User.security_keys`` (``SecurityKey.sign_count`` is the counter the next login must
    exceed unless both are 0). Served: the account page, the provision page and its options /
    validate / delete endpoints, the login's ``/account/webauthn-authenticate/`` options and
    validate; the relying party is the request's host, the origin ``http://<Host>``.
    """

    def __init__(self, *, port: int = 0) -> None:
        self.users: dict[str, User] = {}
        self.projects: dict[str, Project] = {}
        self.organizations: dict[str, Organization] = {}
        self.pending_publishers: list[PendingPublisherRecord] = []
        # GitHub's /users/{login} (case-insensitive), answered with the canonical login.
        self.github_owners: dict[str, int] = {}
        # Manual runs: every valid login is an owner, except the recordings' "nosuch…" ones.
        self.any_github_owner = False
        self.activestate_orgs: set[str] = set()
        self.activestate_actors: dict[str, str] = {}
        self.disabled_providers: set[str] = set()
        self.registration_limit = 100
        self.registration_retry_after = 3600
        self.reauth_seconds: float = REAUTH_SECONDS
        self.token_api = False
        # The OIDC exchange (docs/protocol/publish-time.md#mint-token); see oidc.py.
        self.oidc_audience = "pypi"
        self.oidc_disabled = False
        self.oidc_issuers: dict[str, str] = {}
        self.disallow_new_project_registration = False
        self.prohibited_project_names: set[str] = set()
        self.exchanges: list[oidc.Exchange] = []
        self.minted: list[oidc.MintedToken] = []
        self.require_origin = True
        self.clock: Callable[[], float] = time.time
        self.outbox: list[Email] = []
        self.requests: list[RequestRecord] = []
        # Called with each request's record after the request took effect and before its answer is sent, on the
        # server's thread: a test can block there and kill the client at that exact boundary.
        self.after_request: Callable[[RequestRecord], None] | None = None
        # Rewrites an HTML answer on its way out, as a changed Warehouse would send it (tests/test_page_drift.py).
        self.mutate_page: Callable[[RequestRecord, bytes], bytes] | None = None
        self.errors: list[str] = []
        self._api_tokens: dict[str, str] = {}
        self._sessions: dict[str, _Session] = {}
        self._unique_logins: dict[tuple[str, str], _UniqueLogin] = {}
        self._hits = _HitLog()
        self._faults: list[_Fault] = []
        from .oidc import State

        self._oidc = State()
        self._signers = {name: _Signer(name) for name in ("two_factor", "confirm_login", "remember_device")}
        self._lock = threading.RLock()
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeWarehouse is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Self:
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.app = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.005},  # how long stop() waits: tests start and stop hundreds
            name="fake-warehouse",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.closed = True
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- configuration -----------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        *,
        password: str,
        totp_secret: str | None = None,
        email: str | None = None,
        confirmed_ips: Iterable[str] = ("127.0.0.1",),
        verified_email: bool = True,
        has_2fa: bool = True,
        recovery_codes: Iterable[str] = (),
        burned_recovery_codes: Iterable[str] = (),
    ) -> User:
        """``has_2fa``: an authentication application (TOTP); a user without one may still
        log in with a security key (``add_security_key``). ``recovery_codes`` are generated
        codes; ``burned_recovery_codes``, a subset of them, were used once (the proof the
        account page asks for before a security device can be added)."""
        user = User(
            username,
            password,
            totp_secret or pyotp.random_base32(),
            email or f"{username}@example.com",
            set(confirmed_ips),
            verified_email,
            has_2fa,
        )
        codes = list(recovery_codes)
        burned = set(burned_recovery_codes)
        if not burned <= set(codes):
            raise ValueError("burned_recovery_codes must be some of recovery_codes")
        now = self.clock()
        user.recovery_codes = [RecoveryCode(code, now, now if code in burned else None) for code in codes]
        self.users[username] = user
        return user

    def add_security_key(
        self,
        username: str,
        *,
        label: str,
        credential_id: bytes | str,
        public_key: bytes | str,
        sign_count: int = 0,
    ) -> SecurityKey:
        """Seed a WebAuthn credential as stored (no verification). Bytes are the raw
        credential id and COSE public key; text is taken as Warehouse stores them (unpadded
        base64url)."""

        def stored(value: bytes | str) -> str:
            return _Signer._b64(value) if isinstance(value, bytes) else value.rstrip("=")

        key = SecurityKey(label, stored(credential_id), stored(public_key), sign_count)
        with self._lock:
            self.users[username].security_keys.append(key)
        return key

    def add_default_user(self) -> User:
        """The user the ``warehouse`` fixture and the standalone server start with."""
        return self.add_user(
            DEFAULT_USERNAME,
            password=DEFAULT_PASSWORD,
            totp_secret=DEFAULT_TOTP_SECRET,
            email=DEFAULT_EMAIL,
        )

    def add_project(
        self,
        name: str,
        *,
        owners: Iterable[str] = (),
        maintainers: Iterable[str] = (),
        has_releases: bool = False,
        organization: str | None = None,
        project_urls: Mapping[str, str] | None = None,
        home_page: str | None = None,
    ) -> Project:
        """``organization``: the owning organization, whose owners may manage the project.
        ``project_urls`` and ``home_page``: the latest release's metadata (only with ``has_releases``)."""
        project = Project(name, list(owners), list(maintainers), has_releases, organization)
        project.project_urls = dict(project_urls or {})
        project.home_page = home_page
        self.projects[name] = project
        return project

    def add_organization(
        self,
        name: str,
        *,
        owners: Iterable[str] = (),
        active: bool = True,
        members: Iterable[str] = (),
    ) -> Organization:
        org = Organization(name, list(owners), active, list(members))
        self.organizations[name] = org
        return org

    def add_api_token(self, token: str, username: str) -> None:
        self._api_tokens[token] = username

    def add_publisher(
        self, project_name: str, publisher: FakePublisher, *, external_id: str | None = None
    ) -> PublisherRecord:
        """Seed a project publisher as stored (no validation); returns its record. ``external_id``
        defaults, for GitHub, to the id of the owner in ``github_owners`` (what the form stores)."""
        project = self._find_project(project_name)
        if project is None:
            raise KeyError(project_name)
        record = self._attach(project, publisher, self._seeded_external_id(publisher, external_id))
        if record is None:
            raise ValueError(f"{publisher} is already attached to {project.name}")
        return record

    def add_pending_publisher(
        self,
        project_name: str,
        publisher: FakePublisher,
        *,
        added_by: str,
        organization: str | None = None,
        external_id: str | None = None,
    ) -> PendingPublisherRecord:
        """Seed a pending publisher as stored (no validation); returns its record. ``external_id``
        as for ``add_publisher``."""
        record = PendingPublisherRecord(
            str(uuid.uuid4()),
            project_name,
            publisher,
            added_by,
            organization,
            self._seeded_external_id(publisher, external_id),
            self.clock(),
        )
        self.pending_publishers.append(record)
        return record

    def expire_reauth(self, username: str) -> None:
        """Make every session of ``username`` need re-authentication on its next page."""
        with self._lock:
            for session in self._sessions.values():
                if session.username == username:
                    session.auth_timestamp = None

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int = 503,
        headers: Mapping[str, str] | None = None,
        body: str = "",
        times: int = 1,
        drop_connection: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests (``method`` or ``"*"``; path with query
        starting with ``path_prefix``) with ``status``, or drop the connection, untouched by
        any other logic."""
        with self._lock:
            self._faults.append(
                _Fault(
                    method.upper(),
                    path_prefix,
                    status,
                    dict(headers or {}),
                    body,
                    times,
                    drop_connection,
                )
            )

    def fail_mint_token(
        self, *, status: int = 422, code: str = "unknown-error", description: str = "", times: int = 1
    ) -> None:
        """Answer the next ``times`` mint-token requests (either route) with ``status``: 422 carries
        Warehouse's error shape with ``code`` and ``description``, anything else a plain-text body.
        Each is recorded in ``exchanges``."""
        from . import oidc

        with self._lock:
            oidc.add_fault(self, status, code, description or f"injected {code}", times)

    def minted_token(self, token: str) -> oidc.MintedToken | None:
        """What a ``pypi-`` token from mint-token is good for (None: not one the fake minted)."""
        with self._lock:
            return next((m for m in self.minted if m.token == token), None)

    # -- internals used by the views -----------------------------------------------------------

    def _mail(self, username: str, subject: str, body: str, now: float) -> None:
        """An e-mail to a user's address; none for a user the fake does not know."""
        user = self.users.get(username)
        if user is not None:
            self.outbox.append(Email(user.email, subject, body, "", now))

    def _handle(
        self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes, client_ip: str
    ) -> _Response | None:
        with self._lock:
            fault = next(
                (f for f in self._faults if f.method in ("*", method) and raw_path.startswith(f.path_prefix)),
                None,
            )
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                status = 0 if fault.drop_connection else fault.status
                self.requests.append(RequestRecord(method, raw_path, status, client_ip))
                if fault.drop_connection:
                    return None
                return _Response(
                    fault.status,
                    fault.body.encode(),
                    "text/plain; charset=UTF-8",
                    list(fault.headers.items()),
                    HTTPStatus(fault.status).phrase,
                )
            try:
                response = _View(self, method, raw_path, headers, body, client_ip).dispatch()
            except Exception:
                logger.exception("fake Warehouse failed on %s %s", method, raw_path)
                self.errors.append(traceback.format_exc())
                response = _Response(500, b"Internal Server Error", "text/plain; charset=UTF-8")
            self.requests.append(RequestRecord(method, raw_path, response.status, client_ip))
            return response

    def _new_session(self, now: float) -> _Session:
        session = _Session(secrets.token_urlsafe(32), last_used=now)
        self._sessions[session.id] = session
        return session

    def _live_session(self, session_id: str, now: float) -> _Session | None:
        session = self._sessions.get(session_id)
        if session is not None and now - session.last_used > SESSION_MAX_AGE:
            del self._sessions[session_id]
            return None
        return session

    def _github_owner(self, login: str) -> tuple[str, int] | None:
        """What the form's lookup of ``/users/{login}`` gives: GitHub's spelling of the login and its id."""
        found = next(((k, v) for k, v in self.github_owners.items() if k.lower() == login.lower()), None)
        if found is None and self.any_github_owner and not login.lower().startswith("nosuch"):
            found = (login, 100_000 + zlib.crc32(login.lower().encode()) % 900_000)
        return found

    def _seeded_external_id(self, publisher: FakePublisher, external_id: str | None) -> str:
        """A seeded GitHub row gets the owner id the form would have stored, when the fake knows the owner."""
        if external_id is not None:
            return external_id
        found = self._github_owner(publisher["owner"]) if publisher.kind == "github" else None
        return str(found[1]) if found else ""

    def _find_user(self, username: str) -> User | None:
        return next((u for u in self.users.values() if u.username.lower() == username.lower()), None)

    def _user_by_id(self, user_id: object) -> User | None:
        return next((u for u in self.users.values() if u.id == user_id), None)

    def _find_project(self, name: str) -> Project | None:
        key = normalize_name(name)
        return next((p for p in self.projects.values() if normalize_name(p.name) == key), None)

    def _find_organization(self, name: str) -> Organization | None:
        key = normalize_name(name)
        return next((o for o in self.organizations.values() if normalize_name(o.name) == key), None)

    def _has_role(self, project: Project, user: User) -> bool:
        return user.username in project.owners or user.username in project.maintainers

    def _owns(self, project: Project, user: User) -> bool:
        """A project Owner, or an Owner of the owning organization ("Administer")."""
        if user.username in project.owners:
            return True
        org = self._find_organization(project.organization) if project.organization else None
        return org is not None and user.username in org.owners

    def _can_write(self, project: Project, user: User) -> bool:
        """``ProjectsWrite``: an Owner, unless the project is quarantined."""
        return self._owns(project, user) and not project.quarantined

    def _sole_owner(self, project: Project, user: User) -> bool:
        """``projects_sole_owned``: the only Owner, directly or as the organization's only Owner."""
        if project.organization is None:
            return project.owners == [user.username]
        org = self._find_organization(project.organization)
        others = [o for o in project.owners if o != user.username]
        return org is not None and org.owners == [user.username] and not others

    def _attach(self, project: Project, publisher: FakePublisher, external_id: str) -> PublisherRecord | None:
        """Reuse the identical stored publisher if any project has it and attach it; None when it is
        already attached to this project (docs/protocol/registration.md#project-add-order)."""
        key = _unique_key(publisher, external_id, pending=False)
        record = next(
            (
                r
                for p in self.projects.values()
                for r in p.publishers
                if _unique_key(r.publisher, r.external_id, pending=False) == key
            ),
            None,
        )
        if record is None:
            record = PublisherRecord(str(uuid.uuid4()), publisher, external_id)
        elif any(r is record for r in project.publishers):
            return None
        project.publishers.append(record)
        return record

    def _pending_exists(self, new: PendingPublisherRecord) -> bool:
        """The views' existence query: same project name and same configuration, any user."""
        return any(
            r.project_name == new.project_name and r.publisher == new.publisher and r.external_id == new.external_id
            for r in self.pending_publishers
        )

    def _pending_conflict(self, new: PendingPublisherRecord) -> bool:
        """The pending tables' unique constraint: same configuration, any project name."""
        key = _unique_key(new.publisher, new.external_id, pending=True)
        return any(_unique_key(r.publisher, r.external_id, pending=True) == key for r in self.pending_publishers)


def _unique_key(publisher: FakePublisher, external_id: str, *, pending: bool) -> tuple[str, ...]:
    """The columns of Warehouse's unique constraints, compared exactly as stored."""
    p = publisher
    if p.kind == "github":
        return ("github", p["owner"], p["repository"], p["workflow_filename"], p["environment"])
    if p.kind == "gitlab":
        issuer = () if pending else (p["issuer_url"],)
        return ("gitlab", p["namespace"], p["project"], p["workflow_filepath"], p["environment"], *issuer)
    if p.kind == "google":
        return ("google", p["email"], p["sub"])
    return ("activestate", p["organization"], p["project"], external_id)
