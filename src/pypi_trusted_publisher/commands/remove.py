"""``pypi-trusted-publisher remove``: remove one publisher, chosen by its fields, verified by the listing."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from ..core.errors import UsageError
from .common import (
    EXIT_FAILED,
    Access,
    Subcommands,
    add_access_arguments,
    add_publisher_arguments,
    publisher_options,
    say,
    usage_failure,
)

if TYPE_CHECKING:
    from ..inputs.options import Options


def add_parser(commands: Subcommands) -> None:
    remove = commands.add_parser("remove", help="remove one publisher, chosen by its fields")
    add_publisher_arguments(remove, "remove")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_access_arguments(remove)
    remove.set_defaults(run=run)


@dataclass(frozen=True)
class RemoveRequest:
    options: list[Options]
    access: Access
    yes: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RemoveRequest:
        return cls(publisher_options(args), Access.from_args(args), args.yes)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from ..engine.engine import engine, plan
    from ..render.results import json_line, publisher_lines, text
    from .common import confirmed, credentials_for, engine_options, interactive, resolve_all

    request = RemoveRequest.from_args(args)
    access = request.access
    try:
        registrations, _ = resolve_all(request.options)
        if len(registrations) != 1:
            raise UsageError("remove takes exactly one --project and one --index")
        if not request.yes and not interactive():
            raise UsageError("remove asks for confirmation: pass --yes when not in a terminal")
    except UsageError as exc:
        return usage_failure(exc, access.as_json, out)
    registration = registrations[0]
    if not request.yes:
        say("About to remove:\n" + "\n".join(publisher_lines(plan(registration), method=False)[1:]))
        if not confirmed("Remove this publisher?"):
            say("Nothing removed.")
            return EXIT_FAILED
    credentials = credentials_for(access, registration.index)
    with engine(registration.index, credentials, engine_options(access)) as eng:
        result = eng.remove(registration)
    print(json_line(result, credentials=dict(credentials.sources)) if access.as_json else text(result), file=out)
    return result.exit_code
