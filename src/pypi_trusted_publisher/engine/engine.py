"""Choose a transport, run it, and turn whatever happened into a :class:`Result`.

Transports, in the order ``--method auto`` tries them:
``api``  the token API (docs/protocol/token-api.md) when an API token is given and the index serves it;
``web``  the logged-in web session (docs/protocol/login.md, registration.md) when a username and password are given;
``link`` no credentials: the prefilled manual link, reported as a failure to act.
Remote failures never raise out of here; they become ``failed`` results that
carry the reason, the message and the manual link.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..core.errors import RegistrationFailed
from ..core.indexes import Index
from ..core.models import Place, Registration, Result, Status, Target
from ..core.wording import sentences
from ..credentials.values import Credentials
from ..transports import links
from .options import ENV_NAMES, METHODS, EngineOptions

if TYPE_CHECKING:
    from ..core.models import Row
    from ..transports.web.account import SecurityDevices
    from ..transports.web.http import Http
    from ..transports.web.projects import ListedProject
    from ..transports.web.registrar import Outcome

UNDONE = (Status.FAILED, Status.NEEDS_CONFIRMATION, Status.DRY_RUN)
NEEDS_CONFIRMATION = "PyPI does not recognise this IP address and e-mailed a confirmation link to the account."


def missing_login(credentials: Credentials, names: Mapping[str, str] = ENV_NAMES) -> str:
    """``PYPI_PASSWORD is not set``: what a web login lacks, or "" when it can be tried."""
    missing = [names[part] for part in ("username", "password") if not getattr(credentials, part)]
    if not missing:
        return ""
    return f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"


def _result(
    registration: Registration,
    status: Status,
    pending: bool | None,
    message: str,
    *,
    reason: str = "",
    method: str = "web",
    retry_after: int | None = None,
    known: str = "",
) -> Result:
    return Result(
        status=status,
        registration=registration,
        pending=pending,
        message=message,
        manage_url=links.manage_url(registration, pending),
        manual_url=links.manual_url(registration, pending),
        reason=reason,
        method=method,
        # What to type by hand matters only where nothing was done.
        manual_steps=links.manual_steps(registration, pending, known) if status in UNDONE else (),
        retry_after=retry_after,
    )


def plan(registration: Registration) -> Result:
    """What would happen, without any network call (so with auto, whether the project exists is not known)."""
    pending = {Target.PENDING: True, Target.PROJECT: False}.get(registration.target)
    publisher = registration.publisher
    where = {
        Target.PENDING: "as a pending publisher (the first trusted upload creates the project)",
        Target.PROJECT: "on the existing project's publishing page",
        Target.AUTO: "on the project's publishing page if it exists and you own it, otherwise as a "
        "pending publisher",
    }[registration.target]
    message = (
        f"Would register the {publisher.title} publisher for {registration.normalized_project!r} on "
        f"{registration.index.host} {where}."
    )
    return _result(registration, Status.DRY_RUN, pending, message, method="dry-run")


def choose_method(method: str, credentials: Credentials, registration: Registration) -> list[str]:
    """The transports to try, in order."""
    if method not in METHODS:
        raise ValueError(method)
    if method != "auto":
        return [method]
    order = []
    if credentials.api_token and registration.target is not Target.PENDING:
        order.append("api")
    if credentials.username and credentials.password:
        order.append("web")
    return order or ["link"]


class Engine:
    """Registrations on one index, sharing one HTTP client and one login."""

    def __init__(self, index: Index, credentials: Credentials, options: EngineOptions | None = None) -> None:
        from ..transports.web.http import Http
        from ..transports.web.registrar import WebRegistrar
        from ..transports.web.session import TotpSource, WebSession

        options = options or EngineOptions()
        self.index = index
        self.credentials = credentials
        self.options = options
        self.credential_names = options.credential_names
        self.method = options.method
        self.http = Http(index, timeout=options.timeout, transport=options.transport, clock=options.clock,
                         sleep=options.sleep)  # fmt: skip
        totp = TotpSource(
            secret=credentials.totp_secret,
            code=credentials.totp_code,
            prompt=options.totp_prompt,
            clock=options.clock,
            sleep=options.sleep,
            waiter=options.waiter,
        )
        self.confirmer = options.confirmer
        self.session = WebSession(self.http, credentials, totp, self.confirmer, options.sleep, options.waiter)
        self.web = WebRegistrar(self.session)
        self._api_served: bool | None = None
        self._public: Http | None = None  # the index's public JSON API, asked without the session's cookies

    def close(self) -> None:
        self.http.close()
        if self._public is not None:
            self._public.close()

    def login(self, next_path: str = "/manage/account/") -> None:
        """Log in now, once: missing credentials and a new-IP stop become RegistrationFailed like any failure."""
        from ..transports.web.session import NeedsConfirmation

        self._require_login()
        if self.session.logged_in:
            return
        try:
            self.session.login(next_path)
        except NeedsConfirmation:
            raise RegistrationFailed("new-ip", self._needs_confirmation()) from None

    def devices(self) -> SecurityDevices:
        """The account's security devices, in this engine's session (logged in first)."""
        from ..transports.web.account import ACCOUNT, SecurityDevices

        self.login(ACCOUNT)
        return SecurityDevices(self.session)

    def remove_passkey(self) -> Login:
        """Remove the key this session logged in with, so the secret that carries it is dead (one-shot use)."""
        key = self.credentials.passkey
        assert key is not None and self.session.second_factor == "security-key"
        try:
            self.devices().remove(key.label)
        except RegistrationFailed as exc:
            return Login("security-key", problem=exc.message)
        return Login("security-key", passkey_removed=True)

    def projects(self, organization: str = "") -> list[ListedProject]:
        """The account's (or the organization's) projects and the user's role on each; raises RegistrationFailed."""
        from ..transports.web.projects import projects_path, read_projects

        self.login(projects_path(organization))
        return read_projects(self.session, organization)

    def project_info(self, project: str) -> dict[str, Any] | None:
        """The ``info`` of the project's JSON API page, None when it has no release; raises RegistrationFailed."""
        from ..transports.web.http import Http
        from ..transports.web.json_api import read_info

        if self._public is None:
            options = self.options
            self._public = Http(self.index, timeout=options.timeout, transport=options.transport,
                                clock=options.clock, sleep=options.sleep)  # fmt: skip
        return read_info(self._public, project)

    @property
    def requests(self) -> int:
        return self.http.requests + (self._public.requests if self._public is not None else 0)

    def register(self, registration: Registration) -> Result:
        from ..transports.token_api import ApiNotServed

        notes: list[str] = []
        for method in choose_method(self.method, self.credentials, registration):
            if method == "link":
                break
            if method == "api":
                try:
                    return self._guard(registration, "api", lambda: self._via_api(registration))
                except ApiNotServed:
                    notes.append(f"{self.index.host} does not serve the publisher token API yet.")
                    continue
            return self._guard(registration, "web", lambda: self._via_web(registration, self.web.register))
        return self._link_only(registration, notes)

    def check_pending_room(self, registrations: list[Registration]) -> None:
        """Before a batch posts anything: do its new pending publishers fit the limit of 3?"""
        from ..transports.web.registrar import pending_room
        from ..transports.web.session import NeedsConfirmation

        planned = [r for r in registrations if r.target is Target.PENDING and not r.organization]
        if len(planned) < 2 or "web" not in choose_method(self.method, self.credentials, planned[0]):
            return
        try:
            _, rows = self.web.listing(Place(self.index, target=Target.PENDING))
        except NeedsConfirmation:
            return  # each registration will report it
        pending_room(rows, planned)

    def _require_login(self) -> None:
        """The web session needs a username and a password: say which one is missing."""
        missing = missing_login(self.credentials, self.credential_names)
        if missing and not self.web.session.logged_in:
            raise RegistrationFailed("missing-credentials", sentences(f"{missing}: logging in to {self.index.host} "
                                                                      "needs a username and a password"))

    def _remove(self, registration: Registration) -> Result:
        self._require_login()
        return self._via_web(registration, self.web.remove)

    def remove(self, registration: Registration) -> Result:
        """Remove a publisher (web session only), verified by the listing."""
        result = self._guard(registration, "web", lambda: self._remove(registration))
        if result.status.ok:
            return result
        # By hand, a publisher is removed where it is managed, not where one is added.
        steps = links.removal_steps(registration, result.pending)
        return replace(result, manual_url=result.manage_url, manual_steps=steps)

    def listing(self, place: Place) -> tuple[bool, list[Row]]:
        """Publishers of a project, or the pending ones; raises RegistrationFailed."""
        from ..transports.web.session import NeedsConfirmation

        self._require_login()
        try:
            return self.web.listing(place)
        except NeedsConfirmation:
            raise RegistrationFailed("new-ip", self._needs_confirmation()) from None

    def _via_web(self, registration: Registration, action: Callable[[Registration], Outcome]) -> Result:
        outcome = action(registration)
        status = {"registered": Status.REGISTERED, "exists": Status.EXISTS, "removed": Status.REMOVED}
        return _result(registration, status[outcome.status], outcome.pending, outcome.message, method="web")

    def _guard(self, registration: Registration, method: str, run: Callable[[], Result]) -> Result:
        """Run one transport; turn confirmation needs and failures into results (ApiNotServed passes through)."""
        from ..transports.web.session import NeedsConfirmation

        self.web.pending_page_used = None
        try:
            return run()
        except NeedsConfirmation:
            pending, known = self._where(registration)
            return _result(
                registration,
                Status.NEEDS_CONFIRMATION,
                pending,
                self._needs_confirmation(),
                reason="new-ip",
                method=method,
                known=known,
            )
        except RegistrationFailed as exc:
            return self.failure(registration, exc, method)

    def _needs_confirmation(self) -> str:
        """What happened, and what works where we run (a terminal, a CI runner)."""
        return f"{NEEDS_CONFIRMATION} {self.confirmer.advice}"

    def failure(self, registration: Registration, exc: RegistrationFailed, method: str) -> Result:
        """A failed result whose manual link points where a human can finish the job."""
        pending, known = self.web.pending_page_used, ""
        if exc.reason in ("project-exists-owner", "project-missing"):
            pending = exc.reason == "project-missing"
        elif pending is None:
            pending, known = self._where(registration, exc.reason)
        return _result(
            registration,
            Status.FAILED,
            pending,
            exc.message,
            reason=exc.reason,
            method=method,
            retry_after=exc.retry_after,
            known=known,
        )

    def _where(self, registration: Registration, reason: str = "") -> tuple[bool | None, str]:
        """Pending or not, for a result that reached no publishing page, and what is known about it.

        With the auto target, the public simple index is asked (no login) unless the index did not answer.
        """
        from ..transports.web.simple import project_listed

        if registration.target is not Target.AUTO:
            return registration.target is Target.PENDING, ""
        if reason in ("network", "timeout"):
            return None, ""
        listed = project_listed(self.http, registration.normalized_project)
        if listed:
            return False, ""
        if listed is False:
            name, host = registration.normalized_project, self.index.host
            return None, f"{host} lists no project {name!r}, so it probably does not exist yet."
        return None, ""

    def _via_api(self, registration: Registration) -> Result:
        """Register through the token API; ApiNotServed (remembered for the next one) when the index has none."""
        from ..transports.token_api import ApiNotServed, TokenApi

        if self._api_served is False:
            raise ApiNotServed()
        try:
            outcome = TokenApi(self.http, self.credentials.api_token).register(registration)
        except ApiNotServed:
            self._api_served = False
            raise
        self._api_served = True
        status = Status.REGISTERED if outcome.status == "registered" else Status.EXISTS
        return _result(registration, status, False, outcome.message, method="api")

    def _link_only(self, registration: Registration, notes: list[str]) -> Result:
        pending, known = self._where(registration)
        reason = "api-not-served" if notes else "no-credentials"
        if self.method == "link":
            notes, reason = ["Only the manual link was asked for (method link)"], "link-only"
        elif self.method == "auto":
            if self.credentials.api_token and registration.target is Target.PENDING:
                notes.append("The token API cannot register pending publishers")
            if missing := missing_login(self.credentials, self.credential_names):
                notes.append(f"{missing}, so the tool could not log in")
        why = sentences(*notes)
        return _result(
            registration,
            Status.FAILED,
            pending,
            sentences(
                why,
                "PyPI has no live API for registering publishers, so nothing was registered",
                "Open the manual link below (it is prefilled) and press Add"
                if pending is False
                else "Register it by hand as the manual steps below say",
            ),
            reason=reason,
            method="link",
            known=known,
        )


