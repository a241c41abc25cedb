"""The fake Warehouse's security keys (docs/protocol/security-keys.md): enrolment, login, removal.

Driven with plain httpx over real HTTP. The good credentials come from the tool's software key
(``Passkey``, what the client will send); the bad ones are made by hand here (``RawKey``) to show
that the fake refuses what Warehouse refuses. py_webauthn is the verifier inside the fake, so a
credential it accepts is one Warehouse accepts. Time is the injected clock; nothing sleeps.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.cose import ES256
from fido2.webauthn import AttestationObject, AttestedCredentialData, AuthenticatorData

import test_fake_warehouse as fake_tests
from fake_warehouse import DEFAULT_USERNAME, FakeWarehouse, RecoveryCode
from pypi_trusted_publisher.credentials.passkey import Passkey, b64url, unb64url
from test_fake_warehouse import (
    Browser,
    Clock,
    attr,
    client_view,
    html,
    needs_second_ip,
    one,
    recorded,
    text,
    title,
)

ACCOUNT = "/manage/account/"
PROVISION = "/manage/account/webauthn-provision"
OPTIONS = "/manage/account/webauthn-provision/options"
VALIDATE = "/manage/account/webauthn-provision/validate"
DELETE = "/manage/account/webauthn-provision/delete"
CODES = [f"{n:016x}" for n in range(0xA0, 0xA8)]
INVALID = {"fail": {"errors": ["Invalid WebAuthn credential"]}}

# The fake's own fixtures: the warehouse on a fake clock, failing a test whose view crashed.
clock = fake_tests.clock
wh = fake_tests.wh


@dataclass
class RawKey:
    """A hand-made authenticator whose every field can be wrong: the challenge, the origin,
    the relying party, the counter, the key that signs and the credential id it claims."""

    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    private: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    @property
    def cose(self) -> bytes:
        return cbor.encode(ES256.from_cryptography_key(self.private.public_key()))

    @staticmethod
    def client_data(kind: str, challenge: bytes, origin: str) -> bytes:
        data = {"type": kind, "challenge": b64url(challenge), "origin": origin}
        return json.dumps(data).encode()

    def attestation(
        self, options: dict[str, Any], *, origin: str, challenge: bytes | None = None
    ) -> dict[str, Any]:
        """Format ``none``: nothing signs the client data, only the challenge ties it."""
        client_data = self.client_data(
            "webauthn.create", _browser_challenge(options, challenge), origin
        )
        public_key = ES256.from_cryptography_key(self.private.public_key())
        attested = AttestedCredentialData.create(bytes(16), self.credential_id, public_key)
        flags = AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.AT
        rp_hash = hashlib.sha256(options["rp"]["id"].encode()).digest()
        auth_data = AuthenticatorData.create(rp_hash, flags, 0, attested)
        attestation = AttestationObject.create("none", auth_data, {})
        response = {
            "attestationObject": b64url(bytes(attestation)),
            "clientDataJSON": b64url(client_data),
        }
        return self._credential(self.credential_id, response)

    def assertion(
        self,
        options: dict[str, Any],
        *,
        origin: str,
        counter: int = 0,
        challenge: bytes | None = None,
        rp_id: str | None = None,
        claimed_id: bytes | None = None,
    ) -> dict[str, Any]:
        client_data = self.client_data("webauthn.get", _browser_challenge(options, challenge), origin)
        rp_hash = hashlib.sha256((rp_id or options["rpId"]).encode()).digest()
        auth_data = rp_hash + bytes([AuthenticatorData.FLAG.UP]) + counter.to_bytes(4, "big")
        signed = auth_data + hashlib.sha256(client_data).digest()
        response = {
            "authenticatorData": b64url(auth_data),
            "clientDataJSON": b64url(client_data),
            "signature": b64url(self.private.sign(signed, ec.ECDSA(hashes.SHA256()))),
        }
        return self._credential(claimed_id or self.credential_id, response)

    @staticmethod
    def _credential(credential_id: bytes, response: dict[str, str]) -> dict[str, Any]:
        raw_id = b64url(credential_id)
        return {"id": raw_id, "rawId": raw_id, "type": "public-key", "response": response}


def _browser_challenge(options: dict[str, Any], challenge: bytes | None) -> bytes:
    """What a browser signs: the ASCII bytes of the options' challenge string."""
    return challenge if challenge is not None else options["challenge"].encode()


def logged_in(wh: FakeWarehouse, username: str = DEFAULT_USERNAME) -> Browser:
    """A password+TOTP session from the confirmed 127.0.0.1, holding its post-login token."""
    b = Browser(wh)
    assert b.login(username).status_code == 303
    assert b.get(ACCOUNT).status_code == 200
    return b


