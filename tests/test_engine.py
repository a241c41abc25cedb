"""The engine in-process against the fake Warehouse, where tests need to steer time or the wire."""

from __future__ import annotations

import httpx
import pyotp
import pytest

from clocks import Clock
from fake_warehouse import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, FakePublisher, FakeWarehouse
from pypi_trusted_publisher.core.indexes import resolve_index
from pypi_trusted_publisher.core.models import Registration, Status, Target
from pypi_trusted_publisher.core.publishers import GitHubPublisher, GooglePublisher
from pypi_trusted_publisher.core.secret import Secret
from pypi_trusted_publisher.core.waits import Wait
from pypi_trusted_publisher.credentials.values import Credentials
from pypi_trusted_publisher.engine.engine import Engine, register
from pypi_trusted_publisher.engine.options import EngineOptions
from pypi_trusted_publisher.transports.web.confirm import ConfirmationRequest

CREDENTIALS = Credentials(DEFAULT_USERNAME, Secret(DEFAULT_PASSWORD), Secret(DEFAULT_TOTP_SECRET))


@pytest.fixture
def clock(warehouse: FakeWarehouse) -> Clock:
    """One clock for the fake and the client: sleeping moves it, nobody waits."""
    clock = Clock()
    warehouse.clock = clock
    warehouse.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    warehouse.add_project("second", owners=[DEFAULT_USERNAME])
    warehouse.github_owners = {"octo-org": 1001}
    return clock


def reg(wh: FakeWarehouse, project: str = "my-pkg", target: Target = Target.AUTO) -> Registration:
    return Registration(
        resolve_index(wh.url), project, GitHubPublisher("octo-org", project, "release.yml", "pypi"), target
    )


def on(clock: Clock, **options) -> EngineOptions:
    """The engine's options on the test's clock."""
    return EngineOptions(clock=clock, sleep=clock.sleep, **options)


def engine(wh: FakeWarehouse, clock: Clock, **kwargs) -> Engine:
    credentials = kwargs.pop("credentials", CREDENTIALS)
    return Engine(resolve_index(wh.url), credentials, on(clock, timeout=5, **kwargs))


def two_factor_posts(wh: FakeWarehouse) -> int:
    return sum(1 for r in wh.requests if r.method == "POST" and r.path.startswith("/account/two-factor/"))


def test_reused_code_waits_for_the_next_step_once(warehouse, clock):
    warehouse.users[DEFAULT_USERNAME].last_totp_value = pyotp.TOTP(DEFAULT_TOTP_SECRET).at(clock())
    eng = engine(warehouse, clock)
    try:
        result = eng.register(reg(warehouse))
    finally:
        eng.close()
    assert result.status is Status.REGISTERED, result.message
    assert two_factor_posts(warehouse) == 2
    assert any(15 <= s <= 31 for s in clock.slept)


def test_never_more_than_two_codes_and_no_lockout(warehouse, clock):
    bad = Credentials(DEFAULT_USERNAME, Secret(DEFAULT_PASSWORD), Secret("A" * 32))
    for _ in range(2):  # two full runs: four failures, still under the 5-per-5-minutes lockout
        clock.now += 1
        result = register(reg(warehouse), bad, on(clock))
        assert result.status is Status.FAILED and result.reason == "totp-invalid"
    assert two_factor_posts(warehouse) == 4
    result = register(reg(warehouse), CREDENTIALS, on(clock))
    assert result.status is Status.REGISTERED


class PastingUser:
    """A terminal user who pastes the link from the e-mail."""

    def __init__(self, wh: FakeWarehouse, link: str | None = None) -> None:
        self.wh, self.link, self.asked = wh, link, 0

    def confirm_link(self, request: ConfirmationRequest) -> Secret | None:
        self.asked += 1
        assert request.username == DEFAULT_USERNAME
        return Secret(self.link or self.wh.outbox[-1].confirm_url)


@pytest.mark.parametrize("index", ["pypi", "testpypi"])
def test_the_terminal_describes_the_e_mail_without_a_site_prefix(index, monkeypatch, capsys):
    from pypi_trusted_publisher.commands.common import TerminalConfirmation

    monkeypatch.setattr("getpass.getpass", lambda prompt: "")
    assert TerminalConfirmation().confirm_link(ConfirmationRequest(resolve_index(index), "dana")) is None
    said = capsys.readouterr().err
    assert "Unrecognized login to your PyPI account" in said and "[PyPI]" not in said


