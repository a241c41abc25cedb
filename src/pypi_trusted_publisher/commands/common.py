"""What every subcommand shares: the parser, its shared options read into typed values, the terminal, failures.

This is the edge: a subcommand's ``run`` reads its ``argparse.Namespace`` here and below it, and hands typed
values (:class:`Access`, :class:`~..inputs.options.Options`, :class:`~..engine.options.EngineOptions`) to the layers
underneath, which never see a Namespace.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn, TextIO, TypeAlias

from ..core.errors import RegistrationFailed, UsageError
from ..core.models import Place, Registration, Target
from ..core.secret import Secret
from ..credentials.values import Credentials
from ..inputs.options import Options

if TYPE_CHECKING:
    from ..core.indexes import Index
    from ..engine.options import EngineOptions
    from ..transports.web.confirm import ConfirmationRequest

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
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


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


def add_publisher_arguments(parser: argparse.ArgumentParser, command: str) -> None:
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


def add_access_arguments(parser: argparse.ArgumentParser, *, methods: bool = False) -> None:
    """``--username``, ``--totp-code``, ``-v``, ``--timeout`` and ``--json`` (and ``--method`` for ``add``)."""
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


def add_index_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", default="pypi", help="pypi (default), testpypi, or an https:// URL")


@dataclass(frozen=True)
class Access:
    """The shared login options of a networked command, typed (``--timeout`` is checked by ``main`` first)."""

    username: str = ""
    totp_code: Secret = field(default_factory=lambda: Secret(""))
    verbose: bool = False
    timeout: float = 15.0
    as_json: bool = False
    method: str = ""  # ``add``'s --method; "" for the commands without it (the engine's auto, a web login)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Access:
        return cls(
            username=args.username or "",
            totp_code=Secret(args.totp_code or ""),
            verbose=args.verbose,
            timeout=args.timeout,
            as_json=args.json,
            method=getattr(args, "method", ""),
        )


def publisher_options(args: argparse.Namespace) -> list[Options]:
    """One Options per (index, project, config entry) of ``add``, ``check`` or ``remove``: the batch asked for."""
    from ..inputs.config_file import load_config

    indexes = args.index or ["pypi"]
    projects = args.project or [None]
    if getattr(args, "config", None):
        return [opts for index in indexes for opts in load_config(args.config, _options(args, index, None))]
    return [_options(args, index, project) for index in indexes for project in projects]


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


def resolve_all(options: list[Options]) -> tuple[list[Registration], list[str]]:
    """The validated registrations, and the notes to print first (the Defaults blocks, warnings)."""
    from ..inputs.options import resolve
    from ..render.results import defaults_blocks

    batch = [resolve(item) for item in options]
    notes = [*defaults_blocks(batch), *(f"warning: {w}" for resolved in batch for w in resolved.warnings)]
    return [resolved.registration for resolved in batch], list(dict.fromkeys(notes))


def interactive() -> bool:
    """Prompts only where a person can answer them, and see them."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def say(line: str) -> None:
    """Anything that is not a result goes to stderr, never stdout (it may carry --json)."""
    print(line, file=sys.stderr)


def credentials_for(access: Access, index: Index) -> Credentials:
    """The credentials for ``index`` (options, environment, keyring, ~/.pypirc, prompts); ``-v`` says from where."""
    from ..credentials.sources import describe, gather

    credentials = gather(
        index,
        dict(os.environ),
        username=access.username,
        totp_code=access.totp_code.reveal(),
        method=access.method or "web",
        interactive=interactive(),
        warn=say,
    )
    if access.verbose:
        say(describe(credentials, index))
    return credentials


class TerminalConfirmation:
    """Ask the maintainer to paste the e-mailed link; input is not echoed."""

    def __init__(self) -> None:
        from ..transports.web.confirm import TERMINAL_ADVICE

        self.advice = TERMINAL_ADVICE

    def confirm_link(self, request: ConfirmationRequest) -> Secret | None:
        print(
            f"\nPyPI does not recognise this IP address for {request.username!r} and sent an e-mail\n"
            f"titled {request.email_subject!r} (after the site's name in brackets).\n"
            "Paste the confirmation link from it here\n"
            "(input is hidden; press Enter on an empty line to give up):",
            file=sys.stderr,
            flush=True,
        )
        value = getpass.getpass("Confirmation link: ").strip()
        return Secret(value) if value else None


def engine_options(access: Access) -> EngineOptions:
    """The engine as a terminal (or a pipe) wants it: prompts and the pasted link only in a terminal."""
    from ..core.waits import countdown, one_line
    from ..engine.options import EngineOptions
    from ..transports.web.confirm import NoConfirmation

    asks = interactive()
    prompt = (lambda: getpass.getpass("Two-factor code (hidden): ").strip()) if asks else None
    # Pauses go to stderr: a countdown in a terminal, else one line.
    waiter = countdown(sys.stderr) if sys.stderr.isatty() else one_line(say)
    return EngineOptions(
        method=access.method or "auto",
        timeout=access.timeout,
        confirmer=TerminalConfirmation() if asks else NoConfirmation(),
        totp_prompt=prompt,
        waiter=waiter,
    )


def usage_failure(exc: UsageError, as_json: bool, out: TextIO) -> int:
    if as_json:
        from ..render.results import failure_line

        print(failure_line("invalid-input", exc.message, field=exc.field), file=out)
    say(f"error: {exc.message}")
    return EXIT_USAGE


def remote_failure(exc: RegistrationFailed, as_json: bool, out: TextIO, place: Place | None = None) -> int:
    if as_json:
        from ..render.results import failure_line

        print(failure_line(exc.reason, exc.message, place=place, retry_after=exc.retry_after), file=out)
    say(f"error: {exc.message}")
    return EXIT_FAILED


def confirmed(question: str) -> bool:
    """A y/N question on the terminal."""
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