def enrol(b: Browser, credential: Any, label: str = "ci-bootstrap") -> dict[str, Any]:
    """One validate POST; ``credential`` maps the fresh creation options to a credential."""
    options = b.client.get(OPTIONS).json()
    return b.post(VALIDATE, {"label": label, "credential": json.dumps(credential(options))}).json()


def seed(wh: FakeWarehouse, key: RawKey, username: str = DEFAULT_USERNAME, *, label: str = "seeded") -> None:
    """Store the key as an enrolment would have: raw credential id and COSE public key."""
    wh.add_security_key(username, label=label, credential_id=key.credential_id, public_key=key.cose)


@dataclass
class KeyLogin:
    """A login paused after the password: the two-factor page is open, no assertion sent."""

    browser: Browser
    query: str
    page: httpx.Response

    def options(self) -> dict[str, Any]:
        return self.browser.client.get(f"/account/webauthn-authenticate/options?{self.query}").json()

    def validate(self, credential: Any, **extra: str) -> httpx.Response:
        data = {"credential": credential if isinstance(credential, str) else json.dumps(credential)}
        return self.browser.post(
            f"/account/webauthn-authenticate/validate?{self.query}", {**data, **extra}
        )


def start_login(
    wh: FakeWarehouse, username: str = DEFAULT_USERNAME, *, ip: str = "", **extra: str
) -> KeyLogin:
    """Password step, then the two-factor page; the page's CSRF token is the value of the
    security-key button, as the site's script reads it."""
    b = Browser(wh, ip=ip)
    location = b.password_step(username, wh.users[username].password, **extra).headers["location"]
    page = b.get(location)
    b.csrf = attr(one(page, "#webauthn-auth-begin"), "value")
    return KeyLogin(b, urlsplit(location).query, page)


def key_login(wh: FakeWarehouse, sign: Any, username: str = DEFAULT_USERNAME, **extra: str) -> Any:
    """A whole security-key login in a new client; the JSON answer."""
    login = start_login(wh, username)
    return login.validate(sign(login.options()), **extra).json()


# --- Recovery codes first ----------------------------------------------------------------------


def codes(wh: FakeWarehouse, *, burned: int = 0) -> list[RecoveryCode]:
    now = wh.clock()
    return [RecoveryCode(code, now, now if i < burned else None) for i, code in enumerate(CODES)]


def test_provision_page_needs_a_used_recovery_code(wh: FakeWarehouse) -> None:
    b = logged_in(wh)
    response = b.get(PROVISION)
    assert response.status_code == 303
    assert response.headers["location"] == f"{wh.url}/manage/account/recovery-codes/burn"
    assert b.get("/manage/account/recovery-codes/burn").headers["location"] == f"{wh.url}{ACCOUNT}"
    # The JSON endpoints do not check it (recording 78).
    assert b.client.get(OPTIONS).status_code == 200

    wh.users[DEFAULT_USERNAME].recovery_codes = codes(wh)
    assert b.get(PROVISION).headers["location"].endswith("/recovery-codes/burn")
    burn = b.get("/manage/account/recovery-codes/burn")
    assert burn.status_code == 200 and title(burn) == "Use a recovery code · PyPI"
    assert one(burn, "form input[name=recovery_code_value]")

    wh.users[DEFAULT_USERNAME].recovery_codes = codes(wh, burned=1)
    page = b.get(PROVISION)
    assert page.status_code == 200
    assert title(page) == "Set up 2FA with a security device (e.g. USB key) · PyPI"
    assert attr(one(page, "form#webauthn-provision-form input#webauthn-provision-label"), "name") == "label"
    account_token = attr(one(b.get(ACCOUNT), "input[name=csrf_token]"), "value")
    assert attr(one(page, "button#webauthn-provision-begin"), "value") == account_token
    assert b.get("/manage/account/recovery-codes/burn").headers["location"] == (
        f"{wh.url}/manage/account/two-factor/"
    )
    assert b.post(PROVISION, {}).status_code == 404  # GET only
    anonymous = httpx.get(f"{wh.url}{PROVISION}")
    assert anonymous.headers["location"] == (
        f"{wh.url}/account/login/?next=%2Fmanage%2Faccount%2Fwebauthn-provision"
    )


def test_seeded_recovery_codes(wh: FakeWarehouse) -> None:
    user = wh.add_user("rita", password="pw", recovery_codes=CODES, burned_recovery_codes=CODES[:1])
    assert (user.has_recovery_codes, user.has_burned_recovery_codes) == (True, True)
    assert [c.burned is not None for c in user.recovery_codes] == [True] + [False] * 7
    with pytest.raises(ValueError, match="some of recovery_codes"):
        wh.add_user("x", password="pw", recovery_codes=CODES[:1], burned_recovery_codes=["f" * 16])


