"""Does a project exist? The public simple index can say, without logging in.

Only where the tool could not find out on a publishing page (the login failed, no
credentials, a dry run has no network): then the manual link must not point to a
project page that may be a 404. Warehouse serves ``/simple/<name>/`` for every
project it has, releases or not (the project is found by traversal), so a 200 is
a yes. A 404 is only a hint: caches can lag behind a new project, and the JSON
API's 404 does not even mean that (docs/protocol/publish-time.md#json-api).
"""

from __future__ import annotations

from urllib.parse import quote

from ...core.errors import RegistrationFailed
from ...core.validation import normalize
from .http import Http

PEP_691 = "application/vnd.pypi.simple.v1+json"


def project_listed(http: Http, project: str) -> bool | None:
    """True when the simple index lists the project, False on its 404, None when it did not answer."""
    path = f"/simple/{quote(normalize(project), safe='')}/"
    try:
        response = http.get(path, headers={"Accept": PEP_691})
    except RegistrationFailed:
        return None
    return {200: True, 404: False}.get(response.status_code)
