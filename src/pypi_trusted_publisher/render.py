"""Results as text for people and as one JSON line for programs."""

from __future__ import annotations

import json

from .inputs import Default
from .models import Result, Status

SYMBOL = {
    Status.REGISTERED: "✓ registered",
    Status.EXISTS: "✓ already registered",
    Status.DRY_RUN: "• dry run",
    Status.NEEDS_CONFIRMATION: "! needs confirmation",
    Status.FAILED: "✗ failed",
}


def defaults(chosen: list[Default]) -> str:
    """``owner = octo (from git remote origin)`` lines, so no default is silent."""
    return "\n".join(f"  {d.field} = {d.value} (from {d.source})" for d in chosen)


def publisher_lines(result: Result) -> list[str]:
    reg = result.registration
    lines = [f"  index     {reg.index.url}"]
    label = "pending project" if result.pending else "project"
    lines.append(f"  {label:<9} {reg.normalized_project}")
    if reg.organization:
        lines.append(f"  org       {reg.organization}")
    lines.append(f"  publisher {reg.publisher.title}")
    for name, value in reg.publisher.form_fields().items():
        lines.append(f"    {name:<17} {value or '(any)'}")
    return lines


def text(result: Result) -> str:
    lines = [f"{SYMBOL[result.status]}: {result.message}", *publisher_lines(result)]
    if result.status in (Status.REGISTERED, Status.EXISTS):
        lines.append(f"  manage    {result.manage_url}")
    else:
        if result.reason:
            lines.append(f"  reason    {result.reason}")
        lines.append(f"  manual    {result.manual_url}")
        lines.extend(f"    {step}" for step in result.manual_steps)
    return "\n".join(lines)


def json_line(result: Result) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, separators=(",", ":"))