def test_new_ip_confirmed_with_the_pasted_link(warehouse, clock):
    warehouse.users[DEFAULT_USERNAME].confirmed_ips.clear()
    user = PastingUser(warehouse)
    result = register(reg(warehouse), CREDENTIALS, on(clock, confirmer=user))
    assert result.status is Status.REGISTERED, result.message
    assert user.asked == 1 and "127.0.0.1" in warehouse.users[DEFAULT_USERNAME].confirmed_ips
    assert warehouse.projects["my-pkg"].publishers


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/account/confirm-login/?token=abc",
        "{url}/account/other/?token=abc",
        "{url}/account/confirm-login/",
    ],
)
def test_foreign_confirm_links_are_never_opened(warehouse, clock, link):
    warehouse.users[DEFAULT_USERNAME].confirmed_ips.clear()
    user = PastingUser(warehouse, link.format(url=warehouse.url))
    result = register(reg(warehouse), CREDENTIALS, on(clock, confirmer=user))
    assert result.status is Status.FAILED and result.reason == "bad-confirm-link"
    assert not any(r.path.startswith("/account/other") or "confirm-login/?" in r.path for r in warehouse.requests)


def test_expired_confirm_link(warehouse, clock):
    warehouse.users[DEFAULT_USERNAME].confirmed_ips.clear()

    class Late(PastingUser):
        def confirm_link(self, request):
            link = super().confirm_link(request)
            clock.now += 7 * 3600
            return link

    result = register(reg(warehouse), CREDENTIALS, on(clock, confirmer=Late(warehouse)))
    assert result.status is Status.FAILED and result.reason == "confirmation-failed"


def test_a_refused_confirm_link_is_explained_in_whole_sentences(warehouse, clock):
    """PyPI's flash ends with its own full stop ("Invalid login attempt."): no ".." after it."""
    warehouse.users[DEFAULT_USERNAME].confirmed_ips.clear()

    class Forgotten(PastingUser):
        def confirm_link(self, request):
            link = super().confirm_link(request)
            warehouse._unique_logins.clear()  # the login attempt the link confirms is gone
            return link

    result = register(reg(warehouse), CREDENTIALS, on(clock, confirmer=Forgotten(warehouse)))
    assert result.reason == "confirmation-failed" and "Invalid login attempt. The link only" in result.message


def test_reauthentication_between_registrations(warehouse, clock):
    eng = engine(warehouse, clock)
    try:
        assert eng.register(reg(warehouse)).status is Status.REGISTERED
        clock.now += 31 * 60
        result = eng.register(reg(warehouse, "second"))
    finally:
        eng.close()
    assert result.status is Status.REGISTERED, result.message
    assert any(r.method == "POST" and r.path == "/account/reauthenticate/" for r in warehouse.requests)
    assert sum(1 for r in warehouse.requests if r.path == "/account/login/" and r.method == "POST") == 1


class ExpireBeforePost(httpx.HTTPTransport):
    """Lets the reauth window lapse between reading the page and posting the form."""

    def __init__(self, wh: FakeWarehouse) -> None:
        super().__init__()
        self.wh, self.done = wh, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and "/publishing/" in request.url.path and not self.done:
            self.done = True
            self.wh.expire_reauth(DEFAULT_USERNAME)
        return super().handle_request(request)


def test_post_discarded_by_reauth_is_resubmitted_once(warehouse, clock):
    eng = engine(warehouse, clock, transport=ExpireBeforePost(warehouse))
    try:
        result = eng.register(reg(warehouse))
    finally:
        eng.close()
    assert result.status is Status.REGISTERED, result.message
    publishing_posts = [r for r in warehouse.requests if r.method == "POST" and "/publishing/" in r.path]
    assert len(publishing_posts) == 2 and len(warehouse.projects["my-pkg"].publishers) == 1


def test_wrong_password_at_reauth(warehouse, clock):
    eng = engine(warehouse, clock)
    try:
        assert eng.register(reg(warehouse)).status is Status.REGISTERED
        warehouse.users[DEFAULT_USERNAME].password = "changed"
        clock.now += 31 * 60
        result = eng.register(reg(warehouse, "second"))
    finally:
        eng.close()
    assert result.status is Status.FAILED and result.reason in ("reauth-failed", "logged-out")


def test_dropped_post_is_not_repeated(warehouse, clock):
    warehouse.fail_next("POST", "/manage/project/my-pkg/settings/publishing/", drop_connection=True)
    result = register(reg(warehouse), CREDENTIALS, on(clock))
    assert result.status is Status.FAILED and result.reason == "network"
    posts = [r for r in warehouse.requests if r.method == "POST" and "/publishing/" in r.path]
    assert len(posts) == 1
    # The listing was re-read after the failure: the last request is a GET of the page.
    assert warehouse.requests[-1].method == "GET" and warehouse.requests[-1].path.endswith("/publishing/")