def section(response: httpx.Response) -> dict[str, Any]:
    """The account page's two-factor section as a client reads it."""
    node = one(response, "section#two-factor")
    return {
        "methods": [text(th) for th in node.css("table.table--2fa tbody th")],
        "callouts": [text(c) for c in node.css("div.callout-block")],
        "webauthn_button": attr(one(node, "a#webauthn-button"), "class"),
        "disabled_removes": len(node.css("button[disabled]")),
        "key_forms": [
            (attr(form, "action"), attr(one(form, "input[name=label]"), "value"))
            for form in node.css('form[action="/manage/account/webauthn-provision/delete"]')
        ],
    }


def test_account_page_follows_the_recovery_code_state(wh: FakeWarehouse, clock: Clock) -> None:
    user = wh.users[DEFAULT_USERNAME]
    b = logged_in(wh)
    before = section(b.get(ACCOUNT))
    assert before["methods"] == ["Authentication application (TOTP)"]
    assert before["callouts"] == [
        "To remove this 2FA method, you must first add another method.",
        "You must generate and safely store recovery codes before adding additional two factor "
        "authentication methods to your account. Generate recovery codes",
    ]
    assert "button--disabled" in before["webauthn_button"].split()
    assert before["disabled_removes"] == 1

    user.recovery_codes = codes(wh)
    unused = section(b.get(ACCOUNT))
    assert unused["methods"][0].startswith("Recovery codes - generated ")
    assert unused["methods"][0].endswith(" (8 unused).")
    assert unused["callouts"][1].startswith(
        "Use a recovery code before adding additional two factor authentication methods"
    )
    assert "button--disabled" in unused["webauthn_button"].split()

    user.recovery_codes = codes(wh, burned=1)
    ready = section(b.get(ACCOUNT))
    assert ready["methods"][0].endswith("(7 unused).")
    assert ready["callouts"] == ["To remove this 2FA method, you must first add another method."]
    assert ready["webauthn_button"].split() == ["button", "button--primary"]

    key = RawKey()
    seed(wh, key, label="laptop")
    with_key = section(b.get(ACCOUNT))
    assert with_key["methods"][1:] == [
        "Authentication application (TOTP)",
        '"laptop" - Security device (WebAuthn)',
    ]
    assert with_key["disabled_removes"] == 0
    assert with_key["key_forms"] == [("/manage/account/webauthn-provision/delete", "laptop")]

    clock.advance(wh.reauth_seconds)
    reauth = b.get(ACCOUNT)
    assert "Confirm password to continue" in reauth.text
    assert attr(one(reauth, "input[name=next_route]"), "value") == "manage.account"
    done = b.post(
        "/account/reauthenticate/",
        {
            "password": user.password,
            "next_route": "manage.account",
            "next_route_matchdict": "{}",
            "next_route_query": "{}",
        },
    )
    assert done.headers["location"] == f"{wh.url}{ACCOUNT}"
    assert section(b.get(ACCOUNT))["methods"]


# --- Enrolment --------------------------------------------------------------------------------


def test_creation_options(wh: FakeWarehouse) -> None:
    b = logged_in(wh)
    response = b.client.get(OPTIONS)
    assert response.headers["content-type"] == "application/json"
    options = response.json()
    user = wh.users[DEFAULT_USERNAME]
    assert options["rp"] == {"id": "127.0.0.1", "name": "PyPI"}
    assert options["user"] == {"id": b64url(user.id.encode()), "name": "dana", "displayName": "dana"}
    assert len(unb64url(options["challenge"])) == 64
    assert options["attestation"] == "none" and options["timeout"] == 60000
    assert options["authenticatorSelection"] == {
        "requireResidentKey": False,
        "userVerification": "discouraged",
    }
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [
        -7, -8, -36, -37, -38, -39, -257, -258, -259
    ]
    assert options["excludeCredentials"] == []
    # The same challenge until a validate POST, whatever it carries, clears it.
    assert b.client.get(OPTIONS).json() == options
    b.post(VALIDATE, {"label": "x", "credential": "not-json"})
    again = b.client.get(OPTIONS).json()
    assert again["challenge"] != options["challenge"]

    key = RawKey()
    seed(wh, key)
    assert b.client.get(OPTIONS).json()["excludeCredentials"] == [
        {"id": b64url(key.credential_id), "type": "public-key"}
    ]
    assert b.post(OPTIONS, {}).status_code == 404  # GET only
    anonymous = httpx.get(f"{wh.url}{OPTIONS}")
    assert anonymous.status_code == 303 and "/account/login/?next=" in anonymous.headers["location"]