@dataclass(frozen=True)
class Login:
    """How a run logged in: which second factor, and whether the security key was removed afterwards."""

    second_factor: str = ""  # "security-key", "totp", "none"; "" when the run never logged in
    passkey_removed: bool = False
    problem: str = ""  # why a requested removal did not happen

    @property
    def output(self) -> str:
        """The action's ``login`` output: security-key, security-key-removed, totp or none."""
        if self.passkey_removed:
            return "security-key-removed"
        return self.second_factor if self.second_factor in ("security-key", "totp") else "none"


@dataclass(frozen=True)
class Batch:
    results: list[Result]
    login: Login = field(default_factory=Login)
    notes: Sequence[str] = ()  # what the new-IP confirmation channel did


@contextmanager
def engine(index: Index, credentials: Credentials, options: EngineOptions | None = None) -> Iterator[Engine]:
    instance = Engine(index, credentials, options)
    try:
        yield instance
    finally:
        instance.close()


def register(
    registration: Registration, credentials: Credentials, options: EngineOptions | None = None, *, dry_run: bool = False
) -> Result:
    """Register one publisher; never raises for remote failures."""
    if dry_run:
        return plan(registration)
    with engine(registration.index, credentials, options) as eng:
        return eng.register(registration)


def register_many(
    registrations: Iterable[Registration], credentials: Credentials, options: EngineOptions | None = None
) -> list[Result]:
    """One login per index for many registrations; one item's failure does not stop the rest."""
    return run_batch(registrations, credentials, options).results


