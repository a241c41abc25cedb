"""The security-key login step against scripted responses (pytest-httpx): every refusal path, with request counts."""

from __future__ import annotations

import json
import secrets
from urllib.parse import parse_qs

import httpx
import pytest
import webauthn

from pypi_trusted_publisher.core.errors import RegistrationFailed
from pypi_trusted_publisher.core.indexes import resolve_index
from pypi_trusted_publisher.core.secret import Secret
from pypi_trusted_publisher.credentials.passkey import Passkey, b64url
from pypi_trusted_publisher.credentials.values import Credentials
from pypi_trusted_publisher.transports.web.confirm import NoConfirmation
from pypi_trusted_publisher.transports.web.http import Http
from pypi_trusted_publisher.transports.web.session import TotpSource, WebSession

INDEX = resolve_index("https://pypi.example.org")
SITE = "https://pypi.example.org"
TOKEN = "eyJ1c2VyaWQiOiJ4In0.aw5x1A.sig"
LOGIN_PAGE = (
    '<html><form id="login-form" method="post" action="/account/login/"><input name="csrf_token" type="hidden" '
    'value="csrf-1"><input name="username"><input name="password" type="password"></form></html>'
)
KEY = Passkey.generate(INDEX.url, "ci-bootstrap")


def options(**changes) -> dict:
    body = {
        "challenge": b64url(secrets.token_bytes(64)),
        "rpId": "pypi.example.org",
        "allowCredentials": [{"id": b64url(KEY.credential_id), "type": "public-key"}],
        "userVerification": "discouraged",
        "timeout": 60000,
    }
    return body | changes


def public_key() -> bytes:
    """The key's COSE public key as Warehouse stores it, from an attestation py_webauthn accepts."""
    challenge = b64url(secrets.token_bytes(32))
    creation = {"rp": {"id": "pypi.example.org", "name": "PyPI"}, "challenge": challenge,
                "pubKeyCredParams": [{"alg": -7, "type": "public-key"}]}
    return webauthn.verify_registration_response(
        credential=json.dumps(KEY.attestation(creation)), expected_challenge=challenge.encode(),
        expected_rp_id="pypi.example.org", expected_origin=SITE, require_user_verification=False,
    ).credential_public_key


def login_responses(httpx_mock, times: int = 1) -> None:
    for _ in range(times):
        httpx_mock.add_response(method="GET", url=f"{SITE}/account/login/?next=%2Fmanage%2F", text=LOGIN_PAGE)
        httpx_mock.add_response(method="POST", url=f"{SITE}/account/login/", status_code=303,
                                headers={"Location": f"{SITE}/account/two-factor/?{TOKEN}"})


def give_options(httpx_mock, body: object) -> None:
    httpx_mock.add_response(method="GET", url=f"{SITE}/account/webauthn-authenticate/options?{TOKEN}", json=body)


def validate_reply(httpx_mock, body: object, status: int = 200, headers: dict | None = None) -> None:
    httpx_mock.add_response(method="POST", url=f"{SITE}/account/webauthn-authenticate/validate?{TOKEN}",
                            json=body, status_code=status, headers=headers)


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def session(slept):
    http = Http(INDEX, timeout=5, sleep=slept.append)
    credentials = Credentials("dana", Secret("pw"), totp_secret=Secret("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"), passkey=KEY)
    yield WebSession(http, credentials, TotpSource(secret=credentials.totp_secret), NoConfirmation(),
                     slept.append)
    http.close()


def posts(httpx_mock, path: str) -> list[httpx.Request]:
    return [r for r in httpx_mock.get_requests() if r.method == "POST" and r.url.path == path]


