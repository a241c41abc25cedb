"""Parsers for Warehouse's HTML pages (CSS selectors, never regular expressions).

Selectors follow the markup recorded from a running Warehouse
(``docs/protocol/README.md#recordings``) and the templates cited in ``docs/protocol/``.
Several forms share field names, so everything form-related is scoped by form id.
"""

from __future__ import annotations

from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from ...core.errors import RegistrationFailed
from ...core.models import Row
from ...core.publishers import (
    GITLAB_ISSUER,
    ActiveStatePublisher,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
    Publisher,
)

REAUTH_ACTION = "/account/reauthenticate/"
DELETE_DEVICE_ACTION = "/manage/account/webauthn-provision/delete"


@dataclass(frozen=True)
class Flash:
    level: str  # "error", "warning", "info" or "success"
    text: str


class PageChanged(RegistrationFailed):
    """A page lacks what the tool relies on (a form, its action, a field, the CSRF token): stop before anything more is
    posted, never guess (docs/protocol/errors.md#page-changed)."""

    def __init__(self, detail: str, page: str = "") -> None:
        where = f"PyPI's {page}" if page else "A page of the index"
        super().__init__("page-changed", f"{where} changed ({detail}), so nothing more was sent; Warehouse may have "
                         "changed its markup")  # fmt: skip
        self.detail, self.page = detail, page


def _text(node: Node | None) -> str:
    return " ".join(node.text(deep=True).split()) if node is not None else ""


def _errors_of(block: Node) -> str:
    """The field whose ``<field>-errors`` id the block, or the nearest element around it, carries."""
    node: Node | None = block
    while node is not None and node.tag != "form":
        ident = node.attributes.get("id") or ""
        if ident.endswith("-errors"):
            return ident.removesuffix("-errors")
        node = node.parent
    return ""


class Page:
    """A parsed HTML response."""

    def __init__(self, html: str, name: str = "") -> None:
        self.tree = HTMLParser(html)
        self.name = name  # what the page is, for a PageChanged ("login page", "publishing page of my-pkg")

    def changed(self, detail: str) -> PageChanged:
        return PageChanged(detail, self.name)

    def form_with(self, *names: str, action: str = "") -> Node:
        """The form that holds every one of these fields (and, when it names an action, posts to ``action``'s path);
        PageChanged naming what is missing if no form does."""
        forms = self.tree.css("form")
        if not forms:
            raise self.changed("no form on the page")
        closest = sorted(names)
        for form in forms:
            have = {node.attributes.get("name") for node in form.css("input, select, textarea, button")}
            missing = sorted(set(names) - have)
            target = (form.attributes.get("action") or "").split("?")[0]
            if action and target and target != action:
                missing.append(f"an action of {action}")
            if not missing:
                return form
            closest = min(closest, missing, key=len)
        raise self.changed(f"no form with {', '.join(closest)}")

    def title(self) -> str:
        return _text(self.tree.css_first("title"))

    def csrf_token(self) -> str:
        for node in self.tree.css("input[name=csrf_token]"):
            value = node.attributes.get("value")
            if value:
                return value
        raise self.changed("no csrf_token on the page")

    def button_token(self, button_id: str) -> str:
        """The CSRF token that WebAuthn pages keep as a button's value for their JavaScript."""
        button = self.tree.css_first(f"button#{button_id}")
        value = button.attributes.get("value") if button is not None else None
        return value or self.csrf_token()

    def security_devices(self) -> dict[str, str]:
        """Label → CSRF token for its removal, for each security device on the account page.

        Devices are the rows of the two-factor tables whose heading names a security device, with the label quoted
        in ``<strong>``. A device that is the account's only two-factor method has no removal form (PyPI would refuse);
        the page's token is given for it, and PyPI's refusal is what the user then reads. A page without the
        two-factor table is not the account page, not an empty list.
        """
        tables = self.tree.css("table.table--2fa")  # two-factor methods, and recovery methods
        if not tables:
            raise self.changed("no two-factor table on the account page")
        devices = {}
        for row in (row for table in tables for row in table.css("tbody tr")):
            heading, label = row.css_first("th"), row.css_first("th strong")
            if heading is None or label is None or "security device" not in _text(heading).lower():
                continue
            name = _text(label).removeprefix('"').removesuffix('"')
            form = row.css_first(f'form[action="{DELETE_DEVICE_ACTION}"]')
            token = form.css_first("input[name=csrf_token]") if form is not None else None
            devices[name] = (token.attributes.get("value") or "") if token is not None else self.csrf_token()
        return devices

    def has_form(self, form_id: str) -> bool:
        return self.tree.css_first(f"form#{form_id}") is not None

    def form_field_names(self, form_id: str) -> set[str]:
        form = self.tree.css_first(f"form#{form_id}")
        if form is None:
            return set()
        names = {
            node.attributes.get("name") or ""
            for node in form.css("input, select, textarea")
            if node.attributes.get("type") not in ("submit", "button", "reset")
        }
        return names - {"", "csrf_token"}

    def field_errors(self, scope: str = "") -> list[str]:
        """Inline errors (``ul.form-errors li``), optionally inside ``form#scope``."""
        return [text for texts in self.errors_by_field(scope).values() for text in texts]

    def errors_by_field(self, scope: str = "") -> dict[str, list[str]]:
        """Inline errors by the field they belong to: the ``<field>-errors`` block around them, or ``""`` for the form.

        See docs/protocol/errors.md#inline.
        """
        root = self.tree.css_first(f"form#{scope}") if scope else self.tree.root
        found: dict[str, list[str]] = {}
        for block in root.css("ul.form-errors") if root is not None else []:
            texts = [_text(li) for li in block.css("li") if _text(li)]
            if texts:
                found.setdefault(_errors_of(block), []).extend(texts)
        return found

    def is_reauth(self) -> bool:
        return self.tree.css_first(f'form[action="{REAUTH_ACTION}"]') is not None

    def reauth_fields(self) -> dict[str, str]:
        form = self.tree.css_first(f'form[action="{REAUTH_ACTION}"]')
        if form is None:
            raise self.changed("no reauthentication form")
        fields = {}
        for node in form.css("input[type=hidden]"):
            name = node.attributes.get("name")
            if name:
                fields[name] = node.attributes.get("value") or ""
        missing = {"csrf_token", "next_route", "next_route_matchdict", "next_route_query"} - set(fields)
        if missing:
            raise self.changed(f"reauthentication form lacks {', '.join(sorted(missing))}")
        return fields

    def flashes(self) -> list[Flash]:
        found = []
        for bar in self.tree.css("div.notification-bar"):
            classes = (bar.attributes.get("class") or "").split()
            level = "info"
            for suffix, name in (("danger", "error"), ("warning", "warning"), ("success", "success")):
                if f"notification-bar--{suffix}" in classes:
                    level = name
            message = _text(bar.css_first("span.notification-bar__message"))
            if message:
                found.append(Flash(level, message))
        return found

    def publisher_rows(self, *, pending: bool) -> list[Row]:
        """Rows of the publisher table: the project's, or the pending one.

        A page that shows neither the table nor its "none configured" text is not a
        listing we understand (a truncated or changed page): better stop than post blind.
        """
        empty = f"No {'pending ' if pending else ''}publishers are currently configured"
        tables = [t for t in self.tree.css("table.table--publisher-list") if _is_pending_table(t) == pending]
        if not tables and not any(_text(p).startswith(empty) for p in self.tree.css("p")):
            raise self.changed("no publisher listing on the page")
        try:
            return [_parse_row(tr, pending=pending) for table in tables for tr in table.css("tbody tr")]
        except PageChanged as exc:
            raise self.changed(exc.detail) from None