def run_batch(
    registrations: Iterable[Registration],
    credentials: Credentials,
    options: EngineOptions | None = None,
    *,
    remove_passkey: bool = False,
) -> Batch:
    """:func:`register_many`, also saying how it logged in; ``remove_passkey`` removes the key at the end."""
    registrations = list(registrations)
    results: list[Result] = []
    engines: dict[str, Engine] = {}
    refused: dict[str, RegistrationFailed] = {}
    try:
        for registration in registrations:
            url = registration.index.url
            eng = engines.get(url)
            if eng is None:
                eng = engines[url] = Engine(registration.index, credentials, options)
                try:
                    eng.check_pending_room([r for r in registrations if r.index.url == url])
                except RegistrationFailed as exc:
                    refused[url] = exc
            if url in refused:
                results.append(eng.failure(registration, refused[url], "web"))
                continue
            results.append(eng.register(registration))
        login = _login(list(engines.values()), remove_passkey)
    finally:
        for eng in engines.values():
            eng.close()
    return Batch(results, login)


def _login(engines: Iterable[Engine], remove_passkey: bool) -> Login:
    factors = [eng.session.second_factor for eng in engines if eng.session.second_factor]
    key_engine = next((eng for eng in engines if eng.session.second_factor == "security-key"), None)
    if key_engine is not None and remove_passkey:
        return key_engine.remove_passkey()
    login = Login(factors[0] if factors else "")
    if remove_passkey:
        return replace(login, problem="the run did not log in with the security key, so it is still on the account")
    return login
