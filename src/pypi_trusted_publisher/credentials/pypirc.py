"""What ``~/.pypirc`` holds for an index: the file twine and the proposed Warehouse CLI already read.

Only two values are taken from it. ``username`` is a PyPI username unless it is
twine's ``__token__``. ``password`` is used only when it is an API token
(``pypi-…``), and then only for the token API: an API token is never a login
password, and a plain account password left in a file is not one we pick up.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..core.errors import UsageError
from ..core.indexes import KNOWN, Index
from ..core.secret import Secret

TOKEN_PREFIX = "pypi-"  # noqa: S105 (a prefix, not a secret)
TOKEN_USERNAME = "__token__"  # noqa: S105 (twine's marker username)


@dataclass(frozen=True)
class PypircEntry:
    section: str
    username: str
    api_token: Secret


def default_path() -> Path:
    return Path.home() / ".pypirc"


def read(index: Index, path: Path | None = None) -> PypircEntry | None:
    """The section for ``index``: ``[pypi]``/``[testpypi]`` by name, else one whose ``repository`` is on its origin."""
    path = path or default_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} could not be read ({type(exc).__name__})", field="pypirc") from None
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        # The parser's own message quotes the offending line, which may hold a password: name only the line.
        line = getattr(exc, "lineno", None) or next((n for n, _ in getattr(exc, "errors", [])), None)
        where = f" (line {line})" if line else ""
        raise UsageError(f"{path} is not a valid INI file{where}; fix it or move it away", field="pypirc") from None
    section = _section_for(parser, index)
    if section is None:
        return None
    values = parser[section]
    username = values.get("username", "").strip()
    password = values.get("password", "").strip()
    return PypircEntry(
        section=section,
        username="" if username == TOKEN_USERNAME else username,
        api_token=Secret(password if password.startswith(TOKEN_PREFIX) else ""),
    )


def _section_for(parser: configparser.RawConfigParser, index: Index) -> str | None:
    if index.name in KNOWN:
        return index.name if parser.has_section(index.name) else None
    wanted = _origin(index.url)
    for section in parser.sections():
        repository = parser[section].get("repository", "").strip()
        if repository and _origin(repository) == wanted:
            return section
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or "").lower(), port
