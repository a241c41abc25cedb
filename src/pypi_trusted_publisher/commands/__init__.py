"""The ``pypi-trusted-publisher`` command.

Start-up is measured: only argparse and the small input modules load before a
command runs; the HTTP stack is imported when a network call is certain.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from .. import __version__
from ..core.errors import RegistrationFailed, UsageError
from ..core.models import Credentials, Place, Registration, Result, Target
from ..inputs.options import Options

if TYPE_CHECKING:
    from ..core.indexes import Index
    from ..preflight import Report

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ARGUMENT_RE = re.compile(r"^argument (?P<name>[^:]+): (?P<problem>.*)$")
# What --pending, --existing and --organization mean to each command that takes a publisher.
TARGET_HELP = {
    "add": (
        "register a pending publisher for a project that does not exist yet",
        "register on an existing project (you must be an Owner)",
        "PyPI organization that will own the new project (pending publisher on its page)",
    ),
    "check": (
        "check it as a pending publisher (its name must be the one the build uploads)",
        "check it as a publisher of an existing project",
        "PyPI organization of the pending publisher (with --listed: list that organization's)",
    ),
    "remove": (
        "the publisher is a pending one (your account's publishing page)",
        "the publisher is on the existing project's publishing page",
        "the organization whose pending publisher it is",
    ),
}


def _add_publisher_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    pending_help, existing_help, organization_help = TARGET_HELP[command]
    several = "; repeat for several" if command != "remove" else ""
    where = parser.add_argument_group("where")
    where.add_argument("--index", action="append", help=f"pypi (default), testpypi, or an https:// URL{several}")
    where.add_argument(
        "--project", action="append", help=f"project name (default: [project].name in pyproject.toml){several}"
    )
    target = where.add_mutually_exclusive_group()
    target.add_argument(
        "--pending", dest="target", action="store_const", const=Target.PENDING, help=pending_help
    )
    target.add_argument(
        "--existing", dest="target", action="store_const", const=Target.PROJECT, help=existing_help
    )
    where.add_argument("--organization", default="", help=organization_help)
    kind = parser.add_argument_group("publisher")
    kind.add_argument(
        "--provider", default="github", choices=("github", "gitlab", "google", "activestate"),
        help="kind of trusted publisher (default: github)",
    )
    kind.add_argument("--owner", help="GitHub owner (default: from GITHUB_REPOSITORY or git remote)")
    kind.add_argument("--repo", "--repository", dest="repository", help="GitHub repository name")
    kind.add_argument("--workflow", help="workflow filename under .github/workflows/")
    kind.add_argument(
        "--environment",
        help="GitHub/GitLab environment (default: pypi, or testpypi on TestPyPI; '' or '*' for any)",
    )
    kind.add_argument("--namespace", help="GitLab namespace (user or group/subgroup)")
    kind.add_argument("--gitlab-project", help="GitLab project name")
    kind.add_argument("--workflow-path", help="GitLab top-level pipeline path (default: .gitlab-ci.yml)")
    kind.add_argument("--issuer-url", help="GitLab issuer (default: https://gitlab.com)")
    kind.add_argument("--email", help="Google service account email")
    kind.add_argument("--sub", help="Google subject (optional)")
    kind.add_argument("--activestate-org", help="ActiveState organization")
    kind.add_argument("--activestate-project", help="ActiveState project")
    kind.add_argument("--actor", help="ActiveState actor username")


def _add_access_arguments(parser: argparse.ArgumentParser, *, methods: bool) -> None:
    access = parser.add_argument_group("access")
    access.add_argument("--username", help="PyPI username (default: PYPI_USERNAME)")
    access.add_argument("--totp-code", help="a one-time 6-digit code instead of PYPI_TOTP_SECRET")
    access.add_argument(
        "-v", "--verbose", action="store_true", help="say where each credential came from (never its value)"
    )
    if methods:
        access.add_argument(
            "--method", default="auto", choices=("auto", "api", "web", "link"),
            help="transport: token API, web login, or only print the manual link (default: auto)",
        )
    access.add_argument(
        "--timeout", default="15",
        help="the most one network request may take, in seconds, its retries and their pauses included; "
        "1 to 300 (default: 15)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (one line per result)")


class Parser(argparse.ArgumentParser):
    """argparse, whose errors become :class:`UsageError`: one line (and with --json one JSON line), no usage dump."""

    def error(self, message: str) -> NoReturn:
        field = ""
        if match := ARGUMENT_RE.match(message):
            flag = match["name"].split("/")[0]
            field = flag.lstrip("-").lower()
            if match["problem"] == "expected one argument" and flag.startswith("--"):
                message += f" (a value that starts with '-' is written {flag}=VALUE)"
        raise UsageError(f"{message}; see {self.prog} --help", field=field)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="pypi-trusted-publisher",
        description="Register a PyPI Trusted Publisher in one step.",
        epilog="Credentials come from the options, then PYPI_USERNAME, PYPI_PASSWORD, PYPI_TOTP_SECRET, PYPI_PASSKEY "
        "and PYPI_API_TOKEN, then the keyring (see 'login'), then ~/.pypirc; in a terminal, missing ones are "
        "prompted for.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = commands.add_parser("add", help="register a trusted publisher")
    _add_publisher_arguments(add, "add")
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
    _add_access_arguments(add, methods=True)

    check = commands.add_parser("check", help="compare a publisher with the release workflow in this checkout")
    _add_publisher_arguments(check, "check")
    check.add_argument(
        "--listed", action="store_true", help="check the publishers listed on the index for the project (logs in)"
    )
    check.add_argument(
        "--oidc", action="store_true", help="in GitHub Actions: also compare this job's OIDC token claims"
    )
    _add_access_arguments(check, methods=False)

    listing = commands.add_parser("list", help="list the publishers of a project, or your pending ones")
    listing.add_argument("--index", default="pypi", help="pypi (default), testpypi, or an https:// URL")
    which = listing.add_mutually_exclusive_group()
    which.add_argument("--project", help="project name (default: [project].name in pyproject.toml)")
    which.add_argument("--pending", action="store_true", help="your pending publishers")
    which.add_argument("--organization", default="", help="an organization's pending publishers")
    _add_access_arguments(listing, methods=False)

    remove = commands.add_parser("remove", help="remove one publisher, chosen by its fields")
    _add_publisher_arguments(remove, "remove")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _add_access_arguments(remove, methods=False)

    from .login import add_parsers as add_login_parsers
    from .passkey import add_parser
    from .plan import add_parser as add_plan_parser

    add_login_parsers(commands, _add_access_arguments)
    add_parser(commands, _add_access_arguments)
    add_plan_parser(commands, _add_access_arguments)
    return parser


def _options(args: argparse.Namespace, index: str, project: str | None) -> Options:
    return Options(
        provider=args.provider,
        index=index,
        project=project,
        target=args.target or Target.AUTO,
        organization=args.organization,
        owner=args.owner,
        repository=args.repository,
        workflow=args.workflow,
        environment=args.environment,
        namespace=args.namespace,
        gitlab_project=args.gitlab_project,
        workflow_path=args.workflow_path,
        issuer_url=args.issuer_url,
        email=args.email,
        sub=args.sub,
        activestate_org=args.activestate_org,
        activestate_project=args.activestate_project,
        actor=args.actor,
    )


def plan_options(args: argparse.Namespace) -> list[Options]:
    """One Options per (index, project, config entry): the batch to register."""
    from ..inputs.config_file import load_config

    indexes = getattr(args, "index", None) or ["pypi"]
    if isinstance(indexes, str):
        indexes = [indexes]
    projects = args.project if isinstance(args.project, list) else [args.project]
    base = [_options(args, index, project) for index in indexes for project in projects or [None]]
    if getattr(args, "config", None):
        return [opts for index in indexes for opts in load_config(args.config, _options(args, index, None))]
    return base


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def credentials_for(args: argparse.Namespace, index: Index) -> Credentials:
    """The credentials for ``index`` (options, environment, keyring, ~/.pypirc, prompts); ``-v`` says from where."""
    from ..credentials.sources import describe, gather

    credentials = gather(
        index,
        dict(os.environ),
        username=args.username or "",
        totp_code=args.totp_code or "",
        method=getattr(args, "method", "web"),
        interactive=_interactive(),
        warn=lambda line: print(line, file=sys.stderr),
    )
    if args.verbose:
        print(describe(credentials, index), file=sys.stderr)
    return credentials


def _usage_failure(exc: UsageError, as_json: bool, out: TextIO) -> int:
    if as_json:
        from ..render.results import failure_line

        print(failure_line("invalid-input", exc.message, field=exc.field), file=out)
    print(f"error: {exc.message}", file=sys.stderr)
    return EXIT_USAGE


def _remote_failure(exc: RegistrationFailed, as_json: bool, out: TextIO, place: Place | None = None) -> int:
    if as_json:
        from ..render.results import failure_line

        print(failure_line(exc.reason, exc.message, place=place, retry_after=exc.retry_after), file=out)
    print(f"error: {exc.message}", file=sys.stderr)
    return EXIT_FAILED


def _engine_kwargs(args: argparse.Namespace) -> dict[str, object]:
    from ..core.waits import countdown, one_line
    from ..transports.web.confirm import NoConfirmation, TerminalConfirmation

    interactive = _interactive()
    prompt = (lambda: getpass.getpass("Two-factor code (hidden): ").strip()) if interactive else None
    # Pauses go to stderr, never stdout (it may carry --json): a countdown in a terminal, else one line.
    waiter = countdown(sys.stderr) if sys.stderr.isatty() else one_line(lambda line: print(line, file=sys.stderr))
    return {
        "confirmer": TerminalConfirmation() if interactive else NoConfirmation(),
        "timeout": args.timeout,
        "totp_prompt": prompt,
        "waiter": waiter,
    }


def _resolve_all(args: argparse.Namespace) -> tuple[list[Registration], list[str]]:
    from ..inputs.options import resolve
    from ..render.results import defaults_blocks

    batch = [resolve(options) for options in plan_options(args)]
    notes = [*defaults_blocks(batch), *(f"warning: {w}" for resolved in batch for w in resolved.warnings)]
    return [resolved.registration for resolved in batch], list(dict.fromkeys(notes))


def run_add(args: argparse.Namespace, out: TextIO) -> int:
    from ..inputs.config_file import check_plan
    from ..render.results import json_line, summary_table, text

    if args.resume:
        from ..plan.resume import run_resumable

        return run_resumable(args, out)
    try:
        registrations, notes = _resolve_all(args)
        check_plan(registrations)
    except UsageError as exc:
        return _usage_failure(exc, args.json, out)
    for note in notes:
        print(note, file=sys.stderr)
    results: list[Result]
    sources: dict[str, dict[str, str]] = {}
    if args.dry_run:
        from ..engine.engine import plan

        results = [plan(registration) for registration in registrations]
    else:
        results, sources = _register_by_index(args, registrations)
    checks = {} if args.no_check else {id(r): preflight(r.registration, r.pending) for r in results if r.status.ok}
    if args.json:
        for result in results:
            report = checks.get(id(result))
            check = _render(report, "json") if report else None
            print(json_line(result, check=check, credentials=sources.get(result.registration.index.url)), file=out)
    else:
        blocks = [text(r) + (f"\n\n{_render(checks[id(r)], 'text')}" if id(r) in checks else "") for r in results]
        print("\n\n".join(blocks), file=out)
        if len(results) > 1:
            print("\n" + summary_table(results), file=out)
    return max(result.exit_code for result in results)


def _register_by_index(
    args: argparse.Namespace, registrations: list[Registration]
) -> tuple[list[Result], dict[str, dict[str, str]]]:
    """Each index with its own credentials (all gathered, so all prompts come, before the first request)."""
    from ..engine.engine import register_many

    indexes = {r.index.url: r.index for r in registrations}
    credentials = {url: credentials_for(args, index) for url, index in indexes.items()}
    done: dict[int, Result] = {}
    for url in indexes:
        group = [(n, r) for n, r in enumerate(registrations) if r.index.url == url]
        results = register_many([r for _, r in group], credentials[url], method=args.method, **_engine_kwargs(args))
        done.update(zip((n for n, _ in group), results, strict=True))
    return [done[n] for n in range(len(registrations))], {url: dict(c.sources) for url, c in credentials.items()}


def _render(report: Report, how: str) -> object:
    from ..preflight import render_json, render_text

    return render_json(report) if how == "json" else render_text(report)


def preflight(registration: Registration, pending: bool | None) -> Report:
    """The publish-time problems this checkout would hit with the registration's publisher."""
    from ..preflight import check_publisher

    return check_publisher(
        registration.publisher, index=registration.index, project=registration.project, pending=pending is True
    )


