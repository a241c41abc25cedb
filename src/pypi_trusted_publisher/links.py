"""URLs of the publishing pages, and the prefilled manual fallback (contract §5)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from .models import Place, Registration

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


def manual_steps(registration: Registration, pending: bool) -> tuple[str, ...]:
    """What to type on a page that has no prefill (the pending pages)."""
    if not pending:
        return ()
    publisher = registration.publisher
    steps = [f"Open {pending_page(registration)} and choose the {publisher.title} tab."]
    steps.append(f"PyPI Project Name: {registration.project}")
    for name, value in publisher.form_fields().items():
        steps.append(f"{name}: {value or '(leave empty)'}")
    steps.append("Press 'Add'.")
    return tuple(steps)


def removal_steps(registration: Registration, pending: bool) -> tuple[str, ...]:
    """How to remove a publisher by hand."""
    return (
        f"Open {manage_url(registration, pending)}, find the {registration.publisher.title} publisher in the "
        "list and press 'Remove'.",
    )


def manage_url(registration: Registration, pending: bool) -> str:
    return pending_page(registration) if pending else project_page(registration)


def manual_url(registration: Registration, pending: bool) -> str:
    return pending_page(registration) if pending else prefill_url(registration)
