"""A software security key: a WebAuthn authenticator the tool holds, and the string that carries it.

Why: a login whose second factor is a security key is not phishable, so Warehouse confirms a login from an IP it has
never seen at once, with no e-mailed link (docs/protocol/security-keys.md#why). A P-256 key held by this tool is a
security key to Warehouse: it asks for attestation ``none`` and no user verification. That is what lets a job on a
fresh GitHub-hosted runner log in unattended.

The key travels as one opaque, versioned string (``PYPI_PASSKEY``): the credential id, the private key, the index it
was enrolled on and its label. Its signature counter is always 0: the string never changes, and Warehouse accepts a
counter of 0 against a stored 0 every time (it refuses a counter that is not above a stored non-zero one).

The WebAuthn structures (client data, authenticator data, COSE key, attestation object) are built with ``fido2``, the
signatures with ``cryptography``; both are imported only when a key is used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..core.errors import UsageError
from ..core.secret import Secret

PREFIX = "pypi-passkey:1:"
ES256 = -7
LABEL_MAX = 64  # Warehouse's ProvisionWebAuthnForm: Length(max=64)
ENV = "PYPI_PASSKEY"


class PasskeyRefused(Exception):
    """The index's options do not fit this key (another site, an unknown credential, user verification required)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Strict: a character outside the alphabet is an error, not silently dropped."""
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _checksum(data: bytes) -> str:
    return b64url(hashlib.sha256(data).digest()[:6])


def validate_label(label: str) -> str:
    """Warehouse's label rules, checked before any network call."""
    label = label.strip()
    if not label:
        raise UsageError("Specify a label", field="label")
    if len(label) > LABEL_MAX:
        raise UsageError(f"Label must be {LABEL_MAX} characters or less (got {len(label)})", field="label")
    return label