def test_two_logins_in_one_second_are_retried(warehouse, clock):
    assert register(reg(warehouse), CREDENTIALS, on(clock)).status is Status.REGISTERED
    clock.now += 31  # a new TOTP step, same wall-clock second rule applies to the login token
    warehouse.users[DEFAULT_USERNAME].last_login = clock.now + 0.5
    result = register(reg(warehouse, "second"), CREDENTIALS, on(clock))
    assert result.status is Status.REGISTERED, result.message
    assert 1.0 in clock.slept


class Notices:
    """A waiter that records what the user would be told, then sleeps as told."""

    def __init__(self) -> None:
        self.waits: list[Wait] = []

    def __call__(self, wait: Wait, sleep) -> None:
        self.waits.append(wait)
        sleep(wait.seconds)


def test_back_to_back_login_survives_a_login_elsewhere_while_it_waits(warehouse, clock):
    """Issue 15.18: a command run right after another, while the account logs in elsewhere.

    Its first try falls in the second of the previous login (the token is refused,
    docs/protocol/login.md#same-second) and its code is the one that login used (refused,
    docs/protocol/login.md#totp-reuse); while it waits for the next code, the account logs in elsewhere (a
    browser that remembers its device needs no code). A code sent with the token minted before that wait is
    refused as an expired login: two-factor-expired. Waiting first and then logging in afresh is not.
    """
    clock.now += 10.25  # mid-step, mid-second
    assert register(reg(warehouse), CREDENTIALS, on(clock)).status is Status.REGISTERED
    user = warehouse.users[DEFAULT_USERNAME]
    previous = user.last_login

    class Busy(Clock):
        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            if seconds > 5:
                user.last_login = self.now - 4  # a browser login during the wait

    busy = Busy(clock.now)
    warehouse.clock = busy
    notices = Notices()
    result = register(reg(warehouse, "second"), CREDENTIALS, on(busy, waiter=notices))
    assert result.status is Status.REGISTERED, result.message
    assert user.last_login == busy.now > previous
    assert [(w.what, w.seconds) for w in notices.waits] == [
        ("a new second to log in again", 1.0),
        ("the next code", 30 - 11.25 + 1),
    ]
    assert two_factor_posts(warehouse) == 1 + 3  # the first login, then refused, rejected, accepted


def test_token_refusals_are_bounded(warehouse, clock):
    warehouse.users[DEFAULT_USERNAME].last_login = clock.now + 3600  # every two-factor token is "too old"
    notices = Notices()
    result = register(reg(warehouse), CREDENTIALS, on(clock, waiter=notices))
    assert result.status is Status.FAILED and result.reason == "two-factor-expired"
    assert [w.seconds for w in notices.waits] == [1.0, 1.0] and two_factor_posts(warehouse) == 3


def test_wrong_secret_says_what_it_waits_for(warehouse, clock):
    """Issue 15.19: the second code needs the next step; the waiter hears why and for how long."""
    clock.now += 10.25
    bad = Credentials(DEFAULT_USERNAME, Secret(DEFAULT_PASSWORD), Secret("A" * 32))
    notices = Notices()
    result = register(reg(warehouse), bad, on(clock, waiter=notices))
    assert result.status is Status.FAILED and result.reason == "totp-invalid"
    [wait] = notices.waits
    assert wait.what == "the next code" and wait.seconds == 20.75
    assert "already used" in wait.why and "Waiting 21 s for the next code." in wait.message
    assert two_factor_posts(warehouse) == 2