def test_enrolment_with_the_software_key(wh: FakeWarehouse) -> None:
    b = logged_in(wh)
    key = Passkey.generate(wh.url, "ci-bootstrap")
    assert enrol(b, key.attestation) == {"success": "Security device successfully set up"}
    (stored,) = wh.users[DEFAULT_USERNAME].security_keys
    assert stored.label == "ci-bootstrap" and stored.sign_count == 0
    assert stored.credential_id == b64url(key.credential_id)
    assert b.flashes() == [("success", "Security device successfully set up")]
    (mail,) = wh.outbox
    assert (mail.to, mail.subject, mail.confirm_url) == (
        "dana@example.com",
        "[PyPI] Two-factor method added",
        "",
    )
    assert mail.body == (
        "Someone, perhaps you, has added a WebAuthn two-factor authentication method to your PyPI "
        "account 'dana'.\nIf you did not make this change, you can email admin@pypi.org to "
        "communicate with the PyPI administrators.\n"
    )
    # The next creation options exclude it, so the software key refuses to enrol twice.
    excluded = b.client.get(OPTIONS).json()["excludeCredentials"]
    assert excluded == [{"id": stored.credential_id, "type": "public-key"}]
    assert section(b.get(ACCOUNT))["key_forms"] == [(DELETE, "ci-bootstrap")]


def test_enrolment_errors(wh: FakeWarehouse) -> None:
    b = logged_in(wh)
    origin = wh.url
    enrolled = RawKey()
    assert enrol(b, lambda o: enrolled.attestation(o, origin=origin)) == {
        "success": "Security device successfully set up"
    }
    fresh = RawKey()

    def once(options: dict[str, Any]) -> dict[str, Any]:
        return fresh.attestation(options, origin=origin, challenge=unb64url(options["challenge"]))

    cases = [
        ("other", "not-json", ["Invalid WebAuthn credential: Bad payload"]),
        ("other", once, ["Client data challenge was not expected challenge"]),
        ("", lambda o: fresh.attestation(o, origin=origin), ["Specify a label"]),
        ("ci-bootstrap", lambda o: fresh.attestation(o, origin=origin),
         ["Label 'ci-bootstrap' already in use"]),
        ("x" * 65, lambda o: fresh.attestation(o, origin=origin),
         ["Label must be 64 characters or less"]),
        ("other", "", ["This field is required."]),
        ("", "[1", ["Invalid WebAuthn credential: Bad payload", "Specify a label"]),
        ("other", lambda o: enrolled.attestation(o, origin=origin), ["Credential ID already in use"]),
    ]
    for label, credential, errors in cases:
        options = b.client.get(OPTIONS).json()
        value = credential if isinstance(credential, str) else json.dumps(credential(options))
        response = b.post(VALIDATE, {"label": label, "credential": value})
        assert response.status_code == 200, label
        assert response.json() == {"fail": {"errors": errors}}, (label, value[:20])

    # Whatever py_webauthn says goes back as the message (Warehouse passes ``str(e)``).
    wrong_origin = enrol(b, lambda o: fresh.attestation(o, origin="https://pypi.org"), "other")
    (message,) = wrong_origin["fail"]["errors"]
    assert "origin" in message and "https://pypi.org" in message
    (message,) = enrol(b, lambda o: {"rawId": "x"}, "other")["fail"]["errors"]
    assert message.startswith("Credential") and "Bad payload" not in message
    # A credential made for a challenge that a validate POST already spent.
    options = b.client.get(OPTIONS).json()
    stale = json.dumps(fresh.attestation(options, origin=origin))
    b.post(VALIDATE, {"label": "x", "credential": "not-json"})
    assert b.post(VALIDATE, {"label": "other", "credential": stale}).json() == {
        "fail": {"errors": ["Client data challenge was not expected challenge"]}
    }
    assert [k.label for k in wh.users[DEFAULT_USERNAME].security_keys] == ["ci-bootstrap"]
    assert len(wh.outbox) == 1
    # Both field names are view predicates; the CSRF token is checked like everywhere.
    assert b.post(VALIDATE, {"label": "x"}).status_code == 404
    assert b.post(VALIDATE, {"credential": "{}"}).status_code == 404
    bad_csrf = b.client.post(VALIDATE, data={"label": "x", "credential": "{}", "csrf_token": "x"})
    assert bad_csrf.status_code == 400


