"""Workflow commands and runner files in their canonical form, with the standard library only.

github-action-utils writes ``::add-mask ::value`` (a space before the second
``::``): GitHub's runner accepts it, act does not, so under act nothing was
masked. Masks are written here as ``::add-mask::value``. Having no dependency,
this module also serves the install-failure report, which runs before (or
without) the action's pinned dependencies.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Mapping


def escape_data(text: str) -> str:
    """A command's message as the runner unescapes it (``%`` first, so it is decoded once)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str) -> str:
    """``::name key=value,…::message``, or ``::name::message`` without properties."""
    options = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name} {options}::{escape_data(message)}" if options else f"::{name}::{escape_data(message)}"


def add_mask(value: str) -> None:
    """Mask ``value`` in the log from this line on; whatever was buffered goes out first."""
    sys.stderr.flush()
    print(command("add-mask", value), flush=True)


def append_outputs(path: str, values: Mapping[str, str]) -> None:
    """Step outputs in the runner's ``name<<delimiter`` form, safe for any value."""
    with open(path, "a", encoding="utf-8") as file:
        for name, value in values.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            file.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def append_summary(path: str, markdown: str) -> None:
    with open(path, "a", encoding="utf-8") as file:
        file.write(markdown if markdown.endswith("\n") else markdown + "\n")
