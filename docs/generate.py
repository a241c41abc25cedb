"""Regenerate the reference parts of the guides from their sources, so they cannot drift.

    python docs/generate.py          # rewrite the generated regions in place
    python docs/generate.py --check  # exit 1 and name the stale regions (tests/test_docs_generated.py does this)

docs/action.md: the inputs and outputs tables, from action.yml. docs/cli.md: every subcommand's options, from the
argparse parsers (``pypi_trusted_publisher.commands.build_parser``). A region sits between
``<!-- generated: NAME -->`` and ``<!-- end generated -->``; everything else in those files is written by hand.
Only argparse's data is read (option strings, metavars, defaults, help), never its formatted usage, which differs
between Python versions.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

REGION = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.DOTALL)


def cell(text: str) -> str:
    """One Markdown table cell: a single line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def action() -> dict[str, Any]:
    import yaml

    loaded: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return loaded


def action_inputs() -> str:
    rows = ["| Input | Default | Description |", "|---|---|---|"]
    for name, spec in action()["inputs"].items():
        default = str(spec.get("default", ""))
        shown = f"`{cell(default)}`" if default and "${{" not in default else (cell(default) or "—")
        rows.append(f"| `{name}` | {shown} | {cell(spec['description'])} |")
    return "\n".join(rows) + "\n"


def action_outputs() -> str:
    rows = ["| Output | Description |", "|---|---|"]
    for name, spec in action()["outputs"].items():
        rows.append(f"| `{name}` | {cell(spec['description'])} |")
    return "\n".join(rows) + "\n"


def subcommands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[
    tuple[tuple[str, ...], str, argparse.ArgumentParser]
]:  # fmt: skip
    """Every subcommand, depth first: its words, its one-line help, its parser."""
    for act in parser._actions:
        if isinstance(act, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in act._choices_actions}
            for name, sub in act.choices.items():
                yield (*prefix, name), helps.get(name, ""), sub
                yield from subcommands(sub, (*prefix, name))


def option(act: argparse.Action) -> str:
    if not act.option_strings:
        return f"`{act.metavar or act.dest}`"
    takes_value = act.nargs != 0
    metavar = act.metavar or (act.dest.upper() if takes_value else "")
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    return ", ".join(f"`{flag} {metavar}`" if metavar else f"`{flag}`" for flag in act.option_strings)


def described(act: argparse.Action) -> str:
    text = act.help or ""
    if "%(" in text:
        text = text % {**vars(act), "default": act.default}
    if act.choices is not None and not isinstance(act, argparse._SubParsersAction):
        text += f" (one of: {', '.join(map(str, act.choices))})"
    if isinstance(act, argparse._AppendAction):
        text += " Repeatable."
    return cell(text)


def cli_reference() -> str:
    from pypi_trusted_publisher.commands import build_parser

    out: list[str] = []
    for words, summary, parser in subcommands(build_parser()):
        own = [a for a in parser._actions if a.help != argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)
               and not isinstance(a, argparse._SubParsersAction)]  # fmt: skip
        said = cell(summary)
        out += [f"### `pypi-trusted-publisher {' '.join(words)}`", "", f"{said[:1].upper()}{said[1:]}.", ""]
        if own:
            out += ["| Option | Description |", "|---|---|"]
            out += [f"| {option(a)} | {described(a)} |" for a in own]
            out.append("")
    return "\n".join(out)


GENERATORS: dict[str, Callable[[], str]] = {
    "action-inputs": action_inputs,
    "action-outputs": action_outputs,
    "cli-reference": cli_reference,
}
FILES = (ROOT / "docs" / "action.md", ROOT / "docs" / "cli.md")


def regenerate(text: str) -> str:
    def fill(found: re.Match[str]) -> str:
        return f"{found[1]}{GENERATORS[found['name']]()}{found[4]}"

    return REGION.sub(fill, text)


def stale() -> list[str]:
    """The regions whose text differs from what their source gives now, as ``file: region``."""
    names = []
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        for found in REGION.finditer(text):
            if found["body"] != GENERATORS[found["name"]]():
                names.append(f"{path.relative_to(ROOT)}: {found['name']}")
    return names


def main(argv: list[str]) -> int:
    if argv[1:] == ["--check"]:
        names = stale()
        for name in names:
            print(f"stale: {name} (run: python docs/generate.py)")
        return 1 if names else 0
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        path.write_text(regenerate(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
