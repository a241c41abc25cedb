"""No secret ever reaches stdout, stderr, JSON or log records, in any flow.

Distinctive values for the password, the TOTP secret (and the codes it makes),
the API token, the session cookie and the confirm link are run through success,
each kind of failure, confirmation, dry run and JSON output.
"""

from __future__ import annotations

import logging

import pyotp
import pytest

from clocks import FileClock
from fake_warehouse import DEFAULT_USERNAME, FakeWarehouse
from file_keyring import keyring_env
from pypi_trusted_publisher.core.errors import RegistrationFailed
from pypi_trusted_publisher.core.indexes import resolve_index
from pypi_trusted_publisher.core.models import Registration, Status
from pypi_trusted_publisher.core.publishers import GitHubPublisher
from pypi_trusted_publisher.core.secret import Secret
from pypi_trusted_publisher.credentials.values import Credentials
from pypi_trusted_publisher.engine.engine import register
from pypi_trusted_publisher.engine.options import EngineOptions
from test_cli_e2e import GH, run

PASSWORD = "pw-LEAKCHECK-7d1f0c"
TOTP_SECRET = "LEAKCHECKLEAKCHECKLEAKCHECKLEAKC"
API_TOKEN = "pypi-LEAKCHECK-token-5b2e"
ENV = {"PYPI_PASSWORD": PASSWORD, "PYPI_TOTP_SECRET": TOTP_SECRET, "PYPI_API_TOKEN": API_TOKEN}


@pytest.fixture
def wh(warehouse: FakeWarehouse, file_clock: FileClock) -> FakeWarehouse:
    warehouse.clock = file_clock
    warehouse.users[DEFAULT_USERNAME].password = PASSWORD
    warehouse.users[DEFAULT_USERNAME].totp_secret = TOTP_SECRET
    warehouse.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    warehouse.github_owners = {"octo-org": 1001}
    warehouse.token_api = True
    warehouse.add_api_token(API_TOKEN, DEFAULT_USERNAME)
    return warehouse


def secrets_of(wh: FakeWarehouse) -> list[str]:
    totp = pyotp.TOTP(TOTP_SECRET)
    now = wh.clock()
    codes = [totp.at(now + step) for step in (-30, 0, 30)]
    tokens = [mail.confirm_url.split("token=", 1)[1] for mail in wh.outbox if mail.confirm_url]
    sessions = list(getattr(wh, "_sessions", {}))
    return [PASSWORD, TOTP_SECRET, API_TOKEN, *codes, *tokens, *sessions]


def assert_clean(wh: FakeWarehouse, *texts: str) -> None:
    blob = "\n".join(texts)
    for secret in secrets_of(wh):
        assert secret not in blob, f"secret leaked: {secret[:6]}…"


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["add", "--project", "my-pkg", *GH], {}),  # success, token API
        (["add", "--method", "web", "--project", "my-pkg", *GH], {}),  # success, web session
        (["add", "--method", "web", "--project", "my-pkg", *GH], {"PYPI_PASSWORD": PASSWORD + "x"}),
        (["add", "--method", "web", "--project", "my-pkg", *GH], {"PYPI_TOTP_SECRET": "A" * 32}),
        (["add", "--project", "my-pkg", "--dry-run", *GH], {}),
        (["add", "--pending", "--project", "asyncio", *GH], {}),
        (["list", "--project", "my-pkg"], {}),
        (["add", "-v", "--method", "web", "--project", "my-pkg", *GH], {}),  # -v names sources, never values
        (["list", "-v", "--project", "my-pkg"], {}),
    ],
)
def test_cli_flows_do_not_leak(wh, args, env):
    _, lines, err = run(wh, *args, env={**ENV, **env})
    assert lines, err
    assert_clean(wh, repr(lines), err)


def test_keyring_login_and_its_use_do_not_leak(wh, tmp_path):
    env = {**ENV, **keyring_env(tmp_path / "keyring.json")}
    _, [stored], err = run(wh, "login", "--store-totp-secret", "-v", env=env)
    assert stored["status"] == "logged-in", err
    texts = [repr(stored), err]
    nothing = {"PYPI_USERNAME": "", "PYPI_PASSWORD": "", "PYPI_TOTP_SECRET": "", "PYPI_API_TOKEN": ""}
    _, [added], err = run(wh, "add", "-v", "--project", "my-pkg", *GH, env={**env, **nothing})
    assert added["status"] == "registered" and added["credentials"]["password"] == "keyring", err
    _, [out], err2 = run(wh, "logout", env=env, timeout=None)
    assert_clean(wh, *texts, repr(added), err, repr(out), err2)


def test_needs_confirmation_does_not_leak_the_link(wh):
    wh.users[DEFAULT_USERNAME].confirmed_ips.clear()
    _, [result], err = run(wh, "add", "--method", "web", "--project", "my-pkg", *GH, env=ENV)
    assert result["status"] == "needs-confirmation" and wh.outbox
    assert_clean(wh, repr(result), err)


