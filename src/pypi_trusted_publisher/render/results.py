"""Results as text for people and as one JSON line for programs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..core.models import ClaimResult, ClaimStatus, Place, Result, Status
from ..core.publishers import to_dict
from ..core.wording import plural
from ..inputs.options import Default, Resolved

if TYPE_CHECKING:
    from ..core.models import Row

SYMBOL = {
    Status.REGISTERED: "✓ registered",
    Status.EXISTS: "✓ already registered",
    Status.DRY_RUN: "• dry run",
    Status.NEEDS_CONFIRMATION: "! needs confirmation",
    Status.FAILED: "✗ failed",
    Status.REMOVED: "✓ removed",
}
DONE = (Status.REGISTERED, Status.EXISTS, Status.REMOVED)
# The keys of every JSON result line, in order (Result.to_dict's, which may add manual_steps, retry_after).
RESULT_KEYS = ("status", "index", "project", "pending", "organization", "publisher", "method", "manage_url",
               "manual_url", "message", "reason")


def defaults(chosen: list[Default]) -> str:
    """``owner = octo (from git remote origin)`` lines, so no default is silent."""
    return "\n".join(f"  {d.field} = {d.value} (from {d.source})" for d in chosen)


def defaults_blocks(batch: Sequence[Resolved]) -> list[str]:
    """A ``Defaults:`` block for the batch; one per group of registrations when their defaults differ."""
    groups: dict[str, list[str]] = {}
    for resolved in batch:
        if resolved.defaults:
            reg = resolved.registration
            groups.setdefault(defaults(resolved.defaults), []).append(f"{reg.normalized_project!r} on {reg.index.host}")
    if len(groups) == 1 and len(next(iter(groups.values()))) == len(batch):
        return [f"Defaults:\n{block}" for block in groups]
    return [f"Defaults for {', '.join(where)}:\n{block}" for block, where in groups.items()]


def publisher_lines(result: Result, *, method: bool = True) -> list[str]:
    reg = result.registration
    lines = [f"  index     {reg.index.url}"]
    label = "pending project" if result.pending else "project"
    lines.append(f"  {label:<9} {reg.normalized_project}")
    if reg.organization:
        lines.append(f"  org       {reg.organization}")
    lines.append(f"  publisher {reg.publisher.title}" + (f"  (via {result.method})" if method else ""))
    for name, value in reg.publisher.form_fields().items():
        lines.append(f"    {name:<17} {value or '(any)'}")
    return lines


def text(result: Result) -> str:
    lines = [f"{SYMBOL[result.status]}: {result.message}", *publisher_lines(result)]
    if result.status in DONE:
        lines.append(f"  manage    {result.manage_url}")
    else:
        if result.reason:
            lines.append(f"  reason    {result.reason}")
        lines.append(f"  manual    {result.manual_url}")
        lines.extend(f"    {step}" for step in result.manual_steps)
    return "\n".join(lines)


def json_line(result: Result, **extra: object) -> str:
    data = result.to_dict()
    data.update({key: value for key, value in extra.items() if value is not None})
    return _dumps(data)


CLAIM_SYMBOL = {
    ClaimStatus.CLAIMED: "✓ claimed",
    ClaimStatus.PROVEN: "✓ proven",
    ClaimStatus.FAILED: "✗ claim failed",
    ClaimStatus.SKIPPED: "• claim skipped",
}


def claim_text(result: ClaimResult) -> str:
    """The claim's outcome, the fix when it failed, and the job's claims PyPI matched (never a token)."""
    lines = [f"{CLAIM_SYMBOL[result.status]}: {result.message}"]
    lines.append(f"  index     {result.index.url}")
    lines.append(f"  project   {result.project}")
    if result.reason:
        lines.append(f"  reason    {result.reason}")
    if result.fix:
        lines.append(f"  fix       {result.fix}")
    if result.claims:
        lines.append("  the job's token (for debugging):")
        lines += [f"    {name:<19} {value}" for name, value in result.claims.items()]
    return "\n".join(lines)


def claim_line(result: ClaimResult) -> str:
    return _dumps(result.to_dict())


def shaped_line(**values: object) -> str:
    """A JSON line with a result line's keys in its order (null where there is no value), then any others."""
    return _dumps({**dict.fromkeys(RESULT_KEYS), **values})


def failure_line(
    reason: str, message: str, *, field: str | None = None, place: Place | None = None, retry_after: int | None = None
) -> str:
    """A failure that has no :class:`Result` (bad input, a listing that failed); ``field`` names the bad input."""
    known: dict[str, object] = {}
    if place is not None:
        known.update(index=place.index.url, project=place.normalized_project or None,
                     organization=place.organization or None)
    if reason == "invalid-input":
        known["field"] = field or None
    if retry_after is not None:
        known["retry_after"] = retry_after
    return shaped_line(status="failed", message=message, reason=reason, **known)


def _dumps(data: dict[str, object]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def summary_table(results: list[Result]) -> str:
    """One line per registration, for batches."""
    width = max(len("project"), *(len(r.registration.normalized_project) for r in results))
    lines = [f"{'project':<{width}}  {'index':<22} status"]
    for r in results:
        reg = r.registration
        status = r.status.value + (f" ({r.reason})" if r.reason else "")
        lines.append(f"{reg.normalized_project:<{width}}  {reg.index.host:<22} {status}")
    failed = sum(1 for r in results if not r.status.ok)
    lines.append(f"{len(results) - failed} ok, {failed} failed")
    return "\n".join(lines)


def _details(row: Row) -> str:
    return ", ".join(f"{k}={v or '(any)'}" for k, v in row.publisher.form_fields().items())


def rows_table(place: Place, pending: bool, rows: list[Row]) -> str:
    what = "pending publisher" if pending else "publisher"
    where = f"on {place.index.host}" if pending else f"of {place.normalized_project!r} on {place.index.host}"
    if not rows:
        return f"No {what}s {where}."
    lines = [f"{plural(len(rows), what)} {where}:"]
    for row in rows:
        name = f"{row.project_name}  " if pending else ""
        lines.append(f"  {name}{row.publisher.title:<11} {_details(row)}  [id {row.publisher_id}]")
    return "\n".join(lines)


def rows_json(place: Place, pending: bool, rows: list[Row]) -> dict[str, object]:
    return {
        "status": "ok",
        "index": place.index.url,
        "project": place.normalized_project if not pending else None,
        "pending": pending,
        "organization": place.organization or None,
        "publishers": [
            {"id": r.publisher_id, **({"project": r.project_name} if pending else {}), **to_dict(r.publisher)}
            for r in rows
        ],
    }
