"""The software security key, checked by py_webauthn (the library Warehouse verifies with), not by itself."""

from __future__ import annotations

import hashlib
import json
import secrets

import pytest
import webauthn
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse

from pypi_trusted_publisher.core.errors import UsageError
from pypi_trusted_publisher.credentials.passkey import PREFIX, Passkey, PasskeyRefused, b64url, validate_label

INDEX = "http://127.0.0.1:8000"
RP_ID = "127.0.0.1"


@pytest.fixture(scope="module")
def key() -> Passkey:
    return Passkey.generate(INDEX, "ci-bootstrap")


def creation_options(**changes) -> dict:
    options = {
        "rp": {"id": RP_ID, "name": "Warehouse"},
        "user": {"id": b64url(b"0b7f6c1e-8d3a-4c55-9d6e-3a2b1c0d9e8f"), "name": "dana", "displayName": "dana"},
        "challenge": b64url(secrets.token_bytes(64)),
        "pubKeyCredParams": [{"alg": -8, "type": "public-key"}, {"alg": -7, "type": "public-key"}],
        "timeout": 60000,
        "excludeCredentials": [],
        "attestation": "none",
        "authenticatorSelection": {"requireResidentKey": False, "userVerification": "discouraged"},
    }
    options.update(changes)
    return options


def request_options(key: Passkey, **changes) -> dict:
    options = {
        "challenge": b64url(secrets.token_bytes(64)),
        "rpId": RP_ID,
        "allowCredentials": [{"id": b64url(key.credential_id), "type": "public-key"}],
        "userVerification": "discouraged",
        "timeout": 60000,
    }
    options.update(changes)
    return options


def register(key: Passkey, options: dict, *, origin: str = INDEX, challenge: bytes | None = None):
    """Warehouse's check: the challenge string's ASCII bytes ("encoded twice"), no user verification."""
    return webauthn.verify_registration_response(
        credential=json.dumps(key.attestation(options)),
        expected_challenge=challenge if challenge is not None else options["challenge"].encode(),
        expected_rp_id=RP_ID,
        expected_origin=origin,
        require_user_verification=False,
    )


def authenticate(key: Passkey, public_key: bytes, options: dict, stored_count: int = 0):
    return webauthn.verify_authentication_response(
        credential=json.dumps(key.assertion(options)),
        expected_challenge=options["challenge"].encode(),
        expected_rp_id=RP_ID,
        expected_origin=INDEX,
        credential_public_key=public_key,
        credential_current_sign_count=stored_count,
        require_user_verification=False,
    )


def test_attestation_verifies_with_py_webauthn(key):
    verified = register(key, creation_options())
    assert verified.credential_id == key.credential_id
    assert verified.fmt == "none" and verified.sign_count == 0
    assert verified.user_verified is False


def test_attestation_uses_the_double_encoded_challenge(key):
    options = creation_options()
    raw = webauthn.helpers.base64url_to_bytes(options["challenge"])
    with pytest.raises(InvalidRegistrationResponse, match="challenge"):
        register(key, options, challenge=raw)


def test_attestation_is_bound_to_the_origin(key):
    with pytest.raises(InvalidRegistrationResponse, match="origin"):
        register(key, creation_options(), origin="https://pypi.org")


def test_assertion_with_counter_zero_verifies_every_time(key):
    public_key = register(key, creation_options()).credential_public_key
    for _ in range(3):
        verified = authenticate(key, public_key, request_options(key))
        assert verified.new_sign_count == 0 and verified.credential_id == key.credential_id


def test_assertion_signed_by_another_key_is_refused(key):
    other = Passkey.generate(INDEX, "other")
    public_key = register(other, creation_options()).credential_public_key
    with pytest.raises(InvalidAuthenticationResponse):
        authenticate(key, public_key, request_options(key))


