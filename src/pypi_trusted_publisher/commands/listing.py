"""``pypi-trusted-publisher list``: the publishers of a project, your pending ones, or an organization's."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import TextIO

from ..core.errors import RegistrationFailed, UsageError
from ..core.models import Place, Target
from .common import EXIT_OK, Access, Subcommands, add_access_arguments, remote_failure, usage_failure


def add_parser(commands: Subcommands) -> None:
    listing = commands.add_parser("list", help="list the publishers of a project, or your pending ones")
    listing.add_argument("--index", default="pypi", help="pypi (default), testpypi, or an https:// URL")
    which = listing.add_mutually_exclusive_group()
    which.add_argument("--project", help="project name (default: [project].name in pyproject.toml)")
    which.add_argument("--pending", action="store_true", help="your pending publishers")
    which.add_argument("--organization", default="", help="an organization's pending publishers")
    add_access_arguments(listing)
    listing.set_defaults(run=run)


@dataclass(frozen=True)
class ListRequest:
    index: str
    project: str | None
    pending: bool
    organization: str
    access: Access

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ListRequest:
        return cls(args.index, args.project, args.pending, args.organization, Access.from_args(args))

    def place(self) -> Place:
        """Which listing; UsageError when there is nothing to list."""
        from ..core.indexes import resolve_index
        from ..inputs.context import RepoContext

        index = resolve_index(self.index)
        pending = self.pending or bool(self.organization)
        project = "" if pending else (self.project or RepoContext().pyproject_name())
        if not (project or pending):
            raise UsageError("list needs --project NAME (or a pyproject.toml), --pending or --organization")
        return Place(index, project or "", Target.PENDING if pending else Target.PROJECT, self.organization)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from ..engine.engine import engine
    from ..render.results import rows_json, rows_table
    from .common import credentials_for, engine_options

    request = ListRequest.from_args(args)
    access = request.access
    try:
        place = request.place()
    except UsageError as exc:
        return usage_failure(exc, access.as_json, out)
    try:
        credentials = credentials_for(access, place.index)
        with engine(place.index, credentials, engine_options(access)) as eng:
            pending, rows = eng.listing(place)
    except UsageError as exc:
        return usage_failure(exc, access.as_json, out)
    except RegistrationFailed as exc:
        return remote_failure(exc, access.as_json, out, place)
    if access.as_json:
        document = {**rows_json(place, pending, rows), "credentials": dict(credentials.sources)}
        print(json.dumps(document, separators=(",", ":")), file=out)
    else:
        print(rows_table(place, pending, rows), file=out)
    return EXIT_OK
