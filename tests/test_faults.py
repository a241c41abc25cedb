"""Faults on the wire: each ends in a clear failure with the manual link, and never a second POST."""

from __future__ import annotations

import socket

import httpx
import pytest

from fake_warehouse import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, FakeWarehouse
from pypi_trusted_publisher.core.indexes import resolve_index
from pypi_trusted_publisher.core.models import Registration, Status
from pypi_trusted_publisher.core.publishers import GitHubPublisher
from pypi_trusted_publisher.core.secret import Secret
from pypi_trusted_publisher.credentials.values import Credentials
from pypi_trusted_publisher.engine.engine import register
from pypi_trusted_publisher.engine.options import EngineOptions

CREDENTIALS = Credentials(DEFAULT_USERNAME, Secret(DEFAULT_PASSWORD), Secret(DEFAULT_TOTP_SECRET))
PAGE = "/manage/project/my-pkg/settings/publishing/"


@pytest.fixture
def wh(warehouse: FakeWarehouse) -> FakeWarehouse:
    warehouse.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    warehouse.github_owners = {"octo-org": 1001}
    return warehouse


def attempt(url: str, slept: list[float] | None = None, **kwargs):
    """Register with recorded (not taken) pauses; the 10 s deadline leaves room for the 1 + 2 s backoff."""
    registration = Registration(
        resolve_index(url), "my-pkg", GitHubPublisher("octo-org", "my-pkg", "release.yml", "pypi")
    )
    pauses = EngineOptions(timeout=10, sleep=(slept if slept is not None else []).append, **kwargs)
    return register(registration, CREDENTIALS, pauses)


def registration_posts(wh: FakeWarehouse) -> int:
    return sum(1 for r in wh.requests if r.method == "POST" and r.path == PAGE)


def assert_clean_failure(result, reason: str) -> None:
    assert result.status is Status.FAILED and result.exit_code == 1
    assert result.reason == reason, result.message
    assert result.message
    if result.pending is None:  # the index never said whether the project exists: both ways
        assert result.manual_url.endswith("/manage/account/publishing/")
        assert any("provider=github" in step for step in result.manual_steps)
    else:
        assert "provider=github" in result.manual_url


def test_connection_refused():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    slept: list[float] = []
    result = attempt(f"http://127.0.0.1:{port}", slept)
    assert_clean_failure(result, "network")
    assert slept == [1.0, 2.0]  # GETs back off before giving up; no lookup follows on a dead index
    assert result.pending is None and result.manual_steps[0] == "Whether 'my-pkg' exists on 127.0.0.1:" \
        f"{port} is not known."


def test_connect_and_read_timeouts(httpx_mock):
    httpx_mock.add_exception(httpx.ConnectTimeout("connect"))
    httpx_mock.add_exception(httpx.ReadTimeout("read"))
    httpx_mock.add_exception(httpx.ReadTimeout("read"))
    assert_clean_failure(attempt("https://pypi.example.org"), "timeout")


def test_connection_reset_on_every_get(wh):
    wh.fail_next("GET", "/account/login/", drop_connection=True, times=3)
    assert_clean_failure(attempt(wh.url), "network")


@pytest.mark.parametrize("status", [500, 502, 503])
def test_transient_errors_on_get_are_retried(wh, status):
    wh.fail_next("GET", PAGE, status=status, times=2)
    slept: list[float] = []
    result = attempt(wh.url, slept)
    assert result.status is Status.REGISTERED, result.message
    assert slept == [1.0, 2.0]


def test_persistent_server_error(wh):
    wh.fail_next("GET", PAGE, status=503, times=3)
    result = attempt(wh.url)
    assert_clean_failure(result, "unexpected-response")
    assert "503" in result.message and registration_posts(wh) == 0


@pytest.mark.parametrize(("headers", "expected"), [({"Retry-After": "4"}, [4.0]), ({}, [1.0])])
def test_429_on_a_get_backs_off(wh, headers, expected):
    wh.fail_next("GET", PAGE, status=429, headers=headers)
    slept: list[float] = []
    assert attempt(wh.url, slept).status is Status.REGISTERED
    assert slept == expected


def test_429_with_a_long_retry_after_is_not_waited_for(wh):
    wh.fail_next("GET", PAGE, status=429, headers={"Retry-After": "3600"})
    slept: list[float] = []
    result = attempt(wh.url, slept)
    assert_clean_failure(result, "rate-limited")
    assert result.retry_after == 3600 and slept == []


def test_registration_429_is_not_retried(wh):
    wh.registration_limit = 0
    result = attempt(wh.url)
    assert_clean_failure(result, "rate-limited")
    assert registration_posts(wh) == 1


def test_gateway_error_on_the_post_reads_the_listing_instead_of_posting_again(wh):
    wh.fail_next("POST", PAGE, status=502)
    result = attempt(wh.url)
    assert_clean_failure(result, "unexpected-response")
    assert registration_posts(wh) == 1
    assert wh.requests[-1].method == "GET" and wh.requests[-1].path == PAGE


def test_truncated_page(wh):
    page = "<html><body><form id='github-publisher-form'><input name='csrf_token' value='x'><table class="
    wh.fail_next("GET", PAGE, status=200, body=page)
    assert_clean_failure(attempt(wh.url), "page-changed")
    assert registration_posts(wh) == 0


def test_changed_form_fields(wh):
    page = (
        "<h2>Manage current publishers</h2><p>No publishers are currently configured.</p>"
        "<form id='github-publisher-form'><input name='csrf_token' value='x'><input name='owner'>"
        "<input name='repository'><input name='workflow_filename'><input name='environment'>"
        "<input name='new_required_field'></form>"
    )
    wh.fail_next("GET", PAGE, status=200, body=page)
    result = attempt(wh.url)
    assert_clean_failure(result, "page-changed")
    assert "new_required_field" in result.message and registration_posts(wh) == 0


def test_redirect_to_another_host(wh):
    wh.fail_next("GET", "/account/login/", status=303, headers={"Location": "https://evil.example/account/login/"})
    result = attempt(wh.url)
    assert_clean_failure(result, "unexpected-redirect")
    assert "evil.example" in result.message