def test_a_credential_id_is_unique_across_accounts(wh: FakeWarehouse) -> None:
    key = Passkey.generate(wh.url, "shared")
    assert enrol(logged_in(wh), key.attestation) == {"success": "Security device successfully set up"}
    wh.add_user("erin", password="pw-erin")
    assert enrol(logged_in(wh, "erin"), key.attestation) == {
        "fail": {"errors": ["Credential ID already in use"]}
    }


# --- Login --------------------------------------------------------------------------------------


def test_key_login_confirms_a_new_ip_at_once(wh: FakeWarehouse, clock: Clock) -> None:
    user = wh.users[DEFAULT_USERNAME]
    key = Passkey.generate(wh.url, "ci-bootstrap")
    assert enrol(logged_in(wh), key.attestation)["success"]
    user.confirmed_ips.clear()
    wh.outbox.clear()
    clock.advance(5)

    login = start_login(wh, next="/manage/account/publishing/")
    assert one(login.page, "form#webauthn-auth-form input#remember_device_webauthn")
    assert one(login.page, "form#totp-auth-form")
    options = login.options()
    assert options == {
        "allowCredentials": [{"id": b64url(key.credential_id), "type": "public-key"}],
        "challenge": options["challenge"],
        "rpId": "127.0.0.1",
        "timeout": 60000,
        "userVerification": "discouraged",
    }
    assert login.options() == options  # stable until a validate POST
    response = login.validate(key.assertion(options))
    assert response.status_code == 200
    assert response.content == (
        b'{"redirect_to":"/manage/account/publishing/","success":"Successful WebAuthn assertion"}'
    )
    assert {c.split("=", 1)[0] for c in response.headers.get_list("set-cookie")} == {
        "session_id",
        "user_id__insecure",
    }
    assert user.confirmed_ips == {"127.0.0.1"}
    assert user.last_login == clock()
    assert [m.subject for m in wh.outbox] == ["[PyPI] Two-factor recovery codes are available"]
    assert "'dana'" in wh.outbox[0].body
    assert f"{wh.url}/manage/account/recovery-codes/generate" in wh.outbox[0].body
    # Logged in, inside the reauth window (recording 92), with a new CSRF token.
    publishing = login.browser.get("/manage/account/publishing/")
    assert publishing.status_code == 200 and "Confirm password" not in publishing.text
    assert login.browser.csrf != attr(one(login.page, "#webauthn-auth-begin"), "value")
    assert login.options() == {"fail": {"errors": ["Already authenticated"]}}
    assert login.validate(key.assertion(options)).json() == {
        "fail": {"errors": ["Already authenticated"]}
    }


def test_key_login_confirms_a_pending_ip_and_totp_stays_stopped(
    wh: FakeWarehouse, clock: Clock
) -> None:
    user = wh.users[DEFAULT_USERNAME]
    key = RawKey()
    seed(wh, key)
    user.confirmed_ips.clear()
    # TOTP from the unseen IP of an account that has a key: stopped, as recording 93.
    totp = Browser(wh).login()
    assert totp.headers["location"] == f"{wh.url}/account/confirm-login/"
    assert [m.subject for m in wh.outbox] == ["[PyPI] Unrecognized login to your PyPI account"]
    assert user.confirmed_ips == set()
    clock.advance(1)
    answer = key_login(wh, lambda o: key.assertion(o, origin=wh.url))
    assert answer == {"redirect_to": "/", "success": "Successful WebAuthn assertion"}
    assert user.confirmed_ips == {"127.0.0.1"}
    assert len(wh.outbox) == 2  # the reminder only, no second confirmation mail
    clock.advance(1)
    assert Browser(wh).login().headers["location"] == f"{wh.url}/"  # the IP is known now


def test_key_only_account(wh: FakeWarehouse) -> None:
    user = wh.add_user(
        "kim", password="pw-kim", confirmed_ips=(), has_2fa=False, recovery_codes=CODES
    )
    key = RawKey()
    seed(wh, key, "kim")
    login = start_login(wh, "kim")
    assert login.page.status_code == 200
    tree = html(login.page)
    assert tree.css_first("#totp-auth-form") is None
    assert attr(one(tree, ".twofa-recovery a"), "href") == f"/account/recovery-code/?{login.query}"
    # The TOTP form does not exist for this account: Warehouse fails with a server error.
    totp = login.browser.post(f"/account/two-factor/?{login.query}", {"totp_value": "123456"})
    assert totp.status_code == 500
    answer = login.validate(key.assertion(login.options(), origin=wh.url))
    assert answer.json()["success"] == "Successful WebAuthn assertion"
    assert user.confirmed_ips == {"127.0.0.1"}
    assert wh.outbox == []  # it has unused recovery codes: no reminder
    assert login.browser.get(ACCOUNT).status_code == 200  # 2FA by key satisfies the policy