def run_check(args: argparse.Namespace, out: TextIO) -> int:
    from ..preflight import Report, check_oidc, render_json, render_text

    place = None
    try:
        if args.listed:
            place = _listed_place(args)
            registrations, reports = [], _listed_reports(args, place)
        else:
            registrations, _ = _resolve_all(args)
            reports = [preflight(r, r.target is Target.PENDING) for r in registrations]
    except UsageError as exc:
        return _usage_failure(exc, args.json, out)
    except RegistrationFailed as exc:
        return _remote_failure(exc, args.json, out, place)
    if args.oidc:
        reports += [check_oidc(r.publisher, index=r.index, timeout=args.timeout) for r in registrations]
    report = Report.combine(reports)
    if args.json:
        print(json.dumps(render_json(report), separators=(",", ":")), file=out)
    else:
        print(render_text(report), file=out)
    return report.exit_code


def _listed_place(args: argparse.Namespace) -> Place:
    """The one listing ``check --listed`` reads."""
    from ..core.indexes import resolve_index
    from ..inputs.context import RepoContext

    indexes = args.index or ["pypi"]
    projects = args.project or [RepoContext().pyproject_name() or ""]
    if len(indexes) != 1 or len(projects) != 1 or not (projects[0] or args.target is Target.PENDING):
        raise UsageError("check --listed takes one --index and one --project (or --pending)")
    return Place(resolve_index(indexes[0]), projects[0], args.target or Target.PROJECT, args.organization)


