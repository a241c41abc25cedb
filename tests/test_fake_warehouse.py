"""Tests of the fake Warehouse itself: it must be as strict as the real one.

Driven with plain httpx (no client code), so a failure here is a bug in the fake. Time is
injected through ``FakeWarehouse.clock``; nothing sleeps.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from selectolax.lexbor import LexborHTMLParser, LexborNode

from fake_warehouse import (
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    FakePublisher,
    FakeWarehouse,
)
from pypi_trusted_publisher.credentials.passkey import Passkey
from recordings import recorded_text

PROJECT_PAGE = "/manage/project/danas-proj/settings/publishing/"
ACCOUNT_PAGE = "/manage/account/publishing/"
ORG_PAGE = "/manage/organization/octo-org/publishing/"
GITHUB = {"owner": "octo-org", "repository": "repo", "workflow_filename": "release.yml"}


class Clock:
    """An injectable clock; the fractional start makes "same second" cases reproducible."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.25

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Browser:
    """A cookie-keeping httpx client that remembers the last CSRF token it saw."""

    def __init__(self, wh: FakeWarehouse, *, ip: str = "", origin: bool = True) -> None:
        transport = httpx.HTTPTransport(local_address=ip) if ip else None
        self.wh = wh
        self.client = httpx.Client(
            base_url=wh.url,
            headers={"Origin": wh.url} if origin else {},
            transport=transport,
        )
        self.csrf = ""

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        response = self.client.get(url, **kwargs)
        self.remember_csrf(response)
        return response

    def post(self, url: str, data: dict[str, str], **kwargs: Any) -> httpx.Response:
        response = self.client.post(url, data={"csrf_token": self.csrf, **data}, **kwargs)
        self.remember_csrf(response)
        return response

    def remember_csrf(self, response: httpx.Response) -> None:
        node = html(response).css_first("input[name=csrf_token]")
        if node is not None:
            self.csrf = node.attributes.get("value") or ""

    def totp(self, username: str = DEFAULT_USERNAME) -> str:
        return pyotp.TOTP(self.wh.users[username].totp_secret).at(self.wh.clock())

    def password_step(
        self, username: str = DEFAULT_USERNAME, password: str = DEFAULT_PASSWORD, **extra: str
    ) -> httpx.Response:
        self.get("/account/login/")
        return self.post("/account/login/", {"username": username, "password": password, **extra})

    def login(self, username: str = DEFAULT_USERNAME, **extra: str) -> httpx.Response:
        """Password then TOTP, posting to the Location as given; returns the 2FA response."""
        response = self.password_step(username, self.wh.users[username].password, **extra)
        assert response.status_code == 303, response.text
        return self.post(response.headers["location"], {"totp_value": self.totp(username)})

    def flashes(self) -> list[tuple[str, str]]:
        """(queue marker, message) pairs popped from the flash include."""
        page = html(self.client.get("/_includes/unauthed/flash-messages/"))
        found = []
        for bar in page.css("div.notification-bar"):
            classes = (bar.attributes.get("class") or "").split()
            level = next(
                (c.removeprefix("notification-bar--") for c in classes if c in _LEVELS), ""
            )
            message = one(bar, "span.notification-bar__message")
            found.append((level, message.text(deep=True).strip()))
        return found


_LEVELS = {
    "notification-bar--danger",
    "notification-bar--warning",
    "notification-bar--success",
}


def html(response: httpx.Response | str) -> LexborHTMLParser:
    return LexborHTMLParser(response if isinstance(response, str) else response.text)


def one(root: httpx.Response | LexborHTMLParser | LexborNode, selector: str) -> LexborNode:
    """The first node matching ``selector``; fails the test when there is none."""
    tree = html(root) if isinstance(root, httpx.Response) else root
    node = tree.css_first(selector)
    assert node is not None, f"nothing matches {selector!r}"
    return node


def attr(node: LexborNode, name: str) -> str:
    return node.attributes.get(name) or ""


def text(node: LexborNode | None) -> str:
    return " ".join(node.text(deep=True).split()) if node is not None else ""


def title(response: httpx.Response) -> str:
    return text(html(response).css_first("title"))


def errors_in(response: httpx.Response, form_id: str) -> dict[str, list[str]]:
    """Inline errors of one form by field: ``ul#<field>-errors`` on the publishing pages,
    ``div#<field>-errors > ul`` on the login page."""
    form = one(response, f"form#{form_id}")
    return {
        _error_list_id(ul).removesuffix("-errors"): [text(li) for li in ul.css("li")]
        for ul in form.css("ul.form-errors")
    }


def _error_list_id(ul: LexborNode) -> str:
    return attr(ul, "id") or (attr(ul.parent, "id") if ul.parent is not None else "")


def row_ids(response: httpx.Response) -> list[str]:
    return [
        (a.attributes.get("href") or "").removeprefix("#remove-publisher-")
        for a in html(response).css('table.table--publisher-list a[href^="#remove-publisher-"]')
    ]


@pytest.fixture
def clock(warehouse: FakeWarehouse) -> Clock:
    warehouse.clock = clock = Clock()
    return clock


@pytest.fixture
def wh(warehouse: FakeWarehouse, clock: Clock) -> Iterator[FakeWarehouse]:
    """The fixture warehouse with a clock, a project, an organization and known owners;
    fails the test if the server raised."""
    warehouse.add_project("danas-proj", owners=(DEFAULT_USERNAME,))
    warehouse.add_organization("octo-org", owners=(DEFAULT_USERNAME,))
    warehouse.github_owners = {"octo-org": 1001, "octo": 1002}
    yield warehouse
    assert warehouse.errors == []


@pytest.fixture
def http(wh: FakeWarehouse) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=wh.url) as client:
        yield client


@pytest.fixture
def browser(wh: FakeWarehouse) -> Browser:
    """Logged in as the default user from 127.0.0.1 (a confirmed IP)."""
    b = Browser(wh)
    assert b.login().status_code == 303
    return b


def can_bind(ip: str) -> bool:
    """Other loopback addresses stand in for other client IPs (Linux has all of 127/8)."""
    with socket.socket() as sock:
        try:
            sock.bind((ip, 0))
        except OSError:
            return False
    return True


needs_second_ip = pytest.mark.skipif(not can_bind("127.0.0.2"), reason="cannot bind 127.0.0.2")


# --- Sessions, CSRF and Origin -----------------------------------------------------------------


