"""``pypi-trusted-publisher add``: register trusted publishers, one or a batch (``--config``), resumably if asked."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from ..core.errors import RegistrationFailed, UsageError
from .common import (
    Access,
    Subcommands,
    add_access_arguments,
    add_publisher_arguments,
    publisher_options,
    say,
    usage_failure,
)

if TYPE_CHECKING:
    from ..core.models import Registration, Result
    from ..inputs.options import Options
    from ..preflight import Report


def add_parser(commands: Subcommands) -> None:
    add = commands.add_parser("add", help="register a trusted publisher")
    add_publisher_arguments(add, "add")
    add.add_argument(
        "--config", help="TOML file with [defaults] and [[publisher]] tables: many registrations, one login"
    )
    add.add_argument(
        "--resume", action="store_true",
        help="with --config: record progress next to the file, stop at PyPI's daily limit, continue on the next run",
    )
    add.add_argument("--dry-run", action="store_true", help="show what would be registered; no network")
    add.add_argument(
        "--no-check", action="store_true", help="skip the preflight check of the release workflow afterwards"
    )
    add_access_arguments(add, methods=True)
    add.set_defaults(run=run)


@dataclass(frozen=True)
class AddRequest:
    options: list[Options]
    access: Access
    config: str | None = None
    resume: bool = False
    dry_run: bool = False
    check: bool = True

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AddRequest:
        """The request, or UsageError; what --resume cannot go with is said before the batch file is read."""
        if args.resume and not args.config:
            raise UsageError("--resume goes with --config FILE: the progress is kept next to that file")
        if args.resume and args.dry_run:
            raise UsageError("--resume registers and records what it did; it cannot go with --dry-run")
        return cls(publisher_options(args), Access.from_args(args), args.config, args.resume, args.dry_run,
                   not args.no_check)  # fmt: skip


def run(args: argparse.Namespace, out: TextIO) -> int:
    try:
        request = AddRequest.from_args(args)
    except UsageError as exc:
        return usage_failure(exc, args.json, out)
    return resume(request, out) if request.resume else add(request, out)


def add(request: AddRequest, out: TextIO) -> int:
    from ..engine.engine import plan
    from ..inputs.config_file import check_plan
    from ..render.results import json_line, summary_table, text
    from .common import resolve_all

    access = request.access
    try:
        registrations, notes = resolve_all(request.options)
        check_plan(registrations)
    except UsageError as exc:
        return usage_failure(exc, access.as_json, out)
    for note in notes:
        say(note)
    results: list[Result]
    sources: dict[str, dict[str, str]] = {}
    if request.dry_run:
        results = [plan(registration) for registration in registrations]
    else:
        results, sources = register_by_index(access, registrations)
    checks = {id(r): preflight(r.registration, r.pending) for r in results if r.status.ok} if request.check else {}
    if access.as_json:
        from ..preflight import render_json

        for result in results:
            report = checks.get(id(result))
            check = render_json(report) if report else None
            print(json_line(result, check=check, credentials=sources.get(result.registration.index.url)), file=out)
    else:
        from ..preflight import render_text

        blocks = [text(r) + (f"\n\n{render_text(checks[id(r)])}" if id(r) in checks else "") for r in results]
        print("\n\n".join(blocks), file=out)
        if len(results) > 1:
            print("\n" + summary_table(results), file=out)
    return max(result.exit_code for result in results)


def register_by_index(
    access: Access, registrations: list[Registration]
) -> tuple[list[Result], dict[str, dict[str, str]]]:
    """Each index with its own credentials (all gathered, so all prompts come, before the first request)."""
    from ..engine.engine import register_many
    from .common import credentials_for, engine_options

    indexes = {r.index.url: r.index for r in registrations}
    credentials = {url: credentials_for(access, index) for url, index in indexes.items()}
    done: dict[int, Result] = {}
    for url in indexes:
        group = [(n, r) for n, r in enumerate(registrations) if r.index.url == url]
        results = register_many([r for _, r in group], credentials[url], engine_options(access))
        done.update(zip((n for n, _ in group), results, strict=True))
    return [done[n] for n in range(len(registrations))], {url: dict(c.sources) for url, c in credentials.items()}


def preflight(registration: Registration, pending: bool | None) -> Report:
    """The publish-time problems this checkout would hit with the registration's publisher."""
    from ..preflight import check_publisher

    return check_publisher(
        registration.publisher, index=registration.index, project=registration.project, pending=pending is True
    )


def resume(request: AddRequest, out: TextIO) -> int:
    """``add --config FILE --resume``: :mod:`..plan.resume` with this command's credentials and terminal."""
    from ..plan.resume import ResumeRequest, run_resumable
    from .common import credentials_for, engine_options, remote_failure, resolve_all

    access = request.access
    assert request.config is not None
    try:
        registrations, notes = resolve_all(request.options)
        resumable = ResumeRequest(
            config=request.config,
            registrations=registrations,
            notes=notes,
            engine=engine_options(access),
            credentials=lambda index: credentials_for(access, index),
            as_json=access.as_json,
        )
        return run_resumable(resumable, out)
    except UsageError as exc:
        return usage_failure(exc, access.as_json, out)
    except RegistrationFailed as exc:
        return remote_failure(exc, access.as_json, out)
