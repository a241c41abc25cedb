"""The HTML parsers against responses recorded from a running Warehouse.

The recordings are not in this repository (``recordings.py`` says where they are read from);
these tests skip when they are absent.
"""

from __future__ import annotations

import pytest

from pypi_trusted_publisher.core.publishers import GitHubPublisher, GitLabPublisher, GooglePublisher
from pypi_trusted_publisher.transports.web.pages import Page, PageChanged
from recordings import recorded_text


def recorded(name: str) -> Page:
    return Page(recorded_text(name))


def test_project_listing_rows():
    rows = recorded("49-project-publishing-after-activestate.html").publisher_rows(pending=False)
    assert [r.publisher for r in rows] == [
        GitHubPublisher("octo-org", "danas-proj", "publish.yml", ""),
        GitLabPublisher("octo-group", "danas-proj", ".gitlab-ci.yml", "", "https://gitlab.com"),
        GooglePublisher("publisher@danas-proj.iam.gserviceaccount.com", ""),
    ]
    assert rows[0].publisher_id == "1bc577c9-cee1-4b50-94ee-67205332269d"


def test_pending_listing_rows_and_no_project_rows_confusion():
    page = recorded("29-account-publishing-after-limit.html")
    rows = page.publisher_rows(pending=True)
    assert [(r.project_name, r.publisher.environment) for r in rows] == [
        ("dana-new-one", "pypi"), ("dana-new-two", "pypi"), ("dana-new-three", "pypi"),
    ]
    assert page.publisher_rows(pending=False) == []


def test_empty_listing():
    assert recorded("30-project-publishing-empty.html").publisher_rows(pending=False) == []


def test_reauth_page():
    page = recorded("67-project-publishing-reauth-needed.html")
    assert page.is_reauth()
    fields = page.reauth_fields()
    assert fields["next_route"] == "manage.project.settings.publishing"
    assert '"traverse"' in fields["next_route_matchdict"]
    assert not recorded("30-project-publishing-empty.html").is_reauth()


def test_flashes_by_queue():
    flashes = recorded("11-confirm-login-token-flash.html").flashes()
    assert [(f.level, f.text) for f in flashes] == [
        ("info", "Please review our updated Terms of Service."),
        ("success", "Your login has been confirmed and this device is now recognized."),
    ]
    assert recorded("37-project-publishing-post-gitlab-flag-disabled-flash.html").flashes()[0].level == "error"


def test_field_errors_scoped_by_form():
    page = recorded("21-account-publishing-post-name-exists-own.html")
    errors = page.field_errors("pending-github-publisher-form")
    assert errors == [
        "This project already exists: use the project's publishing settings here to create a "
        "Trusted Publisher for it."
    ]
    assert page.field_errors("pending-google-publisher-form") == []


def test_form_field_names_match_publishers():
    page = recorded("40-project-publishing-flags-enabled.html")
    assert page.form_field_names("github-publisher-form") == set(GitHubPublisher("", "", "").form_fields())
    assert page.form_field_names("gitlab-publisher-form") == set(GitLabPublisher("", "", "").form_fields())
    disabled = recorded("30-project-publishing-empty.html")
    assert not disabled.has_form("gitlab-publisher-form")
    assert disabled.has_form("github-publisher-form")


def test_login_and_totp_errors():
    assert recorded("02-login-wrong-password.html").field_errors() == ["The password is invalid. Try again."]
    assert recorded("05-two-factor-wrong-totp.html").field_errors() == ["Invalid TOTP code."]
    assert recorded("01-login.html").csrf_token()


def test_unexpected_markup():
    with pytest.raises(PageChanged):
        Page("<html><body>maintenance</body></html>").csrf_token()
    broken = Page(
        '<table class="table table--publisher-list"><thead><tr><th>Publisher</th></tr></thead>'
        "<tbody><tr><td>GitHub</td><td><small><b>Workflow:</b> x.yml</small></td><td></td></tr></tbody></table>"
    )
    with pytest.raises(PageChanged, match="lacks"):
        broken.publisher_rows(pending=False)


def test_newer_markup_delete_button():
    page = Page(
        '<table class="table table--publisher-list"><thead><tr><th>Publisher</th><th>Details</th><th></th>'
        "</tr></thead><tbody><tr><td>Google</td><td><small><b>Email:</b> a@b.c <br><b>Subject:</b>"
        ' <i>(Any)</i></small></td><td><input form="delete-publisher-abc" type="submit"></td></tr>'
        "</tbody></table>"
    )
    (row,) = page.publisher_rows(pending=False)
    assert row.publisher_id == "abc" and row.publisher == GooglePublisher("a@b.c", "")
