"""``pypi-trusted-publisher check``: compare a publisher with this checkout's CI files (and the job's OIDC token)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from ..core.errors import RegistrationFailed, UsageError
from ..core.models import Place, Target
from .common import (
    Access,
    Subcommands,
    add_access_arguments,
    add_publisher_arguments,
    publisher_options,
    remote_failure,
    usage_failure,
)

if TYPE_CHECKING:
    from ..core.models import Registration
    from ..inputs.options import Options
    from ..preflight import Report


def add_parser(commands: Subcommands) -> None:
    check = commands.add_parser("check", help="compare a publisher with the release workflow in this checkout")
    add_publisher_arguments(check, "check")
    check.add_argument(
        "--listed", action="store_true", help="check the publishers listed on the index for the project (logs in)"
    )
    check.add_argument(
        "--oidc", action="store_true", help="in GitHub Actions: also compare this job's OIDC token claims"
    )
    add_access_arguments(check)
    check.set_defaults(run=run)


@dataclass(frozen=True)
class CheckRequest:
    options: list[Options]
    access: Access
    # --listed: the index, project and target as given (the publishers come from the index's listing)
    indexes: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    target: Target | None = None
    organization: str = ""
    listed: bool = False
    oidc: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> CheckRequest:
        return cls(
            publisher_options(args), Access.from_args(args), tuple(args.index or ()), tuple(args.project or ()),
            args.target, args.organization, args.listed, args.oidc,
        )  # fmt: skip


def run(args: argparse.Namespace, out: TextIO) -> int:
    from ..preflight import Report, check_oidc, render_json, render_text
    from .add import preflight
    from .common import resolve_all

    request = CheckRequest.from_args(args)
    access = request.access
    place = None
    registrations: list[Registration] = []
    try:
        if request.listed:
            place = listed_place(request)
            reports = listed_reports(access, place)
        else:
            registrations, _ = resolve_all(request.options)
            reports = [preflight(r, r.target is Target.PENDING) for r in registrations]
    except UsageError as exc:
        return usage_failure(exc, access.as_json, out)
    except RegistrationFailed as exc:
        return remote_failure(exc, access.as_json, out, place)
    if request.oidc:
        reports += [check_oidc(r.publisher, index=r.index, timeout=access.timeout) for r in registrations]
    report = Report.combine(reports)
    if access.as_json:
        print(json.dumps(render_json(report), separators=(",", ":")), file=out)
    else:
        print(render_text(report), file=out)
    return report.exit_code


def listed_place(request: CheckRequest) -> Place:
    """The one listing ``check --listed`` reads."""
    from ..core.indexes import resolve_index
    from ..inputs.context import RepoContext

    indexes = request.indexes or ("pypi",)
    projects = request.projects or (RepoContext().pyproject_name() or "",)
    if len(indexes) != 1 or len(projects) != 1 or not (projects[0] or request.target is Target.PENDING):
        raise UsageError("check --listed takes one --index and one --project (or --pending)")
    return Place(resolve_index(indexes[0]), projects[0], request.target or Target.PROJECT, request.organization)


def listed_reports(access: Access, place: Place) -> list[Report]:
    """Log in, read the project's (or pending) listing, and check every publisher on it."""
    from ..engine.engine import engine
    from ..preflight import check_publisher
    from .common import credentials_for, engine_options

    index = place.index
    credentials = credentials_for(access, index)
    with engine(index, credentials, engine_options(access)) as eng:
        pending, rows = eng.listing(place)
    return [
        check_publisher(row.publisher, index=index, project=row.project_name or place.project, pending=pending)
        for row in rows
    ]