def test_the_key_replaces_the_totp_code_and_its_assertion_verifies(httpx_mock, session):
    login_responses(httpx_mock)
    body = options()
    give_options(httpx_mock, body)
    validate_reply(httpx_mock, {"success": "Successful WebAuthn assertion", "redirect_to": "/"})
    session.login("/manage/")
    assert session.logged_in and session.second_factor == "security-key"
    assert not posts(httpx_mock, "/account/two-factor/")  # no TOTP code was sent although a secret was given
    (validate,) = posts(httpx_mock, "/account/webauthn-authenticate/validate")
    form = parse_qs(validate.content.decode())
    assert set(form) == {"csrf_token", "credential"} and form["csrf_token"] == ["csrf-1"]
    assert validate.headers["Origin"] == SITE
    verified = webauthn.verify_authentication_response(
        credential=form["credential"][0], expected_challenge=body["challenge"].encode(),
        expected_rp_id="pypi.example.org", expected_origin=SITE, credential_public_key=public_key(),
        credential_current_sign_count=0, require_user_verification=False,
    )
    assert verified.new_sign_count == 0
    assert len(httpx_mock.get_requests()) == 4


def test_a_refused_assertion_is_never_retried(httpx_mock, session, slept):
    login_responses(httpx_mock)
    give_options(httpx_mock, options())
    validate_reply(httpx_mock, {"fail": {"errors": ["Invalid WebAuthn credential"]}})
    with pytest.raises(RegistrationFailed) as caught:
        session.login("/manage/")
    assert caught.value.reason == "passkey-refused" and "Invalid WebAuthn credential" in caught.value.message
    assert "ci-bootstrap" in caught.value.message and KEY.encode().reveal() not in caught.value.message
    assert len(posts(httpx_mock, "/account/webauthn-authenticate/validate")) == 1
    assert len(posts(httpx_mock, "/account/login/")) == 1 and slept == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (options(allowCredentials=[{"id": b64url(b"another key"), "type": "public-key"}]), "passkey-unknown"),
        (options(allowCredentials=[]), "passkey-unknown"),
        (options(rpId="evil.example"), "passkey-wrong-site"),
        ({"fail": {"errors": ["Already authenticated"]}}, "passkey-refused"),
    ],
)
def test_options_that_do_not_fit_send_no_assertion(httpx_mock, session, body, reason):
    login_responses(httpx_mock)
    give_options(httpx_mock, body)
    with pytest.raises(RegistrationFailed) as caught:
        session.login("/manage/")
    assert caught.value.reason == reason
    assert not posts(httpx_mock, "/account/webauthn-authenticate/validate")


def test_an_expired_two_factor_token_logs_in_again_once(httpx_mock, session, slept):
    """The same-second race (a login in the second of the previous one): the token is refused, not the key."""
    login_responses(httpx_mock, times=2)
    give_options(httpx_mock, {"fail": {"errors": ["Invalid or expired two factor login."]}})
    give_options(httpx_mock, options())
    validate_reply(httpx_mock, {"success": "Successful WebAuthn assertion", "redirect_to": "/"})
    session.login("/manage/")
    assert session.second_factor == "security-key" and slept == [1.0]
    assert len(posts(httpx_mock, "/account/webauthn-authenticate/validate")) == 1


def test_a_rate_limited_assertion_reports_the_wait(httpx_mock, session):
    login_responses(httpx_mock)
    give_options(httpx_mock, options())
    validate_reply(httpx_mock, {}, status=429, headers={"Retry-After": "300"})
    with pytest.raises(RegistrationFailed) as caught:
        session.login("/manage/")
    assert caught.value.reason == "locked-out" and caught.value.retry_after == 300


def test_markup_instead_of_json_is_an_unexpected_response(httpx_mock, session):
    login_responses(httpx_mock)
    httpx_mock.add_response(method="GET", url=f"{SITE}/account/webauthn-authenticate/options?{TOKEN}",
                            text="<html>Not Found</html>", status_code=404)
    with pytest.raises(RegistrationFailed) as caught:
        session.login("/manage/")
    assert caught.value.reason == "unexpected-response"
    assert not posts(httpx_mock, "/account/webauthn-authenticate/validate")