def test_remember_device_after_a_key_login(wh: FakeWarehouse) -> None:
    key = RawKey()
    seed(wh, key)
    login = start_login(wh)
    response = login.validate(key.assertion(login.options(), origin=wh.url), remember_device="true")
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("remember_"))
    assert "Path=/account/login/" in cookie and "SameSite=strict" in cookie


@needs_second_ip
def test_remembered_key_login_skips_2fa_from_another_ip(wh: FakeWarehouse, clock: Clock) -> None:
    key = RawKey()
    seed(wh, key)
    login = start_login(wh)
    response = login.validate(key.assertion(login.options(), origin=wh.url), remember_device="on")
    clock.advance(1)
    other = Browser(wh, ip="127.0.0.2")
    other.client.cookies.set("remember_device", response.cookies["remember_device"])
    assert other.password_step().headers["location"] == f"{wh.url}/manage/projects/"


def test_counter_rules(wh: FakeWarehouse, clock: Clock) -> None:
    """0 against a stored 0 every time; above 0, each counter must exceed the stored one."""
    key = RawKey()
    seed(wh, key)
    (stored,) = wh.users[DEFAULT_USERNAME].security_keys
    ok = {"redirect_to": "/", "success": "Successful WebAuthn assertion"}
    for counter, expected, after in [
        (0, ok, 0),
        (0, ok, 0),
        (0, ok, 0),
        (5, ok, 5),
        (5, INVALID, 5),
        (4, INVALID, 5),
        (0, INVALID, 5),
        (6, ok, 6),
    ]:
        clock.advance(1)
        answer = key_login(wh, lambda o, c=counter: key.assertion(o, origin=wh.url, counter=c))
        assert (counter, answer, stored.sign_count) == (counter, expected, after)


def test_refused_assertions(wh: FakeWarehouse, clock: Clock) -> None:
    key = RawKey()
    seed(wh, key)
    other = RawKey()
    origin = wh.url
    impostor = replace(other, credential_id=key.credential_id)
    refused = {
        "signed by another key": lambda o: impostor.assertion(o, origin=origin),
        "unknown credential": lambda o: other.assertion(o, origin=origin),
        "challenge encoded once": lambda o: key.assertion(
            o, origin=origin, challenge=unb64url(o["challenge"])
        ),
        "wrong origin": lambda o: key.assertion(o, origin="https://pypi.org"),
        "wrong relying party": lambda o: key.assertion(o, origin=origin, rp_id="pypi.org"),
        "not a credential": lambda o: {"id": "x"},
    }
    for name, sign in refused.items():
        clock.advance(61)  # stays below the 2FA limit of 5 failures in 5 minutes
        login = start_login(wh)
        assert login.validate(sign(login.options())).json() == INVALID, name
    # A spent challenge: the valid assertion made for it is refused once a POST cleared it.
    clock.advance(61)
    login = start_login(wh)
    good = key.assertion(login.options(), origin=origin)
    assert login.validate("not-json").json() == {
        "fail": {"errors": ["Invalid WebAuthn assertion: Bad payload"]}
    }
    assert login.validate(good).json() == INVALID
    # Without an options GET the session has no challenge the assertion could match.
    clock.advance(61)
    fresh = start_login(wh)
    guess = {"challenge": b64url(secrets.token_bytes(64)), "rpId": "127.0.0.1"}
    assert fresh.validate(key.assertion(guess, origin=origin)).json() == INVALID
    assert fresh.validate("").json() == {"fail": {"errors": ["This field is required."]}}
    validate = f"/account/webauthn-authenticate/validate?{fresh.query}"
    missing = fresh.browser.post(validate, {})
    assert missing.headers["location"].startswith(f"{wh.url}/account/login/?next=")
    bad_csrf = fresh.browser.client.post(validate, data={"credential": "{}", "csrf_token": "x"})
    assert bad_csrf.status_code == 400
    assert fresh.browser.get(ACCOUNT).status_code == 303  # nobody logged in
    assert [k.sign_count for k in wh.users[DEFAULT_USERNAME].security_keys] == [0]


def test_a_signature_under_a_foreign_id_is_a_server_error(wh: FakeWarehouse) -> None:
    """Warehouse tries every public key of the user whatever the id says, then updates the
    counter of the key the id names; when it names none, that lookup fails (a 500)."""
    a = RawKey()
    seed(wh, a, label="a")
    login = start_login(wh)
    response = login.validate(a.assertion(login.options(), origin=wh.url, claimed_id=b"unknown"))
    assert response.status_code == 500
    assert login.browser.get(ACCOUNT).status_code == 303