def _is_pending_table(table: Node) -> bool:
    header = [_text(th) for th in table.css("thead th")]
    return bool(header) and header[0].lower().startswith("pending project")


def _details(cell: Node) -> dict[str, str]:
    """``<b>Label:</b> value<br>…`` → {"label": "value"}."""
    details: dict[str, str] = {}
    label = ""
    parts: list[str] = []
    container = cell.css_first("small") or cell
    node = container.first_child
    while node is not None:
        if node.tag == "b":
            if label:
                details[label] = " ".join(" ".join(parts).split())
            label = _text(node).rstrip(":").strip().lower()
            parts = []
        elif node.tag == "i":
            parts.append("")  # "(Any)" placeholder: an empty value
        elif node.tag not in ("br", "-comment"):
            parts.append(node.text(deep=True))
        node = node.next
    if label:
        details[label] = " ".join(" ".join(parts).split())
    return details


def _parse_row(tr: Node, *, pending: bool) -> Row:
    cells = tr.css("td")
    offset = 1 if pending else 0
    if len(cells) < offset + 3:
        raise PageChanged("publisher row has too few cells")
    publisher_id = _row_id(tr)
    kind = _text(cells[offset]).lower()
    details = _details(cells[offset + 1])
    project_name = _text(cells[0]) if pending else ""
    try:
        publisher = _publisher(kind, details)
    except KeyError as exc:
        raise PageChanged(f"{kind} publisher row lacks {exc}") from None
    return Row(publisher_id, publisher, project_name)


def _row_id(tr: Node) -> str:
    """The publisher id, from the Remove link (recorded markup) or button (newer markup)."""
    link = tr.css_first('a[href^="#remove-publisher-"]')
    if link is not None:
        return (link.attributes.get("href") or "").removeprefix("#remove-publisher-")
    button = tr.css_first('input[form^="delete-publisher-"]')
    if button is not None:
        return (button.attributes.get("form") or "").removeprefix("delete-publisher-")
    return ""


def _publisher(kind: str, d: dict[str, str]) -> Publisher:
    if kind == "github":
        owner, _, repository = d["repository"].partition("/")
        return GitHubPublisher(owner, repository, d["workflow"], d.get("environment name", ""))
    if kind == "gitlab":
        namespace, _, project = d["project"].rpartition("/")
        return GitLabPublisher(
            namespace,
            project,
            d["top-level pipeline"],
            d.get("environment name", ""),
            d.get("issuer", "") or GITLAB_ISSUER,
        )
    if kind == "google":
        return GooglePublisher(d["email"], d.get("subject", ""))
    if kind == "activestate":
        return ActiveStatePublisher(d["organization"], d["activestate project"], d["actor"])
    raise PageChanged(f"unknown publisher kind {kind!r}")