def _listed_reports(args: argparse.Namespace, place: Place) -> list[Report]:
    """Log in, read the project's (or pending) listing, and check every publisher on it."""
    from ..engine.engine import engine
    from ..preflight import check_publisher

    index = place.index
    credentials = credentials_for(args, index)
    with engine(index, credentials, **_engine_kwargs(args)) as eng:
        pending, rows = eng.listing(place)
    return [
        check_publisher(row.publisher, index=index, project=row.project_name or place.project, pending=pending)
        for row in rows
    ]


def run_list(args: argparse.Namespace, out: TextIO) -> int:
    from ..core.indexes import resolve_index
    from ..engine.engine import engine
    from ..inputs.context import RepoContext
    from ..render.results import rows_json, rows_table

    try:
        index = resolve_index(args.index)
        project = "" if (args.pending or args.organization) else (args.project or RepoContext().pyproject_name())
        if not (project or args.pending or args.organization):
            raise UsageError("list needs --project NAME (or a pyproject.toml), --pending or --organization")
        target = Target.PENDING if (args.pending or args.organization) else Target.PROJECT
        place = Place(index, project or "", target, args.organization)
    except UsageError as exc:
        return _usage_failure(exc, args.json, out)
    try:
        credentials = credentials_for(args, index)
        with engine(index, credentials, **_engine_kwargs(args)) as eng:
            pending, rows = eng.listing(place)
    except UsageError as exc:
        return _usage_failure(exc, args.json, out)
    except RegistrationFailed as exc:
        return _remote_failure(exc, args.json, out, place)
    if args.json:
        document = {**rows_json(place, pending, rows), "credentials": dict(credentials.sources)}
        print(json.dumps(document, separators=(",", ":")), file=out)
    else:
        print(rows_table(place, pending, rows), file=out)
    return EXIT_OK


