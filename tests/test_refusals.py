"""Refusals are read by structure first (the field of an inline error, a flash's level), by phrase second."""

from __future__ import annotations

from pathlib import Path

from pypi_trusted_publisher.transports.web import refusals
from pypi_trusted_publisher.transports.web.pages import Flash, Page
from pypi_trusted_publisher.transports.web.refusals import FORM, Rule, classify
from test_docs import ANCHOR
from test_pages import recorded

ERRORS_MD = Path(__file__).resolve().parents[1] / "docs" / "protocol" / "errors.md"


def test_every_rule_points_to_its_row_in_the_protocol_notes() -> None:
    anchors = set(ANCHOR.findall(ERRORS_MD.read_text(encoding="utf-8")))
    assert refusals.RULES
    missing = sorted({rule.anchor for rule in refusals.RULES} - anchors)
    assert not missing, f"docs/protocol/errors.md lacks the anchors {missing}"


def test_a_rule_matching_in_its_own_place_beats_an_earlier_rule_matching_elsewhere() -> None:
    rules = (Rule("password", "blocked", "first", "a"), Rule("username", "blocked", "second", "b"))
    match = classify(rules, {"username": ["You are blocked."], FORM: ["blocked"]})
    assert match is not None and (match.reason, match.text) == ("second", "You are blocked.")


def test_phrases_alone_are_the_fallback_when_the_structure_moved() -> None:
    rules = (Rule("password", "password is invalid", "wrong-password", "a"),)
    match = classify(rules, {FORM: ["The password is invalid. Try again."]})
    assert match is not None and match.reason == "wrong-password"
    assert classify(rules, {"password": ["Something new."]}) is None


def test_inline_errors_are_read_with_their_field() -> None:
    assert recorded("02-login-wrong-password.html").errors_by_field() == {
        "password": ["The password is invalid. Try again."]
    }
    owner = recorded("17-account-publishing-post-bad-owner.html")
    assert owner.errors_by_field("pending-github-publisher-form") == {"owner": ["Unknown GitHub user or organization."]}
    name = recorded("19-account-publishing-post-name-exists-other.html")
    fields = name.errors_by_field("pending-github-publisher-form")
    assert fields == {"project_name": ["This project already exists."]}
    match = classify(refusals.FIELD, fields)
    assert match is not None and match.reason == "project-exists"


def test_an_error_outside_any_field_block_belongs_to_the_form() -> None:
    fake_markup = Page('<form id="f"><ul id="project_name-errors" class="form-errors"><li>Taken.</li></ul></form>')
    assert fake_markup.errors_by_field("f") == {"project_name": ["Taken."]}  # the list carries the id itself
    page = Page('<form id="f"><ul class="form-errors"><li>Whole form.</li></ul>'
                '<div id="owner-errors"><ul class="form-errors"><li>Owner.</li></ul></div></form>')
    assert page.errors_by_field("f") == {FORM: ["Whole form."], "owner": ["Owner."]}
    assert page.field_errors("f") == ["Whole form.", "Owner."]


def test_flashes_are_placed_by_level() -> None:
    flashes = [Flash("success", "Added: has already been registered"), Flash("error", "You must have a verified email")]
    match = classify(refusals.FLASH, refusals.by_level(flashes))
    assert match is not None and match.reason == "unverified-email"  # the error flash, not the phrase in the success
