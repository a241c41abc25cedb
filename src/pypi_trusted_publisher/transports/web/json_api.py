"""The index's public JSON API (``/pypi/<project>/json``): no login, no cookies.

A project without a release answers 404 there, like a missing one (recorded page 74,
docs/protocol/publish-time.md#json-api).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ...core.errors import RegistrationFailed
from ...core.validation import normalize
from .http import Http


def read_info(http: Http, project: str) -> dict[str, Any] | None:
    """``info`` of the project's latest release; None when it has no release (404)."""
    response = http.get(f"/pypi/{quote(normalize(project), safe='')}/json")
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise RegistrationFailed(
            "unexpected-response", f"The JSON API answered HTTP {response.status_code} for {project!r}."
        )
    try:
        info = response.json().get("info")
    except (ValueError, AttributeError):
        info = None
    if not isinstance(info, dict):
        raise RegistrationFailed("unexpected-response", f"The JSON API's answer for {project!r} has no info.")
    return info