def test_log_records_and_reprs_do_not_leak(wh, caplog):
    """Even with DEBUG logging on (httpx logs every request), nothing secret is recorded."""
    wh.users[DEFAULT_USERNAME].confirmed_ips.clear()

    class Paste:
        def confirm_link(self, request):
            return Secret(wh.outbox[-1].confirm_url)

    credentials = Credentials(DEFAULT_USERNAME, Secret(PASSWORD), Secret(TOTP_SECRET), api_token=Secret(API_TOKEN))
    registration = Registration(
        resolve_index(wh.url), "my-pkg", GitHubPublisher("octo-org", "my-pkg", "release.yml", "pypi")
    )
    with caplog.at_level(logging.DEBUG):
        result = register(registration, credentials, EngineOptions(confirmer=Paste(), method="web"))
    assert result.status is Status.REGISTERED, result.message
    records = "\n".join(record.getMessage() for record in caplog.records)
    assert "confirm-login" in records  # the request was logged, without its token
    assert_clean(wh, records, repr(credentials), repr(result), str(result.to_dict()))


def key_parts(text: str) -> list[str]:
    """Every 16-character piece of a passkey string's body and of the secrets inside it."""
    from pypi_trusted_publisher.credentials.passkey import PREFIX, Passkey

    pieces = [text[len(PREFIX) :], *Passkey.decode(text).secrets()]
    return [piece[i : i + 16] for piece in pieces for i in range(0, max(len(piece) - 15, 1), 8)]


def test_passkey_flows_do_not_leak_the_key(wh, tmp_path, caplog):
    """The key string, or any piece of it, in no output of any flow: enrol, use, refusal, bad input, listing."""
    from passkeys import seed_key

    key = seed_key(wh, DEFAULT_USERNAME).encode().reveal()
    env = {**ENV, "PYPI_API_TOKEN": ""}
    outputs = []
    for args, extra in (
        (["add", "--project", "my-pkg", *GH], {"PYPI_PASSKEY": key}),
        (["passkey", "list"], {"PYPI_PASSKEY": key}),
        (["add", "--project", "my-pkg", *GH], {"PYPI_PASSKEY": key[:-30]}),
        (["add", "--project", "my-pkg", *GH], {"PYPI_PASSKEY": key.replace(":1:", ":7:")}),
    ):
        _, lines, err = run(wh, *args, env={**env, **extra})
        outputs.append(repr(lines) + err)
    wh.users[DEFAULT_USERNAME].security_keys.clear()  # removed from the account: PyPI refuses it
    _, lines, err = run(wh, "add", "--project", "my-pkg", *GH, env={**env, "PYPI_PASSKEY": key})
    assert lines[0]["reason"] == "passkey-unknown"
    outputs.append(repr(lines) + err)
    blob = "\n".join(outputs)
    for piece in key_parts(key):
        assert piece not in blob, f"a piece of the key leaked: {piece[:4]}…"
    assert_clean(wh, blob)


def frame_locals(exc: BaseException) -> list[str]:
    """repr() of every local of the package's own frames in ``exc``'s traceback and its context (pytest -l, pdb)."""
    shown = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        tb = exc.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if "pypi_trusted_publisher" in frame.f_code.co_filename:
                shown += [f"{frame.f_code.co_name}: {name}={value!r}" for name, value in frame.f_locals.items()]
            tb = tb.tb_next
        exc = exc.__context__
    return shown


@pytest.mark.parametrize("fault", ["wrong-code", "network-at-two-factor", "network-at-login"])
def test_reprs_of_objects_and_a_mid_login_exception_do_not_leak(wh, fault):
    """repr() and str() of what holds a secret (engine, session, TOTP source, HTTP client, passkey, credentials,
    the credentials gathered from the environment), and of an exception raised mid-login with its frames' locals."""
    from passkeys import seed_key
    from pypi_trusted_publisher.core.models import Place, Target
    from pypi_trusted_publisher.credentials.sources import Found
    from pypi_trusted_publisher.engine.engine import Engine

    key = seed_key(wh, DEFAULT_USERNAME)
    if fault == "wrong-code":
        wh.users[DEFAULT_USERNAME].totp_secret = "B" * 32  # our code is refused, twice
    elif fault == "network-at-two-factor":
        wh.fail_next("POST", "/account/two-factor/", drop_connection=True)
    else:
        wh.fail_next("POST", "/account/login/", drop_connection=True)
    credentials = Credentials(
        DEFAULT_USERNAME, Secret(PASSWORD), Secret(TOTP_SECRET), Secret("123456"), Secret(API_TOKEN)
    )
    found = Found()
    for name, value in (("password", PASSWORD), ("totp_secret", TOTP_SECRET), ("api_token", API_TOKEN)):
        found.take(name, value, "PYPI_" + name.upper())
    engine = Engine(resolve_index(wh.url), credentials, EngineOptions(clock=wh.clock, sleep=wh.clock.sleep, timeout=5))
    try:
        with pytest.raises(RegistrationFailed) as caught:
            engine.listing(Place(engine.index, target=Target.PENDING))
        objects = [engine, engine.session, engine.session.totp, engine.http, engine.web, credentials, key, found]
        texts = [text for thing in objects for text in (repr(thing), str(thing))]
        texts += [repr(caught.value), str(caught.value), *frame_locals(caught.value)]
        assert caught.value.reason in ("totp-invalid", "network")
        assert any(text.startswith("_login_once: ") for text in frame_locals(caught.value))  # the walk reached it
        assert_clean(wh, *texts)
        for piece in key_parts(key.encode().reveal()):
            assert piece not in "\n".join(texts), f"a piece of the key leaked: {piece[:4]}…"
    finally:
        engine.close()