@dataclass(frozen=True, repr=False)
class Passkey:
    """One enrolled software credential. ``repr`` and ``str`` never show the key."""

    index_url: str
    label: str
    credential_id: bytes
    _private_key: bytes  # PKCS#8 DER of a P-256 key

    def __repr__(self) -> str:
        return f"Passkey(index_url={self.index_url!r}, label={self.label!r}, key=***)"

    __str__ = __repr__

    # -- the string ---------------------------------------------------------------------------

    @classmethod
    def generate(cls, index_url: str, label: str) -> Passkey:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cls(index_url, label, os.urandom(32), der)

    def encode(self) -> Secret:
        payload = {
            "index": self.index_url,
            "label": self.label,
            "id": b64url(self.credential_id),
            "key": b64url(self._private_key),
        }
        data = json.dumps(payload, separators=(",", ":")).encode()
        return Secret(f"{PREFIX}{b64url(data)}.{_checksum(data)}")

    @classmethod
    def decode(cls, text: str, source: str = ENV) -> Passkey:
        """Parse a string made by :meth:`encode`; UsageError (exit 2) naming what is wrong.

        ``source`` names where the string came from (the variable or the action input) in messages and errors.
        """
        text = "".join(text.split())
        if not text.startswith(PREFIX):
            version = text.split(":")[1] if text.startswith("pypi-passkey:") and text.count(":") >= 2 else ""
            if version and version != PREFIX.split(":")[1]:
                raise UsageError(
                    f"{source} is a format-{version} passkey string; this version of the tool reads format 1 "
                    "(upgrade the tool)",
                    field=_field(source),
                )
            raise UsageError(
                f"{source} is not a passkey string made by 'pypi-trusted-publisher passkey add' "
                f"(it must start with {PREFIX!r})",
                field=_field(source),
            )
        try:
            body, _, checksum = text[len(PREFIX) :].partition(".")
            data = unb64url(body)
            if checksum != _checksum(data):
                raise ValueError("checksum")
            payload = json.loads(data)
            key = cls(
                str(payload["index"]),
                str(payload["label"]),
                unb64url(payload["id"]),
                unb64url(payload["key"]),
            )
        except (ValueError, binascii.Error, KeyError, TypeError, AttributeError):
            raise UsageError(
                f"{source} is truncated or damaged (its data does not decode); copy the whole string again",
                field=_field(source),
            ) from None
        if not key.credential_id or not key._valid_private_key():
            raise UsageError(f"{source} is truncated or damaged (its key does not load)", field=_field(source))
        return key

    def _valid_private_key(self) -> bool:
        try:
            self._key()
        except (ValueError, TypeError):
            return False
        return True

    def check_index(self, index_url: str, source: str = ENV) -> None:
        """A key is bound to the site it was enrolled on; say so before any network call."""
        if self.index_url != index_url:
            raise UsageError(
                f"{source} belongs to {self.index_url}, not {index_url}: a security key works only on the index it "
                "was added on (add one there with 'pypi-trusted-publisher passkey add --index ...')",
                field=_field(source),
            )

    def secrets(self) -> list[str]:
        """The string's sensitive parts as they could appear on their own, for masking."""
        return [b64url(self._private_key), b64url(self.credential_id)]

    # -- the relying party ------------------------------------------------------------------------

    @property
    def rp_id(self) -> str:
        """Warehouse's ``request.domain``: the index host without the port."""
        return urlsplit(self.index_url).hostname or ""

    @property
    def origin(self) -> str:
        parts = urlsplit(self.index_url)
        return f"{parts.scheme}://{parts.netloc}"

    def _key(self) -> Any:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = serialization.load_der_private_key(self._private_key, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("not a P-256 key")
        return key

    def _client_data(self, kind: str, challenge: object) -> bytes:
        """clientDataJSON. The options' challenge *string* is signed as its ASCII bytes, as the browser does:
        Warehouse expects the challenge encoded twice."""
        from fido2.webauthn import CollectedClientData

        if not isinstance(challenge, str) or not challenge:
            raise PasskeyRefused("unexpected-response", "The index sent WebAuthn options without a challenge.")
        return bytes(CollectedClientData.create(type=kind, challenge=challenge.encode("ascii"), origin=self.origin))

    def _check_rp(self, rp_id: object) -> None:
        if rp_id != self.rp_id:
            raise PasskeyRefused(
                "passkey-wrong-site",
                f"The index asked for a security key of {rp_id!r}, but this key belongs to {self.rp_id!r}; "
                "it is never used for another site.",
            )

    @staticmethod
    def _check_verification(options: dict[str, Any]) -> None:
        selection = options.get("authenticatorSelection") or {}
        wanted = options.get("userVerification") or selection.get("userVerification")
        if wanted == "required":
            raise PasskeyRefused(
                "passkey-unsupported",
                "The index requires user verification (a PIN or biometric); a software key cannot provide it.",
            )

    # -- WebAuthn ceremonies ----------------------------------------------------------------------

    def attestation(self, options: dict[str, Any]) -> dict[str, Any]:
        """The credential for ``navigator.credentials.create()`` with the index's creation options."""
        from fido2.cose import ES256 as CoseES256
        from fido2.webauthn import AttestationObject, AttestedCredentialData, AuthenticatorData

        self._check_rp((options.get("rp") or {}).get("id"))
        self._check_verification(options)
        algorithms = [p.get("alg") for p in options.get("pubKeyCredParams") or [] if isinstance(p, dict)]
        if ES256 not in algorithms:
            raise PasskeyRefused("passkey-unsupported", "The index does not accept ES256 (P-256) security keys.")
        excluded = {c.get("id") for c in options.get("excludeCredentials") or [] if isinstance(c, dict)}
        if b64url(self.credential_id) in excluded:
            raise PasskeyRefused("passkey-exists", "This security key is already enrolled on the account.")
        client_data = self._client_data("webauthn.create", options.get("challenge"))
        public_key = CoseES256.from_cryptography_key(self._key().public_key())  # type: ignore[no-untyped-call]
        credential = AttestedCredentialData.create(bytes(16), self.credential_id, public_key)
        flags = AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.AT
        auth_data = AuthenticatorData.create(_rp_hash(self.rp_id), flags, 0, credential)
        attestation = AttestationObject.create("none", auth_data, {})
        return self._credential(
            {"attestationObject": b64url(bytes(attestation)), "clientDataJSON": b64url(client_data)}
        )

    def assertion(self, options: dict[str, Any]) -> dict[str, Any]:
        """The credential for ``navigator.credentials.get()`` with the index's request options; counter 0."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from fido2.webauthn import AuthenticatorData

        self._check_rp(options.get("rpId"))
        self._check_verification(options)
        allowed = {c.get("id") for c in options.get("allowCredentials") or [] if isinstance(c, dict)}
        if b64url(self.credential_id) not in allowed:
            raise PasskeyRefused(
                "passkey-unknown",
                f"The security key {self.label!r} is not (or no longer) on this account: it was removed, or it "
                "belongs to another account.",
            )
        client_data = self._client_data("webauthn.get", options.get("challenge"))
        auth_data = bytes(AuthenticatorData.create(_rp_hash(self.rp_id), AuthenticatorData.FLAG.UP, 0))
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self._key().sign(signed, ec.ECDSA(hashes.SHA256()))
        return self._credential(
            {
                "authenticatorData": b64url(auth_data),
                "clientDataJSON": b64url(client_data),
                "signature": b64url(signature),
            }
        )

    def _credential(self, response: dict[str, str]) -> dict[str, Any]:
        raw_id = b64url(self.credential_id)
        return {"id": raw_id, "rawId": raw_id, "type": "public-key", "response": response}


def _field(source: str) -> str:
    """The input an error is about: the action's ``pypi-passkey``, or ``passkey`` for the variable."""
    return "passkey" if source == ENV else source


def _rp_hash(rp_id: str) -> bytes:
    return hashlib.sha256(rp_id.encode()).digest()
