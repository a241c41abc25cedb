"""A software security key already on a fake Warehouse account, for tests that start logged-in-ready."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING

import webauthn

from pypi_trusted_publisher.credentials.passkey import Passkey, b64url

if TYPE_CHECKING:
    from fake_warehouse import FakeWarehouse


def public_key(key: Passkey, origin: str) -> bytes:
    """The key's COSE public key as Warehouse stores it: from an attestation py_webauthn accepts."""
    challenge = b64url(secrets.token_bytes(32))
    options = {"rp": {"id": key.rp_id}, "challenge": challenge, "pubKeyCredParams": [{"alg": -7}]}
    return webauthn.verify_registration_response(
        credential=json.dumps(key.attestation(options)), expected_challenge=challenge.encode(),
        expected_rp_id=key.rp_id, expected_origin=origin, require_user_verification=False,
    ).credential_public_key


def seed_key(wh: FakeWarehouse, username: str, label: str = "ci-bootstrap") -> Passkey:
    """A new key enrolled on ``username``'s account, as ``passkey add`` would leave it."""
    key = Passkey.generate(wh.url, label)
    wh.add_security_key(username, label=label, credential_id=key.credential_id, public_key=public_key(key, wh.url))
    return key
