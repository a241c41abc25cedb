"""The trusted-publishing exchange: the index's audience, the CI job's OIDC token, and PyPI's token for it.

See docs/protocol/publish-time.md#audience and #mint-token. ``check --oidc`` reads the job's token without sending it
anywhere; ``claim`` sends it once to ``/_/oidc/mint-token``. Both tokens are secrets: the job's JWT is a credential
for a few minutes, the minted ``pypi-`` token an upload token for 15. They travel as :class:`Secret` and no message
here quotes either, or a response body.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import RegistrationFailed
from ..core.secret import Secret

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

    from ..core.indexes import Index
    from .web.http import Http

AUDIENCE_PATH = "/_/oidc/audience"
MINT_PATH = "/_/oidc/mint-token"
GITLAB_VARIABLE = "PYPI_ID_TOKEN"
PERMISSION_FIX = "Add `id-token: write` under `permissions:` of the publishing job, and run the step in it."


class OidcFailure(Exception):
    """The audience or the job's token could not be had: ``step`` is ``audience`` or ``token``."""

    def __init__(self, step: str, message: str, fix: str) -> None:
        super().__init__(message)
        self.step = step
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class Minted:
    """PyPI's answer to a good token: an upload token (never shown) and when it expires."""

    token: Secret
    expires: int | None


class MintRefused(Exception):
    """A 422 from mint-token: PyPI's error codes and descriptions, in its order."""

    def __init__(self, errors: tuple[tuple[str, str], ...]) -> None:
        super().__init__("; ".join(code for code, _ in errors))
        self.errors = errors

    @property
    def code(self) -> str:
        return self.errors[0][0] if self.errors else ""

    @property
    def description(self) -> str:
        return "; ".join(text for _, text in self.errors)


def _object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def parse_audience(response: httpx.Response, index: Index) -> str:
    """The audience from ``GET /_/oidc/audience``, or an OidcFailure saying what the answer means."""
    host = index.host
    if response.status_code == 403:
        raise OidcFailure(
            "audience",
            f"{host} has trusted publishing disabled (HTTP 403).",
            "Use an index with trusted publishing enabled.",
        )
    if response.status_code == 404:
        raise OidcFailure(
            "audience",
            f"{host} does not indicate trusted publishing support (HTTP 404).",
            "Check the index URL: it must be a Warehouse instance such as pypi.org.",
        )
    audience = _object(response).get("audience") if response.is_success else None
    if not isinstance(audience, str) or not audience:
        raise OidcFailure(
            "audience",
            f"{index.origin}{AUDIENCE_PATH} answered HTTP {response.status_code} without an audience.",
            "Wait a few minutes and retry; the index may be down.",
        )
    return audience


def github_token(client: httpx.Client, request_url: str, request_token: Secret, audience: str) -> Secret:
    """The job's OIDC token for ``audience`` from GitHub's runtime token service."""
    import httpx

    try:
        # The request URL already carries a query (api-version): add to it, don't replace it.
        url = httpx.URL(request_url).copy_add_param("audience", audience)
        response = client.get(url, headers={"Authorization": "bearer " + request_token.reveal()})
    except httpx.HTTPError as exc:
        raise OidcFailure(
            "token",
            f"Could not request an OIDC token from GitHub ({exc.__class__.__name__}).",
            "Retry; GitHub's token service may be unavailable.",
        ) from None
    value = _object(response).get("value") if response.is_success else None
    if not isinstance(value, str) or not value:
        raise OidcFailure(
            "token", f"GitHub refused the OIDC token request (HTTP {response.status_code}).", PERMISSION_FIX
        )
    token = Secret(value)
    try:
        decode_claims(token)
    except ValueError:
        raise OidcFailure(
            "token",
            "GitHub returned an OIDC token that is not a readable JWT.",
            "Retry; if it persists, report it to GitHub.",
        ) from None
    return token


def gitlab_token(env: Mapping[str, str], variable: str, audience: str) -> Secret:
    """The job's ID token from the CI variable its ``id_tokens:`` entry names, checked against ``audience``."""
    token = Secret(env.get(variable, "").strip())
    fix = f"Declare it in the job: `id_tokens: {variable}: aud: {audience}`."
    if not token:
        raise OidcFailure("token", f"The CI variable {variable} holds no ID token.", fix)
    try:
        claims = decode_claims(token)
    except ValueError:
        raise OidcFailure("token", f"{variable} does not hold a JWT.", fix) from None
    audiences = claims.get("aud")
    if audience not in (audiences if isinstance(audiences, list) else [audiences]):
        raise OidcFailure(
            "token", f"The ID token in {variable} is for the audience {audiences!r}, not {audience!r}.", fix
        )
    return token


def decode_claims(token: Secret) -> dict[str, Any]:
    """The JWT payload, unverified: we only read it, PyPI does the verifying."""
    parts = token.reveal().split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise ValueError("not a JWT") from None
    if not isinstance(payload, dict):
        raise ValueError("JWT payload is not an object")
    return payload


def mint(http: Http, token: Secret) -> Minted:
    """Exchange the job's token once; MintRefused on PyPI's 422, RegistrationFailed on anything else.

    Never retried: a JTI serves one exchange, and an exchange whose answer was lost may have created a project.
    """
    response = http.post(MINT_PATH, json={"token": token.reveal()})
    body = _object(response)
    if response.status_code == 200 and isinstance(body.get("token"), str) and body["token"]:
        expires = body.get("expires")
        return Minted(Secret(body["token"]), expires if isinstance(expires, int) else None)
    if response.status_code == 422:
        errors = body.get("errors")
        found = tuple(
            (str(e.get("code", "")), str(e.get("description", "")))
            for e in (errors if isinstance(errors, list) else [])
            if isinstance(e, dict)
        )
        raise MintRefused(found)
    kind = "JSON" if "json" in response.headers.get("Content-Type", "") else "not JSON"
    raise RegistrationFailed(
        "mint-failed",
        f"{http.index.host} answered the token exchange with HTTP {response.status_code} ({kind}); it was not "
        "retried, since a token serves one exchange.",
    )
