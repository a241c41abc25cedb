"""The ``pypi-trusted-publisher`` command.

Start-up is measured: only argparse and the small input modules load before a
command runs; the HTTP stack is imported when a network call is certain.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from . import __version__
from .errors import UsageError
from .models import Credentials, Result, Target
from .secret import Secret

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _add_publisher_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("where")
    where.add_argument("--index", default="pypi", help="pypi (default), testpypi, or an https:// URL")
    where.add_argument("--project", help="project name (default: [project].name in pyproject.toml)")
    target = where.add_mutually_exclusive_group()
    target.add_argument(
        "--pending", dest="target", action="store_const", const=Target.PENDING,
        help="register a pending publisher for a project that does not exist yet",
    )
    target.add_argument(
        "--existing", dest="target", action="store_const", const=Target.PROJECT,
        help="register on an existing project (you must be an Owner)",
    )
    where.add_argument(
        "--organization", default="",
        help="PyPI organization that will own the new project (pending publisher on its page)",
    )
    kind = parser.add_argument_group("publisher")
    kind.add_argument(
        "--provider", default="github", choices=("github", "gitlab", "google", "activestate"),
        help="kind of trusted publisher (default: github)",
    )
    kind.add_argument("--owner", help="GitHub owner (default: from GITHUB_REPOSITORY or git remote)")
    kind.add_argument("--repo", "--repository", dest="repository", help="GitHub repository name")
    kind.add_argument("--workflow", help="workflow filename under .github/workflows/")
    kind.add_argument(
        "--environment", help="GitHub/GitLab environment (default: pypi, or testpypi on TestPyPI; '' for any)"
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pypi-trusted-publisher",
        description="Register a PyPI Trusted Publisher in one step.",
        epilog="Credentials come from PYPI_USERNAME, PYPI_PASSWORD, PYPI_TOTP_SECRET and PYPI_API_TOKEN; "
        "in a terminal, missing ones are prompted for.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = commands.add_parser("add", help="register a trusted publisher")
    _add_publisher_arguments(add)
    access = add.add_argument_group("access")
    access.add_argument("--username", help="PyPI username (default: PYPI_USERNAME)")
    access.add_argument("--totp-code", help="a one-time 6-digit code instead of PYPI_TOTP_SECRET")
    access.add_argument(
        "--method", default="auto", choices=("auto", "api", "web", "link"),
        help="transport: token API, web login, or only print the manual link (default: auto)",
    )
    access.add_argument("--timeout", type=float, default=15.0, help="seconds per request (default: 15)")
    out = add.add_argument_group("output")
    out.add_argument("--dry-run", action="store_true", help="show what would be registered; no network")
    out.add_argument("--json", action="store_true", help="print exactly one JSON line")
    return parser


def _options(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .inputs import Options

    return Options(
        provider=args.provider,
        index=args.index,
        project=args.project,
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


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def credentials_from(args: argparse.Namespace, env: dict[str, str], interactive: bool) -> Credentials:
    """Credentials from flags and the environment; prompt in a terminal for what is missing."""
    username = args.username or env.get("PYPI_USERNAME", "")
    password = env.get("PYPI_PASSWORD", "")
    api_token = env.get("PYPI_API_TOKEN", "")
    if interactive and args.method in ("auto", "web") and not (api_token and args.method == "auto"):
        if not username:
            username = input("PyPI username: ").strip()
        if not password:
            password = getpass.getpass("PyPI password (hidden): ")
    return Credentials(
        username=username,
        password=Secret(password),
        totp_secret=Secret(env.get("PYPI_TOTP_SECRET", "").strip()),
        totp_code=Secret((args.totp_code or "").strip()),
        api_token=Secret(api_token),
    )


def _usage_failure(exc: UsageError, as_json: bool, out: TextIO) -> int:
    if as_json:
        payload = {"status": "failed", "reason": "invalid-input", "field": exc.field or None,
                   "message": exc.message}
        print(json.dumps(payload, separators=(",", ":")), file=out)
    print(f"error: {exc.message}", file=sys.stderr)
    return EXIT_USAGE


def run_add(args: argparse.Namespace, out: TextIO) -> int:
    from .inputs import resolve
    from .render import defaults, json_line, text

    env = dict(os.environ)
    try:
        resolved = resolve(_options(args))
    except UsageError as exc:
        return _usage_failure(exc, args.json, out)
    if resolved.defaults:
        print("Defaults:\n" + defaults(resolved.defaults), file=sys.stderr)
    for warning in resolved.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    registration = resolved.registration
    if args.timeout <= 0:
        return _usage_failure(UsageError("--timeout must be a positive number of seconds"), args.json, out)
    result: Result
    if args.dry_run:
        from .engine import plan

        result = plan(registration)
    else:
        from .confirm import NoConfirmation, TerminalConfirmation
        from .engine import register

        interactive = _interactive()
        credentials = credentials_from(args, env, interactive)
        prompt = (lambda: getpass.getpass("Two-factor code (hidden): ").strip()) if interactive else None
        result = register(
            registration,
            credentials,
            confirmer=TerminalConfirmation() if interactive else NoConfirmation(),
            timeout=args.timeout,
            method=args.method,
            totp_prompt=prompt,
        )
    print(json_line(result) if args.json else text(result), file=out)
    return result.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = sys.stdout
    try:
        if args.command == "add":
            return run_add(args, out)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command!r}")
    return EXIT_USAGE