def test_login_page_creates_session_with_anonymous_csrf(wh: FakeWarehouse) -> None:
    response = httpx.get(f"{wh.url}/account/login/?next=/manage/account/publishing/")
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("session_id=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    form = one(response, "form#login-form")
    names = {attr(n, "name") for n in form.css("input[name]")}
    assert names == {"csrf_token", "next", "username", "password"}
    assert title(response) == "Log in · PyPI"


def test_post_needs_the_session_csrf_token(wh: FakeWarehouse) -> None:
    b = Browser(wh)
    b.get("/account/login/")
    creds = {"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD}
    missing = b.client.post("/account/login/", data=creds)
    assert missing.status_code == 400
    assert "check_csrf_token(): Invalid token" in missing.text
    assert missing.text.startswith("<html>\n <head>\n  <title>400 Bad Request</title>")
    wrong = b.client.post("/account/login/", data={**creds, "csrf_token": "nope"})
    assert wrong.status_code == 400
    in_query = b.client.post(f"/account/login/?csrf_token={b.csrf}", data=creds)
    assert in_query.status_code == 400
    header = b.client.post("/account/login/", data=creds, headers={"X-CSRF-Token": b.csrf})
    assert header.status_code == 303
    no_session = httpx.post(
        f"{wh.url}/account/login/", data={**creds, "csrf_token": b.csrf}, headers={"Origin": wh.url}
    )
    assert no_session.status_code == 400


def test_post_needs_origin_or_referer(wh: FakeWarehouse) -> None:
    b = Browser(wh, origin=False)
    b.get("/account/login/")
    data = {"csrf_token": b.csrf, "username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD}
    missing = b.client.post("/account/login/", data=data)
    assert missing.status_code == 400
    assert "Origin checking failed - missing Origin or Referer." in missing.text
    foreign = b.client.post("/account/login/", data=data, headers={"Origin": "https://evil.test"})
    assert "Origin checking failed - https://evil.test does not match" in foreign.text
    referer = b.client.post("/account/login/", data=data, headers={"Referer": f"{wh.url}/x/"})
    assert referer.status_code == 303
    wh.require_origin = False
    b.get("/account/login/")
    assert b.client.post("/account/login/", data={**data, "csrf_token": b.csrf}).status_code == 303


# --- Login, 2FA, lockouts ------------------------------------------------------------------------


def test_login_field_errors(wh: FakeWarehouse) -> None:
    b = Browser(wh)
    response = b.password_step("dana@example.com", "x")
    assert errors_in(response, "login-form")["username"] == [
        (
            "Usernames are not the same as email addresses. "
            "Enter your username instead of your email address."
        )
    ]
    response = b.password_step("nobody", "x")
    assert errors_in(response, "login-form")["username"] == ["No user found with that username"]
    response = b.password_step(DEFAULT_USERNAME, "wrong")
    assert response.status_code == 200
    assert title(response).startswith("Error processing form")
    node = html(response).css_first("#password-errors ul.form-errors li")
    assert text(node) == "The password is invalid. Try again."


def test_login_lockout_after_ten_failures(wh: FakeWarehouse, clock: Clock) -> None:
    b = Browser(wh)
    for _ in range(10):
        assert "The password is invalid" in b.password_step(DEFAULT_USERNAME, "wrong").text
    locked = b.password_step()  # even the right password
    assert locked.status_code == 200
    assert errors_in(locked, "login-form")["password"] == [
        (
            "There have been too many unsuccessful login attempts. "
            "You have been locked out for 5 minutes. Please try again later."
        )
    ]
    clock.advance(301)
    assert b.password_step().status_code == 303


def test_login_and_two_factor_with_known_ip(wh: FakeWarehouse, clock: Clock) -> None:
    b = Browser(wh)
    anonymous = b.client.get("/account/login/")
    anonymous_sid = anonymous.cookies["session_id"]
    b.remember_csrf(anonymous)
    first = b.post("/account/login/", {**_creds(), "next": ACCOUNT_PAGE})
    location = first.headers["location"]
    prefix = f"{wh.url}/account/two-factor/?"
    assert first.status_code == 303 and location.startswith(prefix)
    token = location.removeprefix(prefix)
    assert "=" not in token and "&" not in token  # the bare token is the query string
    page = b.client.get(location)
    action = attr(one(page, "form#totp-auth-form"), "action")
    assert action == f"/account/two-factor/?{token}="
    code = b.totp()
    done = b.client.post(
        action, data={"csrf_token": b.csrf, "totp_value": f" {code[:3]} {code[3:]}"}
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"{wh.url}{ACCOUNT_PAGE}"
    assert done.cookies["session_id"] != anonymous_sid
    assert wh.users[DEFAULT_USERNAME].last_totp_value == code
    assert wh.users[DEFAULT_USERNAME].last_login == clock.now
    old_csrf = b.csrf
    b.get(ACCOUNT_PAGE)
    assert b.csrf != old_csrf  # rotated at login
    assert b.get("/account/login/").headers["location"] == f"{wh.url}/manage/projects/"


def _creds() -> dict[str, str]:
    return {"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD}


def test_totp_reuse_is_rejected_but_not_counted(wh: FakeWarehouse, clock: Clock) -> None:
    Browser(wh).login()
    clock.advance(2)
    b = Browser(wh)
    location = b.password_step().headers["location"]
    reused = wh.users[DEFAULT_USERNAME].last_totp_value
    assert reused is not None
    for _ in range(8):  # more than the 5 failures that would lock the account
        response = b.post(location, {"totp_value": reused})
        assert response.status_code == 200
        assert text(html(response).css_first("ul#totp-errors li")) == "Invalid TOTP code."
    clock.advance(30)
    assert b.post(location, {"totp_value": b.totp()}).status_code == 303


def test_totp_format_wrong_codes_and_429(wh: FakeWarehouse) -> None:
    b = Browser(wh)
    location = b.password_step().headers["location"]
    response = b.post(location, {"totp_value": "12345"})
    assert title(response).startswith("Error processing form")
    # Regexp and the inline check both run, as with wtforms.
    assert errors_in(response, "totp-auth-form")["totp"] == [
        "TOTP code must be 6 digits.",
        "Invalid TOTP code.",
    ]
    good = b.totp()
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    for _ in range(4):
        assert b.post(location, {"totp_value": wrong}).status_code == 200
    locked = b.post(location, {"totp_value": good})
    assert locked.status_code == 429
    assert locked.reason_phrase == "Too Many Failed Login Attempts"
    assert int(locked.headers["retry-after"]) == 300
    assert "You have been locked out for 5 minutes. Please try again later." in locked.text


def test_two_factor_token_expires(wh: FakeWarehouse, clock: Clock) -> None:
    b = Browser(wh)
    location = b.password_step().headers["location"]
    clock.advance(301)
    response = b.post(location, {"totp_value": b.totp()})
    assert response.headers["location"] == f"{wh.url}/account/login/"
    assert b.flashes() == [("danger", "Invalid or expired two factor login.")]


def test_two_logins_in_the_same_second_fail(wh: FakeWarehouse, clock: Clock) -> None:
    first, second = Browser(wh), Browser(wh)
    location = second.password_step().headers["location"]
    assert first.login().status_code == 303  # sets last_login at X.25 in the same second
    clock.advance(30)  # a fresh code, same token
    response = second.post(location, {"totp_value": second.totp()})
    assert response.headers["location"] == f"{wh.url}/account/login/"
    assert second.flashes() == [("danger", "Invalid or expired two factor login.")]


# --- New device confirmation -------------------------------------------------------------------


def _unconfirmed(wh: FakeWarehouse) -> Browser:
    wh.users[DEFAULT_USERNAME].confirmed_ips.clear()
    b = Browser(wh)
    response = b.login()
    assert response.headers["location"] == f"{wh.url}/account/confirm-login/"
    return b


def test_unknown_ip_gets_confirmation_email(wh: FakeWarehouse) -> None:
    a = _unconfirmed(wh)
    page = a.get("/account/confirm-login/")
    assert title(page) == "Unrecognized device · PyPI"
    assert "Please confirm this login" in page.text
    (mail,) = wh.outbox
    assert mail.to == "dana@example.com"
    assert mail.subject == "[PyPI] Unrecognized login to your PyPI account"
    assert mail.confirm_url.startswith(f"{wh.url}/account/confirm-login/?token=")
    assert mail.confirm_url in mail.body and "- IP address: 127.0.0.1" in mail.body
    assert wh.users[DEFAULT_USERNAME].last_totp_value is None  # not burned
    assert a.get(ACCOUNT_PAGE).status_code == 303  # still logged out
    # A retry within 15 minutes mails nothing new (repeat window) and still ends here.
    assert a.login().headers["location"].endswith("/account/confirm-login/")
    assert len(wh.outbox) == 1


def test_confirm_link_logs_in_the_opening_client(wh: FakeWarehouse) -> None:
    a = _unconfirmed(wh)
    link = wh.outbox[0].confirm_url
    c = Browser(wh)
    response = c.get(link)
    assert response.status_code == 303
    assert response.headers["location"] == f"{wh.url}/manage/projects/"
    assert c.flashes() == [
        ("success", "Your login has been confirmed and this device is now recognized.")
    ]
    assert "127.0.0.1" in wh.users[DEFAULT_USERNAME].confirmed_ips
    assert c.get(ACCOUNT_PAGE).status_code == 200  # logged in, reauth window started
    assert c.csrf
    assert a.get(ACCOUNT_PAGE).status_code == 303  # the password+TOTP client is not
    assert Browser(wh).get(link).headers["location"].endswith("/manage/projects/")  # reusable
    assert c.get(link).headers["location"] == f"{wh.url}/"  # already logged in
    bad = Browser(wh)
    assert bad.get(link + "x").headers["location"] == f"{wh.url}/account/login/"
    assert bad.flashes() == [("danger", "Invalid token: please try to login again")]


@needs_second_ip
def test_confirm_link_from_another_ip_is_refused(wh: FakeWarehouse) -> None:
    _unconfirmed(wh)
    other = Browser(wh, ip="127.0.0.2")
    response = other.get(wh.outbox[0].confirm_url, headers={"X-Forwarded-For": "127.0.0.1"})
    assert response.headers["location"] == f"{wh.url}/account/login/"
    assert other.flashes() == [
        (
            "danger",
            (
                "Device details didn't match, please try again from the device you "
                "originally used to log in."
            ),
        )
    ]
    assert wh.users[DEFAULT_USERNAME].confirmed_ips == set()


def test_confirm_link_expires_after_six_hours(wh: FakeWarehouse, clock: Clock) -> None:
    _unconfirmed(wh)
    clock.advance(6 * 3600 + 1)
    b = Browser(wh)
    assert b.get(wh.outbox[0].confirm_url).headers["location"] == f"{wh.url}/account/login/"
    assert b.flashes() == [("danger", "Expired token: please try to login again")]


@needs_second_ip
def test_remember_device_cookie_skips_2fa_and_confirms_ip(wh: FakeWarehouse) -> None:
    b = Browser(wh)
    response = b.password_step()
    done = b.post(response.headers["location"], {"totp_value": b.totp(), "remember_device": "true"})
    cookie = next(
        c for c in done.headers.get_list("set-cookie") if c.startswith("remember_device=")
    )
    assert "Path=/account/login/" in cookie and "Max-Age=2592000" in cookie
    remembered = Browser(wh, ip="127.0.0.2")
    remembered.client.cookies.set("remember_device", done.cookies["remember_device"])
    response = remembered.password_step()
    assert response.headers["location"] == f"{wh.url}/manage/projects/"
    assert "127.0.0.2" in wh.users[DEFAULT_USERNAME].confirmed_ips
    assert remembered.get(ACCOUNT_PAGE).status_code == 200


# --- Manage pages: permissions, reauth --------------------------------------------------------


def test_manage_pages_redirect_or_refuse(wh: FakeWarehouse) -> None:
    anonymous = httpx.get(f"{wh.url}{ACCOUNT_PAGE}")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == (
        f"{wh.url}/account/login/?next=%2Fmanage%2Faccount%2Fpublishing%2F"
    )
    # No view matches these parameter names; logged out, that is a login redirect too.
    assert httpx.post(f"{wh.url}{ACCOUNT_PAGE}", data=GITHUB).status_code == 303
    wh.add_project("theirs", owners=("someone",), maintainers=(DEFAULT_USERNAME,))
    b = Browser(wh)
    b.login()
    missing = b.get("/manage/project/nope/settings/publishing/")
    assert missing.status_code == 404 and title(missing) == "Page Not Found (404) · PyPI"
    forbidden = b.get("/manage/project/theirs/settings/publishing/")
    assert forbidden.status_code == 403
    assert title(forbidden) == "Access Denied / Forbidden (403) · PyPI"
    assert b.get("/manage/project/Danas_Proj/settings/publishing/").status_code == 200
    assert b.get("/no/such/page/").status_code == 404


def test_projects_page_lists_roles_and_links_only_owned_projects(
    wh: FakeWarehouse, browser: Browser
) -> None:
    wh.add_project("theirs", owners=("someone",), maintainers=(DEFAULT_USERNAME,))
    wh.add_project("org-proj", organization="octo-org")
    wh.add_project("foreign", owners=("someone",))
    page = browser.get("/manage/projects/")
    assert page.status_code == 200 and title(page) == "Your projects · PyPI"
    snippets = {
        " ".join(one(s, "h3").text(deep=False).split()): s for s in html(page).css("div.package-snippet")
    }
    assert sorted(snippets) == ["danas-proj", "org-proj", "theirs"]
    for name in ("danas-proj", "org-proj"):
        manage = one(snippets[name], ".package-snippet__buttons a.button--primary")
        assert attr(manage, "href") == f"/manage/project/{name}/releases/"
    refused = one(snippets["theirs"], ".package-snippet__buttons button.button--primary")
    assert "disabled" in refused.attributes and attr(refused, "title") == "You are not an owner of this project"
    assert [text(a) for a in snippets["danas-proj"].css("h3 a.badge")] == ["Sole owner"]
    assert [text(a) for a in snippets["org-proj"].css("h3 a.badge")] == ["octo-org", "Sole owner"]
    wh.projects["danas-proj"].quarantined = True  # Owners keep the role, lose ProjectsWrite
    assert browser.get(PROJECT_PAGE).status_code == 403
    assert one(browser.get("/manage/projects/"), 'a[href="/manage/project/danas-proj/releases/"]')


def test_unverified_email_and_missing_2fa(wh: FakeWarehouse) -> None:
    wh.add_user("nova", password="pw-nova", verified_email=False)
    b = Browser(wh)
    b.login("nova")
    response = b.get(ACCOUNT_PAGE)
    assert response.headers["location"].startswith(f"{wh.url}/manage/unverified-account/?next=")
    assert b.flashes() == [
        (
            "danger",
            "You must verify your **primary** email address before you can perform this action.",
        )
    ]
    wh.add_user("otto", password="pw-otto", has_2fa=False)
    c = Browser(wh)
    assert c.password_step("otto", "pw-otto").headers["location"] == f"{wh.url}/manage/projects/"
    response = c.get(ACCOUNT_PAGE)
    assert response.headers["location"].startswith(f"{wh.url}/manage/account/two-factor/?next=")
    assert c.flashes() == [
        (
            "danger",
            "Two-factor authentication must be enabled on your account to perform this action.",
        )
    ]


def test_session_expires_after_twelve_idle_hours(
    wh: FakeWarehouse, clock: Clock, browser: Browser
) -> None:
    clock.advance(12 * 3600 - 1)
    assert title(browser.get("/manage/projects/")) == "Your projects · PyPI"
    clock.advance(12 * 3600 + 1)
    assert browser.get("/manage/projects/").status_code == 303


def test_reauth_window(wh: FakeWarehouse, clock: Clock, browser: Browser) -> None:
    clock.advance(wh.reauth_seconds)
    page = browser.get(PROJECT_PAGE + "?provider=github")
    assert page.status_code == 200 and title(page) == "Confirm password · PyPI"
    form = one(page, 'form[action="/account/reauthenticate/"]')
    hidden = {attr(n, "name"): attr(n, "value") for n in form.css("input[type=hidden]")}
    assert json.loads(hidden["next_route_matchdict"]) == {
        "project_name": "danas-proj",
        "traverse": ["danas-proj"],
    }
    assert hidden["next_route"] == "manage.project.settings.publishing"
    assert json.loads(hidden["next_route_query"]) == {"provider": "github"}
    # A POST while reauth is due is discarded: nothing created, no rate-limit hit.
    wh.registration_limit = 1
    discarded = browser.post(PROJECT_PAGE, {**GITHUB, "environment": ""})
    assert title(discarded) == "Confirm password · PyPI"
    assert wh.projects["danas-proj"].publishers == []
    wrong = browser.post("/account/reauthenticate/", {**hidden, "password": "nope"})
    assert wrong.headers["location"] == f"{wh.url}{PROJECT_PAGE}?provider=github"
    assert title(browser.get(PROJECT_PAGE)) == "Confirm password · PyPI"
    right = browser.post("/account/reauthenticate/", {**hidden, "password": DEFAULT_PASSWORD})
    assert right.status_code == 303
    assert title(browser.get(PROJECT_PAGE)) == "Trusted Publisher Management · PyPI"
    assert browser.post(PROJECT_PAGE, {**GITHUB, "environment": ""}).status_code == 303
    wh.expire_reauth(DEFAULT_USERNAME)
    assert title(browser.get(ACCOUNT_PAGE)) == "Confirm password · PyPI"
    bad = {**hidden, "password": DEFAULT_PASSWORD}
    for field, value in (("next_route_matchdict", "{"), ("next_route", "no.such.route")):
        response = browser.post("/account/reauthenticate/", {**bad, field: value})
        assert response.status_code == 400


# --- Project publishing page -----------------------------------------------------------------


def test_missing_parameter_name_is_404_without_flash(wh: FakeWarehouse, browser: Browser) -> None:
    browser.get(PROJECT_PAGE)
    response = browser.post(PROJECT_PAGE, GITHUB)  # no "environment" name at all
    assert response.status_code == 404
    assert browser.flashes() == []


def test_project_publisher_add_duplicate_and_listing(wh: FakeWarehouse, browser: Browser) -> None:
    empty = browser.get(PROJECT_PAGE)
    assert "No publishers are currently configured." in empty.text
    response = browser.post(PROJECT_PAGE, {**GITHUB, "owner": "OCTO-ORG", "environment": "PyPI"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{wh.url}{PROJECT_PAGE}"
    assert browser.flashes() == [
        ("success", "Added release.yml in https://github.com/octo-org/repo to danas-proj")
    ]
    (record,) = wh.projects["danas-proj"].publishers
    assert record.publisher == FakePublisher.github("octo-org", "repo", "release.yml", "pypi")
    assert record.external_id == "1001"
    again = browser.post(PROJECT_PAGE, {**GITHUB, "environment": "pypi"})
    assert again.status_code == 200
    assert browser.flashes() == [("danger", "release.yml is already registered with danas-proj")]
    listing = browser.get(PROJECT_PAGE)
    assert row_ids(listing) == [record.id]
    details = text(html(listing).css_first("table.table--publisher-list tbody tr td small"))
    assert details == "Repository: octo-org/repo Workflow: release.yml Environment name: pypi"
    modal_input = one(listing, f"#remove-publisher-{record.id} input[name=publisher_id]")
    assert attr(modal_input, "value") == record.id


def test_project_publisher_kinds(wh: FakeWarehouse, browser: Browser) -> None:
    wh.activestate_orgs = {"octo-state"}
    wh.activestate_actors = {"octo-actor": "7f1d"}
    browser.get(PROJECT_PAGE)
    gitlab = {
        "namespace": "octo-group",
        "project": "proj",
        "workflow_filepath": ".gitlab-ci.yml",
        "environment": "",
        "issuer_url": "https://gitlab.com",
    }
    posts = [
        (gitlab, "Added .gitlab-ci.yml in https://gitlab.com/octo-group/proj to danas-proj"),
        (
            {"email": "ci@proj.iam.gserviceaccount.com", "sub": ""},
            "Added ci@proj.iam.gserviceaccount.com  to danas-proj",  # two spaces, as live
        ),
        (
            {"organization": "octo-state", "project": "state-proj", "actor": "octo-actor"},
            (
                "Added https://platform.activestate.com/octo-state/state-proj in "
                "https://platform.activestate.com/octo-state/state-proj to danas-proj"
            ),
        ),
    ]
    for data, message in posts:
        assert browser.post(PROJECT_PAGE, data).status_code == 303
        assert browser.flashes() == [("success", message)]
    assert [r.publisher for r in wh.projects["danas-proj"].publishers] == [
        FakePublisher.gitlab("octo-group", "proj", ".gitlab-ci.yml", "", "https://gitlab.com"),
        FakePublisher.google("ci@proj.iam.gserviceaccount.com", ""),
        FakePublisher.activestate("octo-state", "state-proj", "octo-actor"),
    ]
    labels = [
        [text(b) for b in row.css("b")]
        for row in html(browser.get(PROJECT_PAGE)).css("table.table--publisher-list tbody tr")
    ]
    assert labels == [
        ["Project:", "Top-level pipeline:", "Environment name:", "Issuer:"],
        ["Email:", "Subject:"],
        ["Organization:", "ActiveState Project:", "Actor:"],
    ]


def test_project_validation_errors_are_inline_in_the_right_form(
    wh: FakeWarehouse, browser: Browser
) -> None:
    browser.get(PROJECT_PAGE)
    bad = {
        "owner": "nosuch",
        "repository": "re po",
        "workflow_filename": ".github/workflows/x.yml",
        "environment": " env",
    }
    response = browser.post(PROJECT_PAGE, bad)
    assert response.status_code == 200
    assert browser.flashes() == [("danger", "The trusted publisher could not be registered")]
    assert errors_in(response, "github-publisher-form") == {
        "owner": ["Unknown GitHub user or organization."],
        "repository": ["Invalid repository name"],
        "workflow_filename": ["Workflow filename must be a filename only, without directories"],
        "environment": ["Environment name may not start with whitespace"],
    }
    assert html(response).css_first("div#errors") is not None
    assert errors_in(response, "google-publisher-form") == {}
    gitlab = {
        "namespace": "a",
        "project": "x.git",
        "workflow_filepath": "/ci.yml",
        "environment": "bad!",
        "issuer_url": "https://gitlab.example",
    }
    response = browser.post(PROJECT_PAGE, gitlab)
    assert errors_in(response, "gitlab-publisher-form") == {
        "namespace": ["Invalid GitLab username or group/subgroup name."],
        "project": ["Name ends with .git or .atom"],
        "workflow_filepath": ["Top-level pipeline file path cannot start or end with /"],
        "environment": ["Invalid environment name"],
    }
    response = browser.post(
        PROJECT_PAGE, {"organization": "nope", "project": "-a--b", "actor": "nobody"}
    )
    assert errors_in(response, "activestate-publisher-form") == {
        "organization": ["ActiveState organization not found"],
        "project": [
            "Double dashes are not allowed in the name",
            "Leading or trailing dashes are not allowed in the name",
        ],
        "actor": ["ActiveState actor not found"],
    }
    response = browser.post(PROJECT_PAGE, {"email": "not-an-email", "sub": ""})
    assert errors_in(response, "google-publisher-form") == {"email": ["Invalid email address."]}
    assert wh.projects["danas-proj"].publishers == []


def test_disabled_provider(wh: FakeWarehouse, browser: Browser) -> None:
    wh.disabled_providers = {"gitlab", "activestate"}
    page = browser.get(PROJECT_PAGE)
    assert [f.attributes["id"] for f in html(page).css("form[id$=publisher-form]")] == [
        "github-publisher-form",
        "google-publisher-form",
    ]
    response = browser.post(
        PROJECT_PAGE,
        {
            "namespace": "g",
            "project": "p",
            "workflow_filepath": "c.yml",
            "environment": "",
            "issuer_url": "",
        },
    )
    assert response.status_code == 200
    assert browser.flashes() == [
        (
            "danger",
            (
                "GitLab-based trusted publishing is temporarily disabled. "
                "See https://pypi.org/help#admin-intervention for details."
            ),
        )
    ]


def test_prefill_view(wh: FakeWarehouse, browser: Browser) -> None:
    page = browser.get(
        PROJECT_PAGE, params={"provider": "GitHub", "owner": "octo", "repository": "r"}
    )
    tree = html(page)
    assert "Proceed with caution! Some form fields have been autofilled" in text(
        tree.css_first("#prefilled-warning")
    )
    form = one(tree, "form#github-publisher-form")
    assert attr(one(form, "input[name=owner]"), "value") == "octo"
    assert attr(one(form, "input[name=repository]"), "value") == "r"
    assert attr(one(tree, "form#google-publisher-form input[name=email]"), "value") == ""


def test_delete_project_publisher(wh: FakeWarehouse, browser: Browser) -> None:
    record = wh.add_publisher("danas-proj", FakePublisher.github("octo", "repo", "ci.yml"))
    browser.get(PROJECT_PAGE)
    unknown = browser.post(PROJECT_PAGE, {"publisher_id": "0f0f0f0f-0000-4000-8000-000000000000"})
    assert unknown.status_code == 200
    assert browser.flashes() == [("danger", "Invalid publisher for project")]
    assert browser.post(PROJECT_PAGE, {"publisher_id": "not-a-uuid"}).status_code == 200
    assert browser.flashes() == []
    done = browser.post(PROJECT_PAGE, {"publisher_id": record.id})
    assert done.status_code == 303
    assert browser.flashes() == [("success", "Removed trusted publisher for project 'danas-proj'")]
    assert wh.projects["danas-proj"].publishers == []


def test_registration_rate_limit(wh: FakeWarehouse, browser: Browser) -> None:
    wh.registration_limit = 2
    wh.registration_retry_after = 1234
    browser.get(PROJECT_PAGE)
    invalid = browser.post(PROJECT_PAGE, {**GITHUB, "owner": "nosuch", "environment": ""})
    assert invalid.status_code == 200  # counted although invalid: hit before validation
    assert browser.post(PROJECT_PAGE, {**GITHUB, "environment": ""}).status_code == 303
    limited = browser.post(PROJECT_PAGE, {**GITHUB, "environment": "other"})
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1234"
    assert "There have been too many attempted trusted publisher registrations." in limited.text
    assert len(wh.projects["danas-proj"].publishers) == 1
    # The pending page shares the limiter.
    pending = {**GITHUB, "environment": "", "project_name": "brand-new"}
    assert browser.post(ACCOUNT_PAGE, pending).status_code == 429


# --- Pending publishers -----------------------------------------------------------------------


def _pending(name: str, repository: str = "repo", **extra: str) -> dict[str, str]:
    return {**GITHUB, "repository": repository, "environment": "", "project_name": name, **extra}


def test_pending_publisher_lifecycle(wh: FakeWarehouse, browser: Browser) -> None:
    page = browser.get(ACCOUNT_PAGE, params={"provider": "github", "owner": "octo"})
    assert html(page).css_first("#prefilled-warning") is None  # no prefill here
    assert "No pending publishers are currently configured." in page.text
    response = browser.post(ACCOUNT_PAGE, _pending("new-one"))
    assert response.headers["location"] == f"{wh.url}{ACCOUNT_PAGE}"
    assert browser.flashes() == [
        ("success", "Registered a new pending publisher to create the project 'new-one'.")
    ]
    (record,) = wh.pending_publishers
    assert (record.project_name, record.added_by, record.organization) == ("new-one", "dana", None)
    assert browser.post(ACCOUNT_PAGE, _pending("new-one")).status_code == 200
    assert browser.flashes() == [
        (
            "danger",
            (
                "This trusted publisher has already been registered. "
                "Please contact PyPI's admins if this wasn't intentional."
            ),
        )
    ]
    browser.post(ACCOUNT_PAGE, _pending("new-two"))
    assert browser.flashes() == [
        (
            "danger",
            (
                "A pending trusted publisher matching this configuration has already been "
                "registered for a different project name. Please contact PyPI's admins if this "
                "wasn't intentional."
            ),
        )
    ]
    listing = browser.get(ACCOUNT_PAGE)
    table = one(listing, "table.table--publisher-list")
    assert text(table.css_first("thead th")) == "Pending project name"
    assert text(table.css_first("tbody tr td")) == "new-one"
    assert row_ids(listing) == [record.id]
    wh.add_user("eve", password="pw-eve")
    eve = Browser(wh)
    eve.login("eve")
    eve.get(ACCOUNT_PAGE)
    assert eve.post(ACCOUNT_PAGE, {"publisher_id": record.id}).status_code == 200
    assert eve.flashes() == [("danger", "Invalid publisher ID")]
    assert browser.post(ACCOUNT_PAGE, {"publisher_id": record.id}).status_code == 303
    assert browser.flashes() == [("success", "Removed trusted publisher for project 'new-one'")]
    assert wh.pending_publishers == []


def test_pending_limit_of_three_before_rate_limit(wh: FakeWarehouse, browser: Browser) -> None:
    wh.add_pending_publisher(
        "org-made", FakePublisher.google("a@b.example"), added_by="dana", organization="octo-org"
    )
    browser.get(ACCOUNT_PAGE)
    for index in range(2):
        assert browser.post(ACCOUNT_PAGE, _pending(f"p{index}", f"r{index}")).status_code == 303
    browser.flashes()
    wh.registration_limit = 0
    response = browser.post(ACCOUNT_PAGE, _pending("p9", "r9"))
    assert response.status_code == 200
    assert browser.flashes() == [
        ("danger", "You can't register more than 3 pending trusted publishers at once.")
    ]


def test_pending_project_name_rules(wh: FakeWarehouse, browser: Browser) -> None:
    wh.add_project("someone-elses", owners=("someone",))
    browser.get(ACCOUNT_PAGE)
    form = "pending-github-publisher-form"
    cases = [
        ("-bad-", ["Invalid project name", "Invalid project name"]),
        (
            "Json",
            [
                (
                    "This project name isn't allowed "
                    "(conflict with the Python standard library module name)"
                )
            ],
        ),
        ("Someone_Elses", ["This project already exists."]),
        ("s0me0ne-e1ses", ["This project name is too similar to an existing project"]),
    ]
    for name, expected in cases:
        response = browser.post(ACCOUNT_PAGE, _pending(name))
        assert errors_in(response, form)["project_name"] == expected, name
        assert browser.flashes() == [("danger", "The trusted publisher could not be registered")]
    own = browser.post(ACCOUNT_PAGE, _pending("Danas.Proj", environment="PyPI"))
    (error,) = html(own).css(f"form#{form} ul#project_name-errors li")
    assert text(error) == (
        "This project already exists: use the project's publishing settings here to create "
        "a Trusted Publisher for it."
    )
    link = urlsplit(attr(one(error, "a"), "href"))
    assert f"{link.scheme}://{link.netloc}{link.path}" == (
        f"{wh.url}/manage/project/Danas.Proj/settings/publishing/"
    )
    assert parse_qs(link.query) == {
        "project_name": ["Danas.Proj"],
        "owner": ["octo-org"],
        "repository": ["repo"],
        "workflow_filename": ["release.yml"],
        "environment": ["PyPI"],
        "provider": ["github"],
    }
    assert wh.pending_publishers == []


def test_pending_gitlab_accepts_only_gitlab_com(wh: FakeWarehouse, browser: Browser) -> None:
    browser.get(ACCOUNT_PAGE)
    data = {
        "namespace": "grp",
        "project": "proj",
        "workflow_filepath": "ci.yml",
        "environment": " ",
        "project_name": "gl-new",
    }
    custom = browser.post(ACCOUNT_PAGE, {**data, "issuer_url": "https://gitlab.example"})
    assert custom.status_code == 200
    assert browser.flashes() == [("danger", "The trusted publisher could not be registered")]
    assert (
        browser.post(ACCOUNT_PAGE, {**data, "issuer_url": "https://gitlab.com"}).status_code == 303
    )
    (record,) = wh.pending_publishers
    assert record.publisher == FakePublisher.gitlab("grp", "proj", "ci.yml", "", "https://gitlab.com")


# --- Organization page -------------------------------------------------------------------------


def test_organization_pending_publishers(wh: FakeWarehouse, browser: Browser) -> None:
    wh.registration_limit = 0  # not rate limited here
    browser.get(ORG_PAGE)
    response = browser.post(ORG_PAGE, _pending("org-new"))
    assert response.status_code == 303
    assert browser.flashes() == [
        (
            "success",
            (
                "Registered a new pending publisher to create the project 'org-new' owned by "
                "the 'octo-org' organization."
            ),
        )
    ]
    assert browser.post(ORG_PAGE, _pending("org-new")).status_code == 200
    assert browser.flashes() == [
        (
            "danger",
            (
                "This publisher has already been registered in your organization. "
                "See your existing pending publishers below."
            ),
        )
    ]
    silent = browser.post(ORG_PAGE, _pending("org-other"))
    assert silent.status_code == 303 and browser.flashes() == []
    assert [r.project_name for r in wh.pending_publishers] == ["org-new"]
    assert wh.pending_publishers[0].organization == "octo-org"
    page = browser.get(ORG_PAGE)
    modal_form = one(page, f"#remove-publisher-{wh.pending_publishers[0].id} form")
    assert attr(modal_form, "action") == ACCOUNT_PAGE
    assert browser.post(ORG_PAGE, {"publisher_id": wh.pending_publishers[0].id}).status_code == 404
    # Organization rows count toward the account's limit of three.
    assert row_ids(browser.get(ACCOUNT_PAGE)) == [wh.pending_publishers[0].id]


def test_organization_permissions_and_billing(wh: FakeWarehouse, browser: Browser) -> None:
    wh.add_organization("other-org", owners=("someone",))
    assert browser.get("/manage/organization/other-org/publishing/").status_code == 403
    assert browser.get("/manage/organization/missing/publishing/").status_code == 404
    wh.organizations["octo-org"].active = False
    response = browser.get(ORG_PAGE)
    assert response.headers["location"] == f"{wh.url}/manage/organizations/"
    assert browser.flashes() == [
        (
            "danger",
            (
                "This organization's billing is inactive. "
                "Activate billing to manage its projects, teams, and members."
            ),
        )
    ]


# --- Flash, JSON endpoints, logout, faults ----------------------------------------------------


def test_flash_messages_are_popped(wh: FakeWarehouse, browser: Browser) -> None:
    browser.get(PROJECT_PAGE)
    browser.post(PROJECT_PAGE, {"publisher_id": "0f0f0f0f-0000-4000-8000-000000000000"})
    raw = browser.client.get("/_includes/unauthed/flash-messages/")
    bar = one(raw, "div.notification-bar")
    assert attr(bar, "class") == (
        "notification-bar notification-bar--danger notification-bar--dismissable"
    )
    assert browser.client.get("/_includes/unauthed/flash-messages/").text == ""


def test_json_endpoints(wh: FakeWarehouse, http: httpx.Client) -> None:
    wh.add_project("Released_Proj", owners=(DEFAULT_USERNAME,), has_releases=True)
    assert http.get("/pypi/danas-proj/json").json() == {"message": "Not Found"}
    assert http.get("/pypi/nope/json").status_code == 404
    assert http.get("/pypi/released-proj/json").status_code == 200
    moved = http.get("/pypi/Released_Proj/json")
    assert moved.status_code == 301
    assert moved.headers["location"] == f"{wh.url}/pypi/released-proj/json"
    assert http.get("/_/oidc/audience").json() == {"audience": "pypi"}


def test_simple_index_lists_every_project_even_without_releases(
    wh: FakeWarehouse, http: httpx.Client
) -> None:
    """``api.simple.detail``: traversal finds any project (``ProjectFactory``), files or not."""
    pep691 = {"Accept": "application/vnd.pypi.simple.v1+json"}
    listed = http.get("/simple/danas-proj/", headers=pep691)
    assert listed.status_code == 200 and listed.headers["content-type"] == pep691["Accept"]
    assert listed.json()["name"] == "danas-proj" and listed.json()["files"] == []
    page = http.get("/simple/danas-proj/")
    assert page.status_code == 200 and title(page) == "Links for danas-proj"
    moved = http.get("/simple/Danas_Proj/")
    assert moved.status_code == 301 and moved.headers["location"] == f"{wh.url}/simple/danas-proj/"
    assert http.get("/simple/nope/", headers=pep691).status_code == 404
    assert http.post("/simple/danas-proj/").status_code == 404


def test_logout(wh: FakeWarehouse, browser: Browser) -> None:
    browser.get(ACCOUNT_PAGE)
    response = browser.post("/account/logout/", {})
    assert response.headers["location"] == f"{wh.url}/"
    assert browser.get(ACCOUNT_PAGE).status_code == 303


def test_token_api(wh: FakeWarehouse, http: httpx.Client) -> None:
    wh.add_api_token("pypi-owner", DEFAULT_USERNAME)
    wh.add_user("mia", password="pw")
    wh.projects["danas-proj"].maintainers.append("mia")
    wh.add_api_token("pypi-maintainer", "mia")
    base = "/danger-api/projects/danas-proj/trusted-publishers"
    owner = {"Authorization": "Token pypi-owner"}
    off = http.get(base, headers=owner)
    assert off.status_code == 404 and title(off) == "Page Not Found (404) · PyPI"
    wh.token_api = True
    assert http.get(base).status_code == 403
    assert http.get(base, headers={**owner, "Accept": "application/json"}).status_code == 404
    assert http.get(base, headers={"Authorization": "Bearer pypi-maintainer"}).status_code == 403
    assert http.get(base, auth=("__token__", "pypi-owner")).json() == {"trusted_publishers": []}
    assert http.get(base.replace("danas-proj", "nope"), headers=owner).status_code == 404
    body = {"publisher": "github", **GITHUB}
    created = http.post(base, json=body, headers=owner)
    assert created.status_code == 201
    publisher = created.json()["trusted_publisher"]
    assert publisher["publisher_name"] == "GitHub"
    assert publisher["specifier"] == "release.yml"
    assert http.post(base, json=body, headers=owner).json() == {
        "error": "release.yml is already registered with danas-proj"
    }
    invalid = http.post(base, json={**body, "owner": "nosuch"}, headers=owner)
    assert invalid.status_code == 400
    assert invalid.json() == {"errors": {"owner": ["Unknown GitHub user or organization."]}}
    assert http.post(base, json={"publisher": "x"}, headers=owner).json() == {
        "error": "Unknown publisher type: 'x'"
    }
    wh.registration_limit = 3
    limited = http.post(base, json=body, headers=owner)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3600"
    item = f"{base}/{publisher['id']}"
    assert http.delete(item, headers=owner).status_code == 200
    assert http.delete(item, headers=owner).json() == {
        "error": "Publisher not found for this project"
    }


def test_fault_injection_and_request_log(wh: FakeWarehouse) -> None:
    wh.fail_next("GET", "/account/login/", status=503, headers={"Retry-After": "7"}, body="busy")
    with httpx.Client(base_url=wh.url) as client:
        failed = client.get("/account/login/")
        assert (failed.status_code, failed.headers["retry-after"], failed.text) == (
            503,
            "7",
            "busy",
        )
        assert client.get("/account/login/").status_code == 200
    wh.fail_next("*", "/_/oidc/", drop_connection=True)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{wh.url}/_/oidc/audience")
    assert [(r.method, r.path, r.status) for r in wh.requests] == [
        ("GET", "/account/login/", 503),
        ("GET", "/account/login/", 200),
        ("GET", "/_/oidc/audience", 0),
    ]
    assert wh.requests[0].client_ip == "127.0.0.1"


def test_any_github_owner_knob(wh: FakeWarehouse, browser: Browser) -> None:
    """For manual runs: every valid login is a GitHub owner, except the recordings' ``nosuch…``."""
    wh.any_github_owner = True
    browser.get(PROJECT_PAGE)
    added = browser.post(PROJECT_PAGE, {**GITHUB, "owner": "Anybody-At-All", "environment": ""})
    assert added.status_code == 303
    (record,) = wh.projects["danas-proj"].publishers
    assert record.publisher["owner"] == "Anybody-At-All" and record.external_id
    refused = browser.post(PROJECT_PAGE, {**GITHUB, "owner": "nosuch-x", "environment": ""})
    assert errors_in(refused, "github-publisher-form") == {"owner": ["Unknown GitHub user or organization."]}


@contextlib.contextmanager
def standalone(*args: str) -> Iterator[list[str]]:
    """``python -m tests.fake_warehouse`` running, and what it printed up to its "Press Ctrl-C" line."""
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_warehouse", "--port", "0", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        lines: list[str] = []
        while not lines or not lines[-1].startswith("Press Ctrl-C"):
            line = process.stdout.readline()
            assert line, f"the server stopped after printing {lines}"
            lines.append(line.rstrip("\n"))
        yield lines
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_standalone_server_prints_how_to_use_it() -> None:
    with standalone("--project", "demo-pkg", "--github-owner", "octo-org") as lines:
        url = lines[0].split()[-1]
        credentials = dict(line.split(":", 1) for line in lines[1:5])
        assert credentials["username"].strip() == DEFAULT_USERNAME
        assert credentials["TOTP secret"].strip() and credentials["password"].strip() == DEFAULT_PASSWORD
        said = "\n".join(lines)
        assert "GitHub owners: octo-org" in said and "demo-pkg (owned by dana)" in said
        assert f"pypi-trusted-publisher add --index {url}" in said and "PYPI_TOTP_SECRET=" in said
        assert httpx.get(f"{url}/account/login/").status_code == 200
        assert httpx.get(f"{url}/simple/demo-pkg/").status_code == 200


def test_standalone_server_reads_a_config(tmp_path: Path) -> None:
    config = tmp_path / "fake.toml"
    config.write_text(
        'github_owners = ["octo"]\n'
        '[[user]]\nusername = "erin"\npassword = "pw-erin"\n'
        '[[organization]]\nname = "octo-org"\nowners = ["erin"]\n'
        '[[project]]\nname = "erins-pkg"\nowners = ["erin"]\nmaintainers = ["dana"]\nhas_releases = true\n',
        encoding="utf-8",
    )
    with standalone("--config", str(config)) as lines:
        said = "\n".join(lines)
        assert "user erin: password pw-erin, TOTP secret " in said
        assert "erins-pkg (owned by erin; maintained by dana)" in said and "organization octo-org" in said
        url = lines[0].split()[-1]
        assert httpx.get(f"{url}/pypi/erins-pkg/json").status_code == 200


def test_standalone_server_refuses_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "fake.toml"
    config.write_text('[[project]]\nname = "x"\ncolour = "red"\n', encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-m", "tests.fake_warehouse", "--config", str(config)],
        cwd=root, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and "colour" in proc.stderr and "Traceback" not in proc.stderr


# --- Markup parity with the recorded pages ----------------------------------------------------


def client_view(markup: str) -> dict[str, Any]:
    """What a client selects on: forms and their input names, publisher tables, inline
    errors, flash bars and the reauth form's hidden inputs."""
    tree = html(markup)
    forms = {
        form.attributes["id"]: sorted(
            {
                n.attributes.get("name") or ""
                for n in form.css("input, select, textarea")
                if n.attributes.get("type") not in ("submit", "button", "reset")
            }
            - {""}
        )
        for form in tree.css("form[id]")
    }
    projects = [
        (
            " ".join(snippet.css_first("h3").text(deep=False).split()),
            [text(a) for a in snippet.css("h3 a.badge")],
            [(n.tag, attr(n, "title")) for n in snippet.css(".package-snippet__buttons .button--primary")],
        )
        for snippet in tree.css("div.package-list div.package-snippet")
    ]
    tables = [
        {
            "headers": [text(th) for th in table.css("thead th")],
            "rows": [
                (
                    len(tr.css("td")),
                    [text(b) for b in tr.css("b")],
                    bool(tr.css_first("a[href^='#remove-publisher-']")),
                )
                for tr in table.css("tbody tr")
            ],
        }
        for table in tree.css("table.table--publisher-list")
    ]
    return {
        "title": text(tree.css_first("title")).rsplit(" · ", 1)[0],
        "forms": forms,
        "projects": projects,
        "tables": tables,
        "modals": len(tree.css("div.modal form input[name=publisher_id]")),
        "errors": sorted((_error_list_id(ul), text(ul)) for ul in tree.css("ul.form-errors")),
        "flashes": [
            (bar.attributes.get("class"), text(bar.css_first("span.notification-bar__message")))
            for bar in tree.css("div.notification-bar")
            if not _inside(bar, "noscript")
        ],
        "reauth": sorted(
            n.attributes.get("name") or ""
            for n in tree.css('form[action="/account/reauthenticate/"] input[type=hidden]')
        ),
    }


def _inside(node: LexborNode, tag: str) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag == tag:
            return True
        parent = parent.parent
    return False


recorded = recorded_text


def test_markup_matches_recorded_pages(wh: FakeWarehouse, clock: Clock) -> None:
    wh.users[DEFAULT_USERNAME].confirmed_ips.clear()
    wh.disabled_providers = {"gitlab", "activestate"}
    b = Browser(wh)
    pairs = [("01-login.html", b.get("/account/login/").text)]
    wrong = b.post("/account/login/", {**_creds(), "password": "wrong"})
    pairs.append(("02-login-wrong-password.html", wrong.text))
    location = b.post("/account/login/", _creds()).headers["location"]
    pairs.append(("04-two-factor.html", b.get(location).text))
    pairs.append(("05-two-factor-wrong-totp.html", b.post(location, {"totp_value": "000000"}).text))
    b.post(location, {"totp_value": b.totp()})
    pairs.append(("07-confirm-login.html", b.get("/account/confirm-login/").text))
    b.get(wh.outbox[0].confirm_url)
    pairs.append(("12-manage-projects.html", b.get("/manage/projects/").text))
    pairs.append(
        (
            "11-confirm-login-token-flash.html",
            b.client.get("/_includes/unauthed/flash-messages/").text,
        )
    )
    pairs.append(("13-account-publishing-empty.html", b.get(ACCOUNT_PAGE).text))
    b.post(ACCOUNT_PAGE, _pending("dana-new-0", "repo-0", environment="pypi"))
    b.flashes()
    bad_owner = b.post(ACCOUNT_PAGE, _pending("dana-new-bad", owner="nosuch-x", environment="pypi"))
    pairs.append(("17-account-publishing-post-bad-owner.html", bad_owner.text))
    pairs.append(
        (
            "18-account-publishing-post-bad-owner-flash.html",
            b.client.get("/_includes/unauthed/flash-messages/").text,
        )
    )
    own_name = b.post(ACCOUNT_PAGE, _pending("danas-proj", "dana-repo-x2", environment="pypi"))
    pairs.append(("21-account-publishing-post-name-exists-own.html", own_name.text))
    for index in (1, 2):
        b.post(ACCOUNT_PAGE, _pending(f"dana-new-{index}", f"repo-{index}", environment="pypi"))
    b.flashes()
    pairs.append(("29-account-publishing-after-limit.html", b.get(ACCOUNT_PAGE).text))
    pairs.append(("30-project-publishing-empty.html", b.get(PROJECT_PAGE).text))
    wh.disabled_providers = set()
    wh.add_publisher("danas-proj", FakePublisher.github("octo-org", "danas-proj", "publish.yml"))
    pairs.append(("40-project-publishing-flags-enabled.html", b.get(PROJECT_PAGE).text))
    wh.add_publisher("danas-proj", FakePublisher.gitlab("octo-group", "danas-proj", ".gitlab-ci.yml"))
    wh.add_publisher("danas-proj", FakePublisher.google("publisher@danas-proj.iam.gserviceaccount.com"))
    wh.disabled_providers = {"gitlab", "activestate"}
    prefill = b.get(PROJECT_PAGE, params={"provider": "github", "owner": "octo-org"})
    pairs.append(("50-project-publishing-prefill-github.html", prefill.text))
    pairs.append(
        (
            "51-project-publishing-post-missing-environment-name.html",
            b.post(PROJECT_PAGE, GITHUB).text,
        )
    )
    bad_csrf = b.client.post(PROJECT_PAGE, data={**GITHUB, "environment": "", "csrf_token": "x"})
    pairs.append(("53-project-publishing-post-bad-csrf.html", bad_csrf.text))
    clock.advance(wh.reauth_seconds)
    pairs.append(("67-project-publishing-reauth-needed.html", b.get(PROJECT_PAGE).text))
    for name, ours in pairs:
        theirs = client_view(recorded(name))
        mine = client_view(ours)
        if name.startswith("11-"):
            theirs["flashes"] = theirs["flashes"][1:]  # the Terms of Service notice
        assert mine == theirs, name


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def account_two_factor_view(markup: str) -> dict[str, Any]:
    """The account page's two-factor section as a client reads it: the methods, the remove
    links and modal forms (row ids masked), the callouts, the add buttons and their errors."""
    tree = html(markup)
    section = one(tree, "section#two-factor")
    modals = []
    for modal in section.css("div.modal"):
        form = one(modal, "form")
        inputs = [n for n in form.css("input") if attr(n, "name") not in ("", "csrf_token")]
        modals.append(
            (
                _UUID.sub("<id>", attr(modal, "id")),
                attr(form, "action"),
                attr(form, "method").upper(),
                bool(form.css_first("input[name=csrf_token]")),
                sorted((attr(n, "name"), attr(n, "type"), attr(n, "value")) for n in inputs),
            )
        )
    return {
        "title": text(tree.css_first("title")).rsplit(" · ", 1)[0],
        "csrf": bool(tree.css_first("form input[name=csrf_token]")),
        "methods": [text(th) for th in section.css("table.table--2fa tbody th")],
        "removes": [_UUID.sub("<id>", attr(a, "href")) for a in section.css("a[href^='#disable-']")],
        "disabled_removes": [attr(b, "title") for b in section.css("button[disabled]")],
        "modals": modals,
        "callouts": [text(c) for c in section.css("div.callout-block")],
        "add_buttons": [
            (attr(a, "href"), attr(a, "id"), sorted(attr(a, "class").split()))
            for a in section.css("div.wrap-children a")
        ],
        "errors": text(section.css_first("ul#webauthn-errors")),
    }


def test_security_key_markup_matches_recorded_pages(wh: FakeWarehouse, clock: Clock) -> None:
    """Recordings 77 and 85 (the account page before and after adding a key, with TOTP and
    no recovery codes) and 88 (the two-factor page of an account with both methods)."""
    b = Browser(wh)
    b.login()
    before = b.get("/manage/account/").text
    options = b.client.get("/manage/account/webauthn-provision/options").json()
    credential = json.dumps(Passkey.generate(wh.url, "ci-bootstrap").attestation(options))
    added = b.post(
        "/manage/account/webauthn-provision/validate",
        {"label": "ci-bootstrap", "credential": credential},
    )
    assert added.json() == {"success": "Security device successfully set up"}
    after = b.get("/manage/account/").text
    clock.advance(1)
    c = Browser(wh)
    two_factor = c.get(c.password_step().headers["location"]).text
    for name, ours in (("77-webauthn-account-before.html", before), ("85-webauthn-account-after.html", after)):
        assert account_two_factor_view(ours) == account_two_factor_view(recorded(name)), name
    assert client_view(two_factor) == client_view(recorded("88-webauthn-two-factor.html"))
    page = html(two_factor)
    assert attr(one(page, "#webauthn-auth-begin"), "value") == c.csrf
