"""Run the CLI on a test's shared clock: ``python tests/clocked_cli.py CLOCK_FILE ARGS...``.

Test-only. The engine takes its clock and sleep as arguments; this launcher makes
the :class:`~file_clock.FileClock` in ``CLOCK_FILE`` their default and then calls
the CLI's ``main``, so a TOTP step wait or a retry pause moves the clock that the
fake Warehouse reads instead of taking time. The installed console script has
no such hook, and no environment variable or option of the real CLI changes time.
"""

from __future__ import annotations

import functools
import sys
import time
from dataclasses import replace
from pathlib import Path

from clocks import FileClock
from pypi_trusted_publisher import commands as cli
from pypi_trusted_publisher.core.indexes import Index
from pypi_trusted_publisher.credentials.values import Credentials
from pypi_trusted_publisher.engine import engine
from pypi_trusted_publisher.engine.options import EngineOptions
from pypi_trusted_publisher.plan import resume


def clocked(clock: FileClock) -> type[engine.Engine]:
    """The Engine class with ``clock`` and its sleep in place of the wall clock (a caller's own still win)."""

    class ClockedEngine(engine.Engine):
        def __init__(self, index: Index, credentials: Credentials, options: EngineOptions | None = None) -> None:
            options = options or EngineOptions()
            if options.clock is time.time:
                options = replace(options, clock=clock, sleep=clock.sleep)
            super().__init__(index, credentials, options)

    return ClockedEngine


def main(argv: list[str]) -> int:
    clock = FileClock(Path(argv[0]))
    engine.Engine = clocked(clock)  # type: ignore[misc]
    # add --resume compares PyPI's Retry-After with its own clock: the same one.
    resume.run_resumable = functools.partial(resume.run_resumable, clock=clock)  # type: ignore[assignment]
    return cli.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
