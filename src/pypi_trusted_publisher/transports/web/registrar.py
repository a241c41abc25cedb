"""Registering publishers through the publishing pages (docs/protocol/registration.md#tool-flow).

One :class:`WebRegistrar` holds one logged-in session, so a batch of
registrations costs one login plus a POST and a read-back each.
The listing is read before posting (idempotence) and after (verification);
a POST is never repeated: when its outcome is unknown, the listing decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.utils import canonicalize_name

from ...core.errors import RegistrationFailed, UsageError
from ...core.models import Place, Registration, Row, Target
from ...core.publishers import Publisher, same_publisher
from ...core.validation import validate_project_name, validate_publisher
from ...core.wording import plural, sentences
from .. import links
from . import refusals
from .http import retry_after_seconds
from .pages import Page
from .projects import ACCOUNT_PROJECTS, parse_projects
from .session import WebSession

PENDING_LIMIT = 3

# Flash texts (docs/protocol/errors.md#flash-reasons) → (reason, advice). Matched by substring, by queue.
@dataclass(frozen=True)
class Outcome:
    status: str  # "registered", "exists" or "removed"
    pending: bool
    message: str


class WebRegistrar:
    def __init__(self, session: WebSession) -> None:
        self.session = session
        # Which page the last registration ended up on (None: not reached yet).
        self.pending_page_used: bool | None = None
        # The page each read-back fetched: the next registration on the same page starts
        # from it instead of a new GET (the pending page is shared by every new project).
        self._latest: dict[str, Page] = {}

    def _open(self, path: str) -> tuple[int, Page]:
        """A page we read back a moment ago, else a fresh GET."""
        cached = self._latest.pop(path, None)
        return (200, cached) if cached is not None else self.session.open(path)

    def ensure_login(self, place: Place) -> None:
        if not self.session.logged_in:
            first = links.pending_page(place) if place.target is Target.PENDING else links.project_page(place)
            self.session.login(_path(first, place))

    def register(self, registration: Registration) -> Outcome:
        self.ensure_login(registration.place)
        pending, path, page = self._target_page(registration.place)
        self.pending_page_used = pending
        if pending and registration.target is Target.AUTO:
            _check_pending_inputs(registration)
        rows = page.publisher_rows(pending=pending)
        if _matching(rows, registration, pending) is not None:
            return Outcome(
                "exists", pending, f"This publisher is already registered for {_name(registration, pending)}."
            )
        form_id = ("pending-" if pending else "") + f"{registration.publisher.kind}-publisher-form"
        fields = self._form_fields(page, form_id, registration, pending)
        if pending and not registration.organization:
            self._pending_prechecks(rows, registration)
        fields["csrf_token"] = page.csrf_token()
        return self._post(registration, pending, path, form_id, fields)

    # -- steps ----------------------------------------------------------------

    def _target_page(self, place: Place) -> tuple[bool, str, Page]:
        """Open the page the registration goes to: the project's, else the pending one."""
        if place.target is not Target.PENDING:
            path = _path(links.project_page(place), place)
            status, page = self._open(path)
            if status == 200:
                return False, path, page
            if status == 403:
                raise RegistrationFailed("not-owner", self._not_owner(place))
            if place.target is Target.PROJECT:
                raise RegistrationFailed(
                    "project-missing",
                    f"{place.normalized_project!r} does not exist on {place.index.host}. "
                    "Register a pending publisher instead (--pending): the first trusted upload creates it.",
                )
        path = _path(links.pending_page(place), place)
        status, page = self._open(path)
        if status == 403:
            raise RegistrationFailed(
                "not-owner", f"You are not an Owner of the organization {place.organization!r}."
            )
        if status != 200:
            what = f"organization {place.organization!r}" if place.organization else "page"
            raise RegistrationFailed("not-found", f"The pending-publisher {what} was not found.")
        return True, path, page

    def _not_owner(self, place: Place) -> str:
        """Why the publishing page refused us: the projects page tells a Maintainer from no role (one GET)."""
        name, host = place.normalized_project, place.index.host
        ask = f"Ask an Owner of {name!r} to run this, or to use the manual link below."
        try:
            status, page = self.session.open(ACCOUNT_PROJECTS)
            roles = {str(canonicalize_name(p.name)): p.owner for p in parse_projects(page)} if status == 200 else None
        except RegistrationFailed:
            roles = None
        if roles is None:
            return f"You are not an Owner of {name!r} on {host}; only an Owner can add publishers. {ask}"
        if name not in roles:
            return f"Your account has no role on {name!r} on {host}; only an Owner can add publishers. {ask}"
        if not roles[name]:
            return f"You are a Maintainer of {name!r} on {host}, not an Owner; only an Owner can add publishers. {ask}"
        return (
            f"You are an Owner of {name!r} on {host}, yet PyPI refused its publishing page (HTTP 403); "
            "the project may be quarantined, which allows no changes."
        )

    def listing(self, place: Place) -> tuple[bool, list[Row]]:
        """The publishers of a project, or your (or the organization's) pending ones."""
        self.ensure_login(place)
        pending, path, page = self._target_page(place)
        self._latest[path] = page  # reading changes nothing: the next registration may start from it
        return pending, page.publisher_rows(pending=pending)

    def remove(self, registration: Registration) -> Outcome:
        """Remove the publisher matching the registration's fields, and verify it is gone."""
        self.ensure_login(registration.place)
        pending, path, page = self._target_page(registration.place)
        self.pending_page_used = pending
        row = _matching(page.publisher_rows(pending=pending), registration, pending)
        if row is None or not row.publisher_id:
            raise RegistrationFailed(
                "not-found", f"No such publisher for {_name(registration, pending)}; nothing was removed."
            )
        # Organization rows are removed through the account page (docs/protocol/registration.md#organization-page).
        target = _path(registration.index.page(links.ACCOUNT_PAGE), registration) if pending else path
        response = self.session.http.post(target, {"csrf_token": page.csrf_token(), "publisher_id": row.publisher_id})
        if response.status_code == 303 and not self._listed(registration, pending, path):
            return Outcome("removed", pending, f"Removed the publisher from {_name(registration, pending)}.")
        if response.status_code == 200 and Page(response.text).is_reauth():
            raise RegistrationFailed("reauth-failed", "PyPI asked to confirm the password; nothing was removed.")
        texts = "; ".join(f.text for f in self.session.flashes() if f.level == "error")
        raise RegistrationFailed(
            "remove-failed", f"PyPI did not remove the publisher ({texts or f'HTTP {response.status_code}'})."
        )

    def _form_fields(
        self, page: Page, form_id: str, registration: Registration, pending: bool
    ) -> dict[str, str]:
        """Our fields, checked against the form the page renders (names only)."""
        publisher = registration.publisher
        ours = dict(publisher.form_fields())
        if pending:
            ours["project_name"] = registration.project
        if not page.has_form(form_id):
            if any(page.has_form(f"{p}-publisher-form") for p in ("github", "google")):
                raise RegistrationFailed(
                    "provider-disabled",
                    f"{publisher.title}-based trusted publishing is disabled on {registration.index.host} "
                    "right now (the form is not offered). See https://pypi.org/help#admin-intervention.",
                )
            raise page.changed(f"no {form_id!r} form")
        names = page.form_field_names(form_id)
        unknown, missing = names - set(ours), set(ours) - names
        if unknown:
            raise page.changed(f"the {form_id!r} form asks for fields this tool does not know: "
                               f"{', '.join(sorted(unknown))}")  # fmt: skip
        if missing:  # a renamed field: posting ours would leave Warehouse's empty
            raise page.changed(f"the {form_id!r} form has no {', '.join(sorted(missing))} field")
        return ours

    def _pending_prechecks(self, rows: list[Row], registration: Registration) -> None:
        """Refuse what Warehouse would refuse, without spending a registration attempt."""
        own = [row for row in rows if row.project_name]
        for row in own:
            if same_publisher(row.publisher, registration.publisher):
                raise RegistrationFailed(
                    "pending-other-name",
                    f"You already have this publisher pending for {row.project_name!r}; one "
                    "repository/workflow/environment can be pending for only one project name.",
                )
        if len(own) >= PENDING_LIMIT:
            names = ", ".join(repr(row.project_name) for row in own)
            raise RegistrationFailed(
                "pending-limit",
                f"You can't register more than {PENDING_LIMIT} pending trusted publishers at once "
                f"(you have {names}). Remove one first, or publish one of those projects.",
            )

    def _post(
        self,
        registration: Registration,
        pending: bool,
        path: str,
        form_id: str,
        fields: dict[str, str],
        *,
        after_reauth: bool = False,
    ) -> Outcome:
        try:
            response = self.session.http.post(path, fields)
        except RegistrationFailed as exc:
            if exc.reason not in ("timeout", "network"):
                raise
            # The POST may or may not have landed: the listing decides, never a second POST.
            if self._listed(registration, pending, path):
                return Outcome("registered", pending, _registered(registration, pending))
            raise
        status = response.status_code
        if status == 303:
            if self._listed(registration, pending, path):
                return Outcome("registered", pending, _registered(registration, pending))
            raise RegistrationFailed(
                "not-verified",
                "PyPI answered the registration as successful, but the publisher is not in the "
                "listing afterwards" + (" (an organization duplicate is dropped silently)." if
                                        registration.organization else "."),
            )
        if status == 429:
            wait = retry_after_seconds(response)
            raise RegistrationFailed(
                "rate-limited",
                "There have been too many attempted trusted publisher registrations (100 a day per "
                "account and per IP)." + (f" Try again in {plural(wait, 'second')}." if wait else " Try again later."),
                retry_after=wait,
            )
        if status == 404:
            raise RegistrationFailed(
                "page-changed",
                "PyPI did not accept the form's fields (HTTP 404); Warehouse may have changed.",
            )
        if status == 400:
            raise RegistrationFailed(
                "csrf-rejected", "PyPI rejected the form (HTTP 400: CSRF token or Origin check)."
            )
        if status >= 500 and self._listed(registration, pending, path):
            # A gateway error can hide a POST that landed: the listing decides.
            return Outcome("registered", pending, _registered(registration, pending))
        if status != 200:
            raise self.session.unexpected(response, "registration")
        page = Page(response.text)
        if page.is_reauth() and not after_reauth:
            # The POST was discarded (docs/protocol/reauth.md#discarded-post): reauthenticate, re-read,
            # submit once more.
            self.session.reauthenticate(page)
            _, fresh = self.session.open(path)
            if _matching(fresh.publisher_rows(pending=pending), registration, pending) is not None:
                return Outcome("exists", pending, f"Already registered for {_name(registration, pending)}.")
            fields["csrf_token"] = fresh.csrf_token()
            return self._post(registration, pending, path, form_id, fields, after_reauth=True)
        return self._explain_refusal(page, form_id, pending, registration)

    def _explain_refusal(
        self, page: Page, form_id: str, pending: bool, registration: Registration
    ) -> Outcome:
        if page.is_reauth():
            raise RegistrationFailed("reauth-failed", "PyPI kept asking to confirm the password.")
        flashes = refusals.by_level(f for f in self.session.flashes() if f.level in ("error", "warning"))
        fields = page.errors_by_field(form_id)
        errors = [text for texts in fields.values() for text in texts]
        texts = [text for level in ("error", "warning") for text in flashes.get(level, ())]
        if appeared := refusals.classify(refusals.ALREADY_REGISTERED, flashes):
            # It appeared between our read and our POST: the same publisher, so "exists".
            return Outcome("exists", pending, appeared.text)
        refused = "PyPI refused: " + sentences(*dict.fromkeys(errors))
        if match := refusals.classify(refusals.FIELD, fields):
            advice = match.rule.advice
            if match.reason == "project-exists-owner":
                advice += " Run again with --existing (or without --pending)."
            raise RegistrationFailed(match.reason, sentences(refused, advice))
        if match := refusals.classify(refusals.FLASH, flashes):
            raise RegistrationFailed(match.reason, sentences("PyPI refused: " + sentences(*texts), match.rule.advice))
        if errors:
            raise RegistrationFailed("validation-rejected", refused)
        detail = " ".join(texts) or "no message"
        raise RegistrationFailed(
            "page-changed", f"PyPI did not register the publisher ({detail}); Warehouse may have changed."
        )

    def _listed(self, registration: Registration, pending: bool, path: str) -> bool:
        """Is it listed now? The outcome check of a POST: one retry at most, inside the deadline."""
        _, page = self.session.open(path, attempts=2)
        self._latest[path] = page
        return _matching(page.publisher_rows(pending=pending), registration, pending) is not None


