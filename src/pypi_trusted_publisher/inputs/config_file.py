"""Many registrations in one run: the config file and the up-front plan check.

PyPI allows 100 registration attempts a day per account and per IP, and 3
pending publishers per account (docs/protocol/limits.md). A plan that cannot fit is refused
with the numbers before anything is posted, instead of failing half-way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from ..core.errors import UsageError
from ..core.models import Registration, Target
from .options import Options

DAILY_REGISTRATIONS = 100
PENDING_LIMIT = 3
OPTION_NAMES = {f.name for f in fields(Options)} - {"index"}


def _entry(table: object, where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise UsageError(f"{where} must be a table")
    entry: dict[str, Any] = {}  # values checked below: a string, or a Target
    for key, value in table.items():
        name = key.replace("-", "_")
        if name == "pending":
            name, value = "target", Target.PENDING if value else Target.AUTO
        elif name == "existing":
            name, value = "target", Target.PROJECT if value else Target.AUTO
        if name not in OPTION_NAMES:
            raise UsageError(f"{where}: unknown key {key!r}")
        if name != "target" and not isinstance(value, str):
            raise UsageError(f"{where}: {key} must be a string")
        entry[name] = value
    return entry


def load_config(path: str, base: Options) -> list[Options]:
    """``[defaults]`` then one ``[[publisher]]`` table per registration; flags are the base."""
    import tomllib

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--config {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--config {path}: not valid TOML ({exc})") from None
    unknown = set(data) - {"defaults", "publisher"}
    if unknown:
        raise UsageError(f"--config {path}: unknown table(s) {', '.join(sorted(unknown))}")
    defaults = replace(base, **_entry(data.get("defaults", {}), "[defaults]"))
    tables = data.get("publisher", [])
    if not isinstance(tables, list) or not tables:
        raise UsageError(f"--config {path}: add at least one [[publisher]] table")
    return [replace(defaults, **_entry(t, f"[[publisher]] #{n}")) for n, t in enumerate(tables, 1)]


def check_plan(registrations: list[Registration], *, resumable: bool = False) -> None:
    """Refuse plans that PyPI's limits make impossible, before any network call.

    ``resumable``: the run records its progress and the next one continues, so the daily
    limit only means more runs.
    """
    per_index = Counter(r.index.url for r in registrations)
    for url, count in per_index.items():
        if count > DAILY_REGISTRATIONS and not resumable:
            raise UsageError(
                f"{count} registrations on {url} exceed PyPI's limit of {DAILY_REGISTRATIONS} a day per "
                "account and per IP; split the plan over several days, or pass --resume with --config to "
                "run it in several runs that continue where the last stopped."
            )
    pending = Counter(r.index.url for r in registrations if r.target is Target.PENDING and not r.organization)
    for url, count in pending.items():
        if count > PENDING_LIMIT:
            raise UsageError(
                f"{count} pending publishers on {url} exceed PyPI's limit of {PENDING_LIMIT} per account; "
                "use an organization (--organization) or register them in turns."
            )
    seen = Counter((r.index.url, r.normalized_project, r.publisher) for r in registrations)
    for (url, project, _), count in seen.items():
        if count > 1:
            raise UsageError(f"the plan names the same publisher for {project!r} on {url} twice")
