"""The proposed token API for publishers of existing projects (docs/protocol/token-api.md).

pypi/warehouse#19909 adds ``/danger-api/projects/{name}/trusted-publishers``.
pypi.org does not serve it yet; an index that does not answers the route with
its ordinary HTML 404 page, which is how we tell "not deployed" from
"no such project" (a JSON 404).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx

from ..core.errors import RegistrationFailed
from ..core.models import Registration
from ..core.publishers import Publisher
from ..core.secret import Secret
from .web.http import Http, retry_after_seconds

ACCEPT = "application/vnd.pypi.api-v0-danger+json"


class ApiNotServed(Exception):
    """The index has no token API (HTML 404 on the route)."""


@dataclass(frozen=True)
class ApiOutcome:
    status: str  # "registered" or "exists"
    message: str


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("Content-Type", "")


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            return str(body["error"])
        errors = body.get("errors")
        if isinstance(errors, dict):
            return "; ".join(
                f"{field}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                for field, msgs in errors.items()
            )
    return f"HTTP {response.status_code}"


def _specifier_matches(entry: dict[str, object], publisher: Publisher) -> bool:
    return (
        str(entry.get("publisher_name", "")).lower() == publisher.title.lower()
        and str(entry.get("specifier", "")) == publisher.label()
        and str(entry.get("publisher_url") or "").rstrip("/").lower() == publisher.url().lower()
    )


class TokenApi:
    def __init__(self, http: Http, token: Secret) -> None:
        self.http = http
        self.token = token

    def _headers(self) -> dict[str, str | Secret]:
        return {"Authorization": Secret("Token " + self.token.reveal()), "Accept": ACCEPT}

    def _path(self, registration: Registration) -> str:
        return f"/danger-api/projects/{quote(registration.normalized_project, safe='')}/trusted-publishers"

    def listing(self, registration: Registration) -> list[dict[str, object]]:
        response = self.http.get(self._path(registration), headers=self._headers())
        if response.status_code == 404 and not _is_json(response):
            raise ApiNotServed()
        if response.status_code == 404:
            raise RegistrationFailed(
                "project-missing",
                f"{registration.normalized_project!r} does not exist on {registration.index.host}; the "
                "token API cannot create pending publishers. Use the web login with --pending.",
            )
        if response.status_code in (401, 403):
            raise RegistrationFailed(
                "token-rejected",
                f"The API token was refused ({_error_text(response)}); it must belong to an Owner.",
            )
        if response.status_code != 200 or not _is_json(response):
            raise RegistrationFailed(
                "unexpected-response", f"Unexpected HTTP {response.status_code} from the token API."
            )
        entries = response.json().get("trusted_publishers", [])
        return [e for e in entries if isinstance(e, dict)]

    def register(self, registration: Registration) -> ApiOutcome:
        publisher = registration.publisher
        if any(_specifier_matches(e, publisher) for e in self.listing(registration)):
            return ApiOutcome("exists", f"{publisher.label()} is already registered with "
                                        f"{registration.normalized_project}")
        body = {"publisher": publisher.kind, **{k: v for k, v in publisher.form_fields().items() if v}}
        response = self.http.post(self._path(registration), json=body, headers=self._headers())
        status = response.status_code
        if status == 409:
            return ApiOutcome("exists", _error_text(response))
        if status == 201:
            if any(_specifier_matches(e, publisher) for e in self.listing(registration)):
                return ApiOutcome("registered", f"Registered the {publisher.title} publisher for "
                                                f"{registration.normalized_project!r} (token API).")
            raise RegistrationFailed(
                "not-verified", "The token API answered 201 but the publisher is not listed afterwards."
            )
        if status == 429:
            wait = retry_after_seconds(response)
            raise RegistrationFailed("rate-limited", _error_text(response), retry_after=wait)
        if status == 403:
            text = _error_text(response)
            reason = "provider-disabled" if "disabled" in text else "token-rejected"
            raise RegistrationFailed(reason, f"PyPI refused: {text}")
        if status == 400:
            raise RegistrationFailed("validation-rejected", f"PyPI refused: {_error_text(response)}")
        raise RegistrationFailed(
            "unexpected-response", f"Unexpected HTTP {status} from the token API."
        )
