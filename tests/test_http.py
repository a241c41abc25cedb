"""The polite HTTP layer: retries, Retry-After, redirects, no leaks (pytest-httpx)."""

from __future__ import annotations

import time

import httpx
import pytest

from clocks import Clock
from pypi_trusted_publisher.core.errors import RegistrationFailed
from pypi_trusted_publisher.core.indexes import resolve_index
from pypi_trusted_publisher.transports.web.http import USER_AGENT, Http

INDEX = resolve_index("https://pypi.example.org")


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def slept(clock):
    return clock.slept


@pytest.fixture
def http(clock):
    client = Http(INDEX, timeout=15, clock=clock, sleep=clock.sleep)
    yield client
    client.close()


def test_headers_on_get_and_post(httpx_mock, http):
    httpx_mock.add_response(url="https://pypi.example.org/a", status_code=200)
    httpx_mock.add_response(url="https://pypi.example.org/b", method="POST", status_code=303,
                            headers={"Location": "https://pypi.example.org/c"})
    http.get("/a")
    response = http.post("/b", {"x": "1"})
    get, post = httpx_mock.get_requests()
    assert get.headers["User-Agent"] == USER_AGENT and get.headers["Accept-Language"] == "en"
    assert "Origin" not in get.headers
    assert post.headers["Origin"] == "https://pypi.example.org"
    assert post.headers["Referer"] == "https://pypi.example.org/b"
    assert http.location(response) == "/c"


def test_get_retries_5xx_with_backoff(httpx_mock, http, slept):
    httpx_mock.add_response(status_code=503)
    httpx_mock.add_response(status_code=502)
    httpx_mock.add_response(status_code=200, text="ok")
    assert http.get("/x").text == "ok"
    assert slept == [1.0, 2.0]


def test_get_honours_short_retry_after(httpx_mock, http, slept):
    httpx_mock.add_response(status_code=429, headers={"Retry-After": "7"})
    httpx_mock.add_response(status_code=200)
    assert http.get("/x").status_code == 200
    assert slept == [7.0]


def test_get_gives_up_on_long_retry_after(httpx_mock, http, slept):
    httpx_mock.add_response(status_code=429, headers={"Retry-After": "3600"})
    assert http.get("/x").status_code == 429
    assert slept == []


def test_get_retries_connection_errors_then_fails_cleanly(httpx_mock, http, slept):
    for _ in range(3):
        httpx_mock.add_exception(httpx.ConnectError("boom secret-in-exception"))
    with pytest.raises(RegistrationFailed) as err:
        http.get("/account/confirm-login/?token=SECRET-TOKEN")
    assert err.value.reason == "network"
    assert "SECRET-TOKEN" not in err.value.message and "secret-in-exception" not in err.value.message
    assert slept == [1.0, 2.0]


def test_timeouts_are_reported(httpx_mock, http):
    for _ in range(3):
        httpx_mock.add_exception(httpx.ReadTimeout("slow"))
    with pytest.raises(RegistrationFailed) as err:
        http.get("/x")
    assert err.value.reason == "timeout"


def test_post_is_never_retried(httpx_mock, http, slept):
    httpx_mock.add_exception(httpx.RemoteProtocolError("reset"))
    with pytest.raises(RegistrationFailed) as err:
        http.post("/manage/account/publishing/", {"password": "hunter2"})
    assert err.value.reason == "network" and "hunter2" not in err.value.message
    assert len(httpx_mock.get_requests()) == 1 and slept == []


def test_post_5xx_is_returned_not_retried(httpx_mock, http):
    httpx_mock.add_response(method="POST", status_code=503)
    assert http.post("/x", {}).status_code == 503
    assert len(httpx_mock.get_requests()) == 1


def test_redirect_to_another_host_is_refused(httpx_mock, http):
    httpx_mock.add_response(status_code=303, headers={"Location": "https://evil.example/login"})
    with pytest.raises(RegistrationFailed) as err:
        http.location(http.get("/x"))
    assert err.value.reason == "unexpected-redirect"


def test_relative_location(httpx_mock, http):
    httpx_mock.add_response(status_code=303, headers={"Location": "/account/two-factor/?tok"})
    assert http.location(http.get("/account/login/")) == "/account/two-factor/?tok"


# --- --timeout is a deadline for the whole request (issue 15.4) -----------------------------------


def test_a_pause_that_would_end_past_the_deadline_is_not_taken(httpx_mock, clock):
    httpx_mock.add_response(status_code=503, headers={"Retry-After": "7"}, is_reusable=True)
    http = Http(INDEX, timeout=10, clock=clock, sleep=clock.sleep)
    start = clock()
    assert http.get("/x").status_code == 503  # the caller reports it
    assert clock.slept == [7.0] and len(httpx_mock.get_requests()) == 2
    assert clock() - start <= 10


def test_each_try_gets_only_the_time_left(httpx_mock, clock):
    """Tries that each take 4 s to fail: the second gets what is left, and no third starts."""
    given: list[float] = []

    def slow_failure(request: httpx.Request) -> httpx.Response:
        given.append(request.extensions["timeout"]["read"])
        clock.now += 4
        raise httpx.ConnectTimeout("slow")

    httpx_mock.add_callback(slow_failure, is_reusable=True)
    http = Http(INDEX, timeout=10, clock=clock, sleep=clock.sleep)
    start = clock()
    with pytest.raises(RegistrationFailed) as err:
        http.get("/x")
    assert err.value.reason == "timeout" and "within 10 s" in err.value.message
    assert given == [10, 5] and clock.slept == [1.0]  # 4 + 1 + 4, and 2 more would pass the deadline
    assert clock() - start <= 10


def test_a_post_gets_one_timeout(httpx_mock, clock):
    httpx_mock.add_response(method="POST", status_code=303, headers={"Location": "https://pypi.example.org/y"})
    Http(INDEX, timeout=7, clock=clock, sleep=clock.sleep).post("/x", {})
    assert httpx_mock.get_requests()[0].extensions["timeout"]["read"] == 7


def test_a_server_that_accepts_and_never_answers(silent):
    """One real try of 0.2 s, then no retry and no pause: the deadline is spent."""
    slept: list[float] = []
    http = Http(resolve_index(silent.url), timeout=0.2, sleep=slept.append)
    start = time.monotonic()
    with pytest.raises(RegistrationFailed) as err:
        http.get("/account/login/")
    took = time.monotonic() - start
    http.close()
    assert err.value.reason == "timeout" and slept == [] and silent.connections() == 1
    assert took < 5  # one 0.2 s try (a loose bound: the machine may be busy)
