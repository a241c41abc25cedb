"""The one writer of what the GitHub runner reads: workflow commands on stdout, step outputs, the job summary.

Every path is explicit (taken from the step's environment once, by :meth:`Runner.from_env`), so an in-process run
with its own environment never touches ``os.environ``. Standard library only: the install-failure report uses it
before (or without) the action's pinned dependencies.

Masks are written ``::add-mask::value``, the canonical form: GitHub's runner also accepts ``::add-mask ::value``,
but act does not, and under act such a value would be printed as it is. Whatever stderr buffered goes out before a
mask, so no earlier line can follow it with the secret.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO


def escape_data(text: str) -> str:
    """A command's message as the runner unescapes it (``%`` first, so it is decoded once)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str) -> str:
    """``::name key=value,…::message``, or ``::name::message`` without properties."""
    options = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items() if value)
    return f"::{name} {options}::{escape_data(message)}" if options else f"::{name}::{escape_data(message)}"


def annotation(severity: str, message: str, *, title: str = "", file: str = "", line: int | None = None) -> str:
    """``::error file=…,line=…,title=…::message``: a line number only with a file."""
    where = {"file": file, "line": str(line) if file and line is not None else ""}
    return command(severity, message, **where, title=title)


@dataclass
class Runner:
    """One step's channels to the runner. ``out`` None: whatever ``sys.stdout`` is when a line is written."""

    output_path: str = ""
    summary_path: str = ""
    out: TextIO | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Runner:
        return cls(env.get("GITHUB_OUTPUT", ""), env.get("GITHUB_STEP_SUMMARY", ""))

    def echo(self, text: str) -> None:
        print(text, file=self.out or sys.stdout, flush=True)

    def mask(self, value: str) -> None:
        """Mask ``value`` in the log from this line on."""
        sys.stderr.flush()
        self.echo(command("add-mask", value))

    def annotate(
        self, severity: str, message: str, *, title: str = "", file: str = "", line: int | None = None
    ) -> None:
        """An ``error``, ``warning`` or ``notice`` on the run page."""
        self.echo(annotation(severity, message, title=title, file=file, line=line))

    def error(self, message: str, *, title: str = "") -> None:
        self.annotate("error", message, title=title)

    def warning(self, message: str, *, title: str = "") -> None:
        self.annotate("warning", message, title=title)

    def notice(self, message: str, *, title: str = "") -> None:
        self.annotate("notice", message, title=title)

    @contextmanager
    def no_commands(self) -> Iterator[None]:
        """Text that is data (the index's messages) can never act as a workflow command inside this block."""
        token = uuid.uuid4().hex
        self.echo(f"::stop-commands::{token}")
        try:
            yield
        finally:
            self.echo(f"::{token}::")

    def set_outputs(self, values: Mapping[str, str]) -> None:
        """Step outputs in the runner's ``name<<delimiter`` form, safe for any value; none outside a runner."""
        if not self.output_path:
            return
        with open(self.output_path, "a", encoding="utf-8") as file:
            for name, value in values.items():
                delimiter = f"ghadelimiter_{uuid.uuid4()}"
                file.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")

    def append_summary(self, markdown: str) -> None:
        if not self.summary_path:
            return
        with open(self.summary_path, "a", encoding="utf-8") as file:
            file.write(markdown if markdown.endswith("\n") else markdown + "\n")
