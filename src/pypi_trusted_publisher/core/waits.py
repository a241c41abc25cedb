"""Pauses a user should hear about, and the ways of showing them.

The library never prints. Where it must pause (for the next TOTP step, or for a
new second before logging in again) it hands a :class:`Wait` and its ``sleep``
to a waiter, which says what is awaited and for how long, then sleeps: the CLI
counts down on stderr in a terminal or writes one line, the action writes one
line to its log. Waiters sleep with the sleep they are given, so a test that
injects a sleep never waits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Wait:
    seconds: float
    what: str  # what the pause waits for: "the next two-factor code"
    why: str  # one sentence: why there is no way around it

    @property
    def message(self) -> str:
        return f"{self.why} Waiting {math.ceil(self.seconds)} s for {self.what}."


Waiter = Callable[[Wait, Sleep], None]


def quietly(wait: Wait, sleep: Sleep) -> None:
    """The library's default: pause, say nothing."""
    sleep(wait.seconds)


def one_line(write: Callable[[str], None]) -> Waiter:
    """Say it once, then pause: for logs and pipes."""

    def waiter(wait: Wait, sleep: Sleep) -> None:
        write(wait.message)
        sleep(wait.seconds)

    return waiter


def countdown(stream: TextIO) -> Waiter:
    """Say why once, then rewrite one short line every second until the pause is over."""

    def waiter(wait: Wait, sleep: Sleep) -> None:
        stream.write(f"{wait.why}\n")
        left = wait.seconds
        while left > 1e-6:  # float steps may leave dust
            shown = math.ceil(left)
            stream.write(f"\rWaiting for {wait.what}: {shown} s\x1b[K")  # short: a wrapped line cannot be rewritten
            stream.flush()
            step = left - (shown - 1)  # the fraction first, then whole seconds
            sleep(step)
            left -= step
        stream.write(f"\rWaited {math.ceil(wait.seconds)} s for {wait.what}.\x1b[K\n")
        stream.flush()

    return waiter
