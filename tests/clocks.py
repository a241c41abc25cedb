"""Clocks that only sleeping moves: one for a test and the fake Warehouse in-process
(:class:`Clock`), one shared with CLI subprocesses through a file (:class:`FileClock`).

A wait costs nothing and every run is reproducible. The fractional start of
:class:`FileClock` keeps the "same second" rule (docs/protocol/login.md#same-second) in play: logins
made at the same instant fall in the same second.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

# 10.25 s into a TOTP step: a reused code waits 20.75 s for the next step, never 0.
START_IN_STEP = 10.25


class Clock:
    """In memory; ``slept`` records the pauses."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class FileClock:
    """Seconds since the epoch, stored as text in ``path`` for every process; callable like ``time.time``."""

    def __init__(self, path: Path, start: float | None = None) -> None:
        self.path = Path(path)
        if start is not None or not self.path.exists():
            if start is None:
                start = time.time() // 30 * 30 + START_IN_STEP
            self._write(start)

    def __call__(self) -> float:
        return float(self.path.read_text(encoding="ascii"))

    def sleep(self, seconds: float) -> None:
        """Move the clock on instead of waiting (negative or zero: no change)."""
        if seconds > 0:
            self._write(self() + seconds)

    advance = sleep

    def _write(self, now: float) -> None:
        # Replace, never rewrite in place: a reader in another process sees the old or the new time.
        spare = self.path.with_name(f"{self.path.name}.{os.getpid()}")
        spare.write_text(repr(now), encoding="ascii")
        spare.replace(self.path)