def run_remove(args: argparse.Namespace, out: TextIO) -> int:
    from ..engine.engine import engine
    from ..render.results import json_line, publisher_lines, text

    try:
        registrations, _ = _resolve_all(args)
        if len(registrations) != 1:
            raise UsageError("remove takes exactly one --project and one --index")
        if not args.yes and not _interactive():
            raise UsageError("remove asks for confirmation: pass --yes when not in a terminal")
    except UsageError as exc:
        return _usage_failure(exc, args.json, out)
    registration = registrations[0]
    if not args.yes:
        from ..engine.engine import plan

        print("About to remove:\n" + "\n".join(publisher_lines(plan(registration), method=False)[1:]),
              file=sys.stderr)
        if input("Remove this publisher? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing removed.", file=sys.stderr)
            return EXIT_FAILED
    credentials = credentials_for(args, registration.index)
    with engine(registration.index, credentials, **_engine_kwargs(args)) as eng:
        result = eng.remove(registration)
    print(json_line(result, credentials=dict(credentials.sources)) if args.json else text(result), file=out)
    return result.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:  # argparse may fail before it has read --json: look for it
        return _usage_failure(exc, "--json" in argv, sys.stdout)
    from .login import run_login, run_logout
    from .passkey import run as run_passkey
    from .plan import run as run_plan

    commands = {
        "add": run_add, "list": run_list, "remove": run_remove, "check": run_check, "passkey": run_passkey,
        "plan": run_plan, "login": run_login, "logout": run_logout,
    }  # fmt: skip
    try:
        from ..core.validation import TIMEOUT_LIMITS, number_in_range

        if hasattr(args, "timeout"):  # every command that reaches the network
            args.timeout = number_in_range("--timeout", args.timeout, *TIMEOUT_LIMITS, field="timeout")
    except UsageError as exc:
        return _usage_failure(exc, args.json, sys.stdout)
    try:
        return commands[args.command](args, sys.stdout)
    except UsageError as exc:  # found after the command's own checks, still before any network call
        return _usage_failure(exc, args.json, sys.stdout)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into `head`: nothing left to say
        sys.stderr.close()
        return EXIT_FAILED
    except Exception as exc:  # a bug: report where, never the message (it could quote a secret)
        import traceback

        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        print(f"internal error: {type(exc).__name__} at {where}; please report it", file=sys.stderr)
        return EXIT_FAILED