def pending_room(rows: list[Row], planned: list[Registration]) -> None:
    """Refuse a batch whose new pending publishers cannot fit PyPI's per-account limit."""
    new = [r for r in planned if _matching(rows, r, True) is None]
    if new and len(rows) + len(new) > PENDING_LIMIT:
        have = ", ".join(repr(row.project_name) for row in rows) or "none"
        raise RegistrationFailed(
            "pending-limit",
            f"The plan adds {plural(len(new), 'pending publisher')}, you have {len(rows)} ({have}), and PyPI allows "
            f"{PENDING_LIMIT} per account; nothing was registered. Remove some, or use an organization.",
        )


def _check_pending_inputs(registration: Registration) -> None:
    """The project does not exist, so Warehouse's pending-name rules now apply.

    See docs/protocol/validation.md#project-name.
    """
    try:
        validate_project_name(registration.project, pending=True)
        if not registration.organization:
            validate_publisher(registration.publisher, pending=True)
    except UsageError as exc:
        reason = "name-not-allowed" if exc.field == "project" else "invalid-input"
        raise RegistrationFailed(reason, exc.message) from None


def _matching(rows: list[Row], registration: Registration, pending: bool) -> Row | None:
    for row in rows:
        if pending and canonicalize_name(row.project_name) != registration.normalized_project:
            continue
        if same_publisher(row.publisher, registration.publisher):
            return row
    return None


def _path(url: str, place: Place | Registration) -> str:
    return url.removeprefix(place.index.url)


def _name(registration: Registration, pending: bool) -> str:
    what = "pending project" if pending else "project"
    return f"{what} {registration.normalized_project!r} on {registration.index.host}"


def _registered(registration: Registration, pending: bool) -> str:
    publisher: Publisher = registration.publisher
    return f"Registered the {publisher.title} publisher for {_name(registration, pending)}."