def test_failed_assertions_count_toward_the_2fa_limit(wh: FakeWarehouse, clock: Clock) -> None:
    key = RawKey()
    seed(wh, key)
    wrong = RawKey()
    login = start_login(wh)
    for _ in range(10):  # malformed payloads are not verified and do not count
        assert login.validate("not-json").json()["fail"]
    for _ in range(5):
        assert login.validate(wrong.assertion(login.options(), origin=wh.url)).json() == INVALID
    locked = login.validate(key.assertion(login.options(), origin=wh.url))
    assert locked.status_code == 429
    assert locked.reason_phrase == "Too Many Failed Login Attempts"
    assert 0 < int(locked.headers["retry-after"]) <= 300
    assert "You have been locked out for" in locked.text
    # The same limit as TOTP codes.
    totp = login.browser.post(f"/account/two-factor/?{login.query}", {"totp_value": login.browser.totp()})
    assert totp.status_code == 429
    clock.advance(300)
    answer = key_login(wh, lambda o: key.assertion(o, origin=wh.url))
    assert answer["success"] == "Successful WebAuthn assertion"


def test_two_factor_token_rules(wh: FakeWarehouse, clock: Clock) -> None:
    key = RawKey()
    seed(wh, key)

    def sign(options: dict[str, Any]) -> dict[str, Any]:
        return key.assertion(options, origin=wh.url)

    assert key_login(wh, sign)["success"]
    # A login started in the same second as that one: its token predates last_login
    # (docs/protocol/login.md#same-second).
    race = start_login_without_page(wh)
    bad = {"fail": {"errors": ["Invalid or expired two factor login."]}}
    assert race.options() == bad
    assert race.browser.flashes() == [("danger", "Invalid or expired two factor login.")]
    assert race.validate(sign({"challenge": "x", "rpId": "127.0.0.1"})).json() == bad
    clock.advance(1)
    later = start_login(wh)
    clock.advance(301)
    assert later.options() == bad
    assert key_login(wh, sign)["success"]


def start_login_without_page(wh: FakeWarehouse) -> KeyLogin:
    """The password step only (the two-factor page would redirect away at once); the login
    page's token is still the session's."""
    b = Browser(wh)
    location = b.password_step().headers["location"]
    return KeyLogin(b, urlsplit(location).query, httpx.Response(303))


# --- Removal ----------------------------------------------------------------------------------


def test_removing_keys(wh: FakeWarehouse, clock: Clock) -> None:
    user = wh.users[DEFAULT_USERNAME]
    key = RawKey()
    seed(wh, key, label="ci-bootstrap")
    login = start_login(wh)
    assert login.validate(key.assertion(login.options(), origin=wh.url)).json()["success"]
    b = login.browser
    wh.outbox.clear()
    b.get(ACCOUNT)

    def delete(**data: str) -> list[tuple[str, str]]:
        response = b.post(DELETE, data)
        assert response.status_code == 303
        assert response.headers["location"] == f"{wh.url}{ACCOUNT}"
        return b.flashes()

    assert delete(label="nope", confirm_device_name="nope") == [("danger", "Invalid credentials")]
    assert delete(confirm_device_name="ci-bootstrap") == [("danger", "Invalid credentials")]
    assert b.post(DELETE, {"label": "ci-bootstrap"}).status_code == 404  # predicate
    # No reauth: past the window the account page asks for the password, the delete does not.
    clock.advance(wh.reauth_seconds + 1)
    assert "Confirm password" in b.get(ACCOUNT).text
    assert delete(label="ci-bootstrap", confirm_device_name="wrong-name") == [
        ("success", "Security device removed")
    ]
    assert user.security_keys == []
    (mail,) = wh.outbox
    assert mail.subject == "[PyPI] Two-factor method removed"
    assert mail.body.startswith(
        "Someone, perhaps you, has removed a WebAuthn two-factor authentication method from your "
        "PyPI account 'dana'.\n"
    )
    assert delete(label="ci-bootstrap", confirm_device_name="x") == [
        ("danger", "There is no security device to delete")
    ]


def test_the_last_second_factor_stays(wh: FakeWarehouse) -> None:
    wh.add_user("kim", password="pw-kim", has_2fa=False)
    first, second = RawKey(), RawKey()
    seed(wh, first, "kim", label="first")
    seed(wh, second, "kim", label="second")
    login = start_login(wh, "kim")
    assert login.validate(first.assertion(login.options(), origin=wh.url)).json()["success"]
    b = login.browser
    page = section(b.get(ACCOUNT))
    assert page["methods"] == ['"first" - Security device (WebAuthn)', '"second" - Security device (WebAuthn)']
    assert b.post(DELETE, {"label": "first", "confirm_device_name": ""}).status_code == 303
    assert b.flashes() == [("success", "Security device removed")]
    last = section(b.get(ACCOUNT))
    assert last["key_forms"] == [] and last["disabled_removes"] == 1
    b.post(DELETE, {"label": "second", "confirm_device_name": "second"})
    assert b.flashes() == [("danger", "Cannot remove last 2FA method")]
    assert [k.label for k in wh.users["kim"].security_keys] == ["second"]


