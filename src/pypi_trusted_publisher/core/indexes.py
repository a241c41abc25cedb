"""Which Warehouse instance we talk to, and the HTTPS-only rule."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import UsageError

KNOWN = {
    "pypi": "https://pypi.org",
    "testpypi": "https://test.pypi.org",
}


@dataclass(frozen=True)
class Index:
    name: str
    url: str
    default_environment: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def page(self, path: str) -> str:
        return self.url + path


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_index(value: str) -> Index:
    """Turn ``pypi``, ``testpypi`` or a URL into an :class:`Index`.

    Plain ``http://`` is refused except on loopback, where the test server lives:
    the tool sends a password and TOTP codes.
    """
    value = (value or "pypi").strip()
    key = value.lower()
    if key in KNOWN:
        return Index(key, KNOWN[key], "testpypi" if key == "testpypi" else "pypi")
    parts = urlsplit(value)
    if parts.username or parts.password or parts.query or parts.fragment:
        # Checked first: the other messages quote the value, which must not show a password.
        raise UsageError("--index URL must not contain credentials, a query or a fragment", field="index")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(
            f"--index must be 'pypi', 'testpypi' or an https:// URL, got {value!r}", field="index"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(
            f"--index {value!r} uses plain http://; only https:// is allowed (except loopback)", field="index"
        )
    url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    for name, known in KNOWN.items():
        if url == known:
            return resolve_index(name)
    environment = "testpypi" if parts.hostname == "test.pypi.org" else "pypi"
    return Index(url, url, environment)
