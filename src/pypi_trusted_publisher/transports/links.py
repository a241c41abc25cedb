"""URLs of the publishing pages, and the prefilled manual fallback (docs/protocol/registration.md#prefill)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from ..core.models import Place, Registration

ACCOUNT_PAGE = "/manage/account/publishing/"


def project_page(place: Place | Registration) -> str:
    name = quote(place.normalized_project, safe="")
    return place.index.page(f"/manage/project/{name}/settings/publishing/")


def organization_page(place: Place | Registration) -> str:
    name = quote(place.organization.lower(), safe="")
    return place.index.page(f"/manage/organization/{name}/publishing/")


def pending_page(place: Place | Registration) -> str:
    if place.organization:
        return organization_page(place)
    return place.index.page(ACCOUNT_PAGE)


def prefill_url(registration: Registration) -> str:
    """The project page with ``?provider=…&<field>=…``: a human only clicks Add."""
    publisher = registration.publisher
    query = {"provider": publisher.kind, **publisher.form_fields()}
    return f"{project_page(registration)}?{urlencode(query)}"


def manual_steps(registration: Registration, pending: bool | None, known: str = "") -> tuple[str, ...]:
    """What to type on a page that has no prefill (the pending pages).

    ``pending`` None: nobody found out whether the project exists, so both ways, after ``known``
    (what is known about it).
    """
    if pending is False:
        return ()
    publisher = registration.publisher
    typed = [f"PyPI Project Name: {registration.project}"]
    typed += [f"{name}: {value or '(leave empty)'}" for name, value in publisher.form_fields().items()]
    typed.append("Press 'Add'.")
    if pending:
        return (f"Open {pending_page(registration)} and choose the {publisher.title} tab.", *typed)
    name, host = registration.normalized_project, registration.index.host
    return (
        known or f"Whether {name!r} exists on {host} is not known.",
        f"If it exists and you are an Owner: open {prefill_url(registration)} (prefilled) and press 'Add'.",
        f"If it does not exist yet: open {pending_page(registration)}, choose the {publisher.title} tab "
        "and enter:",
        *typed,
    )


def removal_steps(registration: Registration, pending: bool | None) -> tuple[str, ...]:
    """How to remove a publisher by hand."""
    return (
        f"Open {manage_url(registration, pending)}, find the {registration.publisher.title} publisher in the "
        "list and press 'Remove'.",
    )


def manage_url(registration: Registration, pending: bool | None) -> str:
    return pending_page(registration) if pending else project_page(registration)


def manual_url(registration: Registration, pending: bool | None) -> str:
    """The prefilled project page only where the project is known to exist: else a page that does."""
    return prefill_url(registration) if pending is False else pending_page(registration)