# --- The recorded answers ------------------------------------------------------------------------


def shape(value: Any) -> Any:
    """A JSON document with its random parts (the challenge, user and credential ids) replaced
    by their decoded length and the names dropped, so the recorded options and ours compare."""
    if isinstance(value, dict):
        return {
            k: _decoded_length(v) if k in ("challenge", "id") else shape(v)
            for k, v in value.items()
            if k not in ("name", "displayName")
        }
    if isinstance(value, list):
        return [shape(v) for v in value]
    return value


def _decoded_length(value: str) -> int | str:
    """The rp id (a host name) is no base64url and stays as it is."""
    try:
        return len(unb64url(value))
    except ValueError:
        return value


def test_json_bodies_flashes_and_mails_match_the_recordings(wh: FakeWarehouse, clock: Clock) -> None:
    """Recordings 79-84 (enrolment), 89-91 and 94 (login), 96 (removal flash), 99-100 (mails),
    byte for byte where nothing random is in them."""
    user = wh.users[DEFAULT_USERNAME]
    b = logged_in(wh)
    key = Passkey.generate(wh.url, "ci-bootstrap")
    options = b.client.get(OPTIONS).json()
    assert shape(options) == shape(json.loads(recorded("79-webauthn-provision-options.json")))

    def validate(label: str, credential: Any) -> bytes:
        options = b.client.get(OPTIONS).json()
        value = credential if isinstance(credential, str) else json.dumps(credential(options))
        return b.post(VALIDATE, {"label": label, "credential": value}).content

    raw = RawKey()
    once = validate(
        "ci-bootstrap",
        lambda o: raw.attestation(o, origin=wh.url, challenge=unb64url(o["challenge"])),
    )
    answers = [
        ("80-webauthn-provision-validate-bad-payload.json", validate("ci-bootstrap", "not-json")),
        ("81-webauthn-provision-validate-challenge-encoded-once.json", once),
        ("82-webauthn-provision-validate-empty-label.json", validate("", key.attestation)),
        ("83-webauthn-provision-validate-ok.json", validate("ci-bootstrap", key.attestation)),
        (
            "84-webauthn-provision-validate-label-taken.json",
            validate("ci-bootstrap", Passkey.generate(wh.url, "x").attestation),
        ),
    ]
    (added,) = wh.outbox
    recorded_added = recorded("99-webauthn-two-factor-added-email.txt")
    assert added.body == recorded_added.replace("'rec-wa1'", "'dana'")

    user.confirmed_ips.clear()
    clock.advance(1)
    login = start_login(wh)
    options = login.options()
    assert shape(options) == shape(json.loads(recorded("89-webauthn-authenticate-options.json")))
    impostor = replace(Passkey.generate(wh.url, "x"), credential_id=key.credential_id)
    answers.append(
        (
            "90-webauthn-authenticate-validate-bad-signature.json",
            login.validate(impostor.assertion(options)).content,
        )
    )
    answers.append(
        (
            "91-webauthn-authenticate-validate-ok.json",
            login.validate(key.assertion(login.options())).content,
        )
    )
    counted = RawKey()
    wh.add_user("erin", password="pw-erin", confirmed_ips=())
    wh.add_security_key(
        "erin", label="k", credential_id=counted.credential_id, public_key=counted.cose, sign_count=5
    )
    lower = start_login(wh, "erin")
    answers.append(
        (
            "94-webauthn-authenticate-validate-signcount-lower.json",
            lower.validate(counted.assertion(lower.options(), origin=wh.url, counter=4)).content,
        )
    )
    for name, ours in answers:
        assert ours == recorded(name).encode(), name

    c = login.browser
    c.get(ACCOUNT)
    wh.outbox.clear()
    c.post(DELETE, {"label": "ci-bootstrap", "confirm_device_name": "ci-bootstrap"})
    flash = c.client.get("/_includes/unauthed/flash-messages/").text
    assert client_view(flash) == client_view(recorded("96-webauthn-provision-delete-flash.html"))
    (removed,) = wh.outbox
    recorded_removed = recorded("100-webauthn-two-factor-removed-email.txt")
    assert removed.body == recorded_removed.replace("'rec-wa1'", "'dana'")