def test_the_outcome_check_of_a_lost_post_is_retried_once(warehouse, clock):
    """Issue 15.4: after a POST whose answer was lost, the listing decides, with one retry at most."""
    page = "/manage/project/my-pkg/settings/publishing/"

    class LoseThePost(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and request.url.path == page:
                warehouse.fail_next("POST", page, drop_connection=True)
                warehouse.fail_next("GET", page, status=503, times=5)
            return super().handle_request(request)

    result = register(reg(warehouse), CREDENTIALS, on(clock, transport=LoseThePost()))
    assert result.status is Status.FAILED and "503" in result.message
    posted = next(i for i, r in enumerate(warehouse.requests) if r.method == "POST" and r.path == page)
    after = warehouse.requests[posted + 1:]
    assert [(r.method, r.path, r.status) for r in after] == [("GET", page, 503)] * 2


def test_batch_session_costs_three_requests_per_further_project(warehouse, clock):
    eng = engine(warehouse, clock)
    try:
        eng.register(reg(warehouse, target=Target.PROJECT))
        before = len(warehouse.requests)
        assert eng.register(reg(warehouse, "second", Target.PROJECT)).status is Status.REGISTERED
    finally:
        eng.close()
    assert len(warehouse.requests) - before <= 3


# --- the token API (docs/protocol/token-api.md) --------------------------------------------------------------


def api_credentials(token: str = "pypi-test-token") -> Credentials:
    return Credentials(api_token=Secret(token))


def test_token_api_when_served(warehouse, clock):
    warehouse.token_api = True
    warehouse.add_api_token("pypi-test-token", DEFAULT_USERNAME)
    result = register(reg(warehouse), api_credentials(), on(clock))
    assert result.status is Status.REGISTERED and result.method == "api", result.message
    again = register(reg(warehouse), api_credentials(), on(clock))
    assert again.status is Status.EXISTS and again.method == "api"
    assert not any(r.path.startswith("/account/login/") for r in warehouse.requests)


def test_token_api_registers_a_google_publisher_and_finds_it_again(warehouse, clock):
    """Google publishers have no URL: the API lists them with ``publisher_url: null``."""
    warehouse.token_api = True
    warehouse.add_api_token("pypi-test-token", DEFAULT_USERNAME)
    google = Registration(resolve_index(warehouse.url), "my-pkg", GooglePublisher("ci@my-pkg.iam.gserviceaccount.com"))
    result = register(google, api_credentials(), on(clock))
    assert result.status is Status.REGISTERED and result.method == "api", result.message
    again = register(google, api_credentials(), on(clock))
    assert again.status is Status.EXISTS and again.method == "api"


def test_token_api_not_served_falls_back_to_web(warehouse, clock):
    both = Credentials(DEFAULT_USERNAME, Secret(DEFAULT_PASSWORD), Secret(DEFAULT_TOTP_SECRET),
                       api_token=Secret("pypi-test-token"))
    result = register(reg(warehouse), both, on(clock))
    assert result.status is Status.REGISTERED and result.method == "web"


def test_token_api_not_served_without_password_gives_the_link(warehouse, clock):
    result = register(reg(warehouse), api_credentials(), on(clock))
    assert result.status is Status.FAILED and result.reason == "api-not-served" and result.method == "link"
    assert "no live API" in result.message and "provider=github" in result.manual_url
    assert ".;" not in result.message and ".." not in result.message


def test_token_api_rejects_foreign_token(warehouse, clock):
    warehouse.token_api = True
    result = register(reg(warehouse), api_credentials("pypi-unknown"), on(clock))
    assert result.status is Status.FAILED and result.reason == "token-rejected"


def test_further_pending_registration_reuses_the_read_back(warehouse, clock):
    eng = engine(warehouse, clock)
    try:
        eng.register(reg(warehouse, "new-one", Target.PENDING))
        before = len(warehouse.requests)
        assert eng.register(reg(warehouse, "new-two", Target.PENDING)).status is Status.REGISTERED
    finally:
        eng.close()
    assert [(r.method, r.path) for r in warehouse.requests[before:]] == [
        ("POST", "/manage/account/publishing/"),
        ("GET", "/manage/account/publishing/"),
    ]


def test_batch_that_cannot_fit_the_pending_limit_posts_nothing(warehouse, clock):
    from pypi_trusted_publisher.engine.engine import register_many

    for n in range(2):
        warehouse.add_pending_publisher(
            f"old-{n}", FakePublisher.github("octo-org", f"old-{n}", "release.yml", "pypi"), added_by=DEFAULT_USERNAME
        )
    plan = [reg(warehouse, "new-one", Target.PENDING), reg(warehouse, "new-two", Target.PENDING)]
    results = register_many(plan, CREDENTIALS, on(clock))
    assert [r.reason for r in results] == ["pending-limit", "pending-limit"]
    assert "you have 2" in results[0].message
    warehouse.add_pending_publisher(
        "old-2", FakePublisher.github("octo-org", "old-2", "release.yml", "pypi"), added_by=DEFAULT_USERNAME
    )
    plan = [reg(warehouse, "old-0", Target.PENDING), reg(warehouse, "new-one", Target.PENDING)]
    results = register_many(plan, CREDENTIALS, on(clock))
    assert "The plan adds 1 pending publisher, you have 3" in results[1].message
    assert not any(r.method == "POST" and "/publishing/" in r.path for r in warehouse.requests)


def test_existing_publisher_is_found_even_when_its_kind_is_disabled(warehouse, clock):
    warehouse.add_publisher("my-pkg", FakePublisher.github("octo-org", "my-pkg", "release.yml", "pypi"))
    warehouse.disabled_providers = {"github"}
    result = register(reg(warehouse), CREDENTIALS, on(clock))
    assert result.status is Status.EXISTS, result.message
