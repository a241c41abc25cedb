"""The progress of a batch file registered over several runs: what is done, what failed, what is left.

PyPI allows 100 registration attempts a day per account and per IP (docs/protocol/limits.md#registration-limits),
so a large plan takes more than one run. The progress sits next to the batch file
(``plan.toml.state.json``) and belongs to that file's exact content and to one
index: a progress file of another plan or index is refused. It holds project
names, publisher fields, outcomes and times: never credentials, cookies or links.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..core.errors import UsageError
from ..core.models import Registration, Result
from ..core.publishers import to_dict

VERSION = 1
DONE, FAILED, LEFT = "done", "failed", "left"
# Saved before a registration starts, so a run killed in the middle of one says which (docs/protocol/limits.md#resume).
IN_PROGRESS = "in-progress"


def state_path(config: Path) -> Path:
    return config.with_name(config.name + ".state.json")


def plan_digest(config: Path) -> str:
    try:
        return hashlib.sha256(config.read_bytes()).hexdigest()
    except OSError as exc:
        raise UsageError(f"--config {config}: {exc.strerror}") from None


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def _epoch(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def item(registration: Registration) -> dict[str, object]:
    """What identifies one registration of the plan."""
    return {"project": registration.normalized_project, "publisher": to_dict(registration.publisher)}


def _key(entry: dict[str, object]) -> str:
    return json.dumps([entry.get("project"), entry.get("publisher")], sort_keys=True)


@dataclass
class Progress:
    """Where a batch file's run stands; ``not_before`` is when PyPI's limit allows more (epoch seconds)."""

    path: Path
    digest: str
    index: str
    registrations: list[Registration]
    entries: dict[str, dict[str, object]] = field(default_factory=dict)
    not_before: float | None = None

    @classmethod
    def load(cls, config: Path, index: str, registrations: list[Registration]) -> Progress:
        """This plan's progress, or a fresh one; refuses the progress of another plan or index."""
        path = state_path(config)
        progress = cls(path, plan_digest(config), index, registrations)
        if not path.exists():
            return progress
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            data = None
        if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("items"), list):
            raise UsageError(f"{path} is not a progress file this tool can read; delete it to start over")
        if data.get("plan_sha256") != progress.digest:
            raise UsageError(
                f"{path} belongs to another plan ({config} changed since that run); delete it to start over: "
                "what is registered already is found on PyPI and skipped without a new attempt"
            )
        if data.get("index") != index:
            raise UsageError(f"{path} belongs to {data.get('index')}, not {index}; use --index {data.get('index')}")
        progress.entries = {_key(e): e for e in data["items"] if isinstance(e, dict)}
        progress.not_before = _epoch(data.get("not_before"))
        return progress

    def status(self, registration: Registration) -> str:
        entry = self.entries.get(_key(item(registration)), {})
        return str(entry.get("status", LEFT))

    def interrupted(self, registration: Registration) -> bool:
        """Whether an earlier run stopped while registering this one (its POST may have landed)."""
        return self.status(registration) == IN_PROGRESS

    def start(self, registration: Registration, now: float) -> None:
        """Record, and save, that this registration is under way: a kill from here on leaves that on disk."""
        entry = {**item(registration), "status": IN_PROGRESS, "at": iso(now)}
        self.entries[_key(entry)] = entry
        self.save(now)

    def todo(self) -> list[Registration]:
        """What is not done yet, failed ones included (a failure may be fixed on PyPI's side by now)."""
        return [r for r in self.registrations if self.status(r) != DONE]

    def record(self, registration: Registration, result: Result, status: str, now: float) -> None:
        entry = item(registration)
        outcome = result.status.value + (f" ({result.reason})" if result.reason else "")
        entry.update({"status": status, "outcome": outcome, "at": iso(now)})
        self.entries[_key(entry)] = entry

    def counts(self) -> dict[str, int]:
        """Done, failed and left; one that was under way when a run stopped counts as left."""
        statuses = [LEFT if s == IN_PROGRESS else s for s in map(self.status, self.registrations)]
        return {name: statuses.count(name) for name in (DONE, FAILED, LEFT)}

    def save(self, now: float) -> None:
        """Write atomically, so an interruption leaves the last complete state."""
        items = []
        for registration in self.registrations:
            entry = self.entries.get(_key(item(registration))) or {**item(registration), "status": LEFT}
            items.append(entry)
        data = {
            "version": VERSION,
            "plan": str(self.path.name.removesuffix(".state.json")),
            "plan_sha256": self.digest,
            "index": self.index,
            "updated": iso(now),
            "not_before": iso(self.not_before) if self.not_before is not None else None,
            "items": items,
        }
        write_atomically(self.path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_atomically(path: Path, text: str) -> None:
    """The whole new text or the whole old one, even across a kill or a power cut: a temporary file of this process
    in the same folder, flushed to disk, renamed over ``path``, and the folder's entry flushed too."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):  # POSIX; Windows has no directory handles to flush
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