def test_a_stored_counter_above_zero_refuses_the_constant_zero(key):
    public_key = register(key, creation_options()).credential_public_key
    with pytest.raises(InvalidAuthenticationResponse, match="count"):
        authenticate(key, public_key, request_options(key), stored_count=5)


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"rpId": "pypi.org"}, "passkey-wrong-site"),
        ({"allowCredentials": [{"id": b64url(b"someone else"), "type": "public-key"}]}, "passkey-unknown"),
        ({"allowCredentials": []}, "passkey-unknown"),
        ({"userVerification": "required"}, "passkey-unsupported"),
        ({"challenge": ""}, "unexpected-response"),
    ],
)
def test_assertion_refuses_options_that_do_not_fit(key, options, reason):
    with pytest.raises(PasskeyRefused) as caught:
        key.assertion(request_options(key, **options))
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"rp": {"id": "evil.example", "name": "PyPI"}}, "passkey-wrong-site"),
        ({"pubKeyCredParams": [{"alg": -257, "type": "public-key"}]}, "passkey-unsupported"),
        ({"authenticatorSelection": {"userVerification": "required"}}, "passkey-unsupported"),
    ],
)
def test_attestation_refuses_options_that_do_not_fit(key, options, reason):
    with pytest.raises(PasskeyRefused) as caught:
        key.attestation(creation_options(**options))
    assert caught.value.reason == reason


def test_attestation_refuses_an_already_enrolled_credential(key):
    excluded = [{"id": b64url(key.credential_id), "type": "public-key"}]
    with pytest.raises(PasskeyRefused, match="already enrolled"):
        key.attestation(creation_options(excludeCredentials=excluded))


def test_the_string_round_trips_and_survives_wrapping(key):
    text = key.encode().reveal()
    assert text.startswith(PREFIX)
    wrapped = "\n".join(text[i : i + 64] for i in range(0, len(text), 64)) + "\n"
    again = Passkey.decode(wrapped)
    assert (again.index_url, again.label, again.credential_id) == (INDEX, "ci-bootstrap", key.credential_id)
    public_key = register(again, creation_options()).credential_public_key
    assert authenticate(key, public_key, request_options(key)).new_sign_count == 0


def sealed(data: bytes) -> str:
    """A well-formed string around the given payload (the checksum is right, the content is not)."""
    return f"{PREFIX}{b64url(data)}.{b64url(hashlib.sha256(data).digest()[:6])}"


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda s: "", "is not a passkey string"),
        (lambda s: "pypi-AgEIcHlwaS5vcmc", "is not a passkey string"),
        (lambda s: s.replace(":1:", ":2:", 1), "format-2"),
        (lambda s: s[: len(s) // 2], "truncated or damaged"),
        (lambda s: s[:-7], "truncated or damaged"),
        (lambda s: s[:40] + "!!!!" + s[44:], "truncated or damaged"),
        (lambda s: s.rpartition(".")[0], "truncated or damaged"),
        (lambda s: sealed(b'{"index":"x","label":"y","id":"","key":""}'), "truncated or damaged"),
        (lambda s: sealed(b'{"index":"x","label":"y","id":"AAAA","key":"AAAA"}'), "key does not load"),
    ],
)
def test_malformed_strings_are_usage_errors_that_name_the_cause(key, mangle, message):
    text = key.encode().reveal()
    with pytest.raises(UsageError, match=message) as caught:
        Passkey.decode(mangle(text))
    assert caught.value.field == "passkey"
    assert text not in caught.value.message and key.secrets()[0] not in caught.value.message


def test_nothing_prints_the_key(key):
    text = key.encode().reveal()
    for shown in (repr(key), str(key), f"{key}", repr(key.encode()), f"{key.encode()}"):
        assert text not in shown
        assert all(part not in shown for part in key.secrets())


@pytest.mark.parametrize(("label", "message"), [("", "Specify a label"), ("  ", "Specify a label"),
                                                 ("x" * 65, "64 characters or less")])
def test_label_rules(label, message):
    with pytest.raises(UsageError, match=message):
        validate_label(label)
    assert validate_label(" ci ") == "ci"
