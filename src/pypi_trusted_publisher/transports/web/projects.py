"""The projects an account (or an organization) has, and whether the user may manage each one.

Warehouse's ``/manage/projects/`` lists every project the user has a role on, plus
those of organizations the user owns; ``/manage/organization/<name>/projects/``
lists an organization's projects to any of its members. Both render one
``div.package-snippet`` per project whose "Manage" button is a link for an Owner
(project, organization or team Owner) and a disabled button for everyone else
(``templates/manage/projects.html``, ``manage/organization/projects.html``).
Invitations share the markup but carry an accept/decline form, so they are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from selectolax.lexbor import LexborNode as Node

from ...core.errors import RegistrationFailed
from ...core.validation import normalize
from .pages import Page, PageChanged
from .session import WebSession

ACCOUNT_PROJECTS = "/manage/projects/"


@dataclass(frozen=True)
class ListedProject:
    """One project of the page: its name, whether the user may manage it, and its organization."""

    name: str
    owner: bool
    organization: str = ""


def projects_path(organization: str = "") -> str:
    """The account's projects page, or the organization's."""
    if not organization:
        return ACCOUNT_PROJECTS
    return f"/manage/organization/{quote(normalize(organization), safe='')}/projects/"


def read_projects(session: WebSession, organization: str = "") -> list[ListedProject]:
    """Log in when needed and read the account's (or the organization's) projects page."""
    path = projects_path(organization)
    if not session.logged_in:
        session.login(path)
    status, page = session.open(path)
    host = session.http.index.host
    if status == 404:
        raise RegistrationFailed("not-found", f"There is no organization {organization!r} on {host}.")
    if status == 403:
        raise RegistrationFailed("not-member", f"You are not a member of the organization {organization!r} on {host}.")
    return parse_projects(page)


def parse_projects(page: Page) -> list[ListedProject]:
    """Every project snippet of a projects page; a page without a project list is not one we understand."""
    if page.tree.css_first("div.package-list") is None:
        raise PageChanged("no project list", "projects page")
    projects = []
    for snippet in page.tree.css("div.package-list div.package-snippet"):
        if snippet.css_first("input[name=token]") is not None:
            continue  # an invitation, not a role
        projects.append(_project(snippet))
    return projects


def _project(snippet: Node) -> ListedProject:
    title = snippet.css_first("h3.package-snippet__title")
    name = " ".join((title.text(deep=False) if title is not None else "").split())
    if not name:
        raise PageChanged("a project snippet without a name", "projects page")
    buttons = snippet.css_first("div.package-snippet__buttons")
    if buttons is None:
        raise PageChanged(f"no buttons for project {name!r}", "projects page")
    manage_link = buttons.css_first('a.button--primary[href^="/manage/project/"]')
    if manage_link is None and buttons.css_first("button.button--primary[disabled]") is None:
        raise PageChanged(f"no Manage button for project {name!r}", "projects page")
    badge = title.css_first('a.badge[href^="/manage/organization/"]') if title is not None else None
    organization = " ".join(badge.text(deep=True).split()) if badge is not None else ""
    return ListedProject(name, manage_link is not None, organization)
