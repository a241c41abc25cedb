"""The ``pypi-trusted-publisher`` command: one module per subcommand, and :mod:`.common` for what they share.

Start-up is measured: only argparse and the small input modules load before a
command runs; the HTTP stack is imported when a network call is certain.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TextIO

from .. import __version__
from ..core.errors import Stopped, Terminated, UsageError
from . import add, check, claim, listing, login, passkey, plan, remove
from .common import EXIT_FAILED, Parser, usage_failure

SUBCOMMANDS = (add, check, listing, remove, claim, passkey, plan, login)


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
    for module in SUBCOMMANDS:
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:  # argparse may fail before it has read --json: look for it
        return usage_failure(exc, "--json" in argv, sys.stdout)
    try:
        from ..core.validation import TIMEOUT_LIMITS, number_in_range

        if hasattr(args, "timeout"):  # every command that reaches the network
            args.timeout = number_in_range("--timeout", args.timeout, *TIMEOUT_LIMITS, field="timeout")
    except UsageError as exc:
        return usage_failure(exc, args.json, sys.stdout)
    run: Callable[[argparse.Namespace, TextIO], int] = args.run
    previous = _on_sigterm()
    try:
        return run(args, sys.stdout)
    except Stopped as exc:  # an interruption the command reported itself, with how to go on
        return exc.exit_code
    except UsageError as exc:  # found after the command's own checks, still before any network call
        return usage_failure(exc, args.json, sys.stdout)
    except KeyboardInterrupt as exc:
        print("terminated" if isinstance(exc, Terminated) else "interrupted", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except BrokenPipeError:  # e.g. piped into `head`: nothing left to say
        sys.stderr.close()
        return EXIT_FAILED
    except Exception as exc:  # a bug: report where, never the message (it could quote a secret)
        import traceback

        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        print(f"internal error: {type(exc).__name__} at {where}; please report it", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _on_sigterm() -> signal.Handlers | Callable[[int, FrameType | None], object] | int | None:
    """SIGTERM raises Terminated where the command is, as Ctrl-C raises KeyboardInterrupt: progress is saved and a new
    security key removed on both. Returns the handler it replaced (None off the main thread, where Python has none)."""

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise Terminated

    try:
        return signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread (in-process tests): leave signals alone
        return None
