"""The project's own account of the protocol is where the code says it is.

Comments point to ``docs/protocol/<file>.md#<anchor>``; a renamed file or a dropped anchor would
leave them pointing nowhere, and a pointer to notes outside the repository is no pointer at all.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = ROOT / "docs" / "protocol"
POINTER = re.compile(r"docs/protocol/([\w-]+\.md)(?:#([\w-]+))?")
ANCHOR = re.compile(r'<a id="([\w-]+)"></a>')
LINK = re.compile(r"\]\(([\w-]+\.md)?(?:#([\w-]+))?\)")
OUTSIDE = re.compile(r"contract §|warehouse-contract|§\d")


def sources() -> list[Path]:
    files = [p for folder in ("src", "tests", "benchmarks") for p in (ROOT / folder).rglob("*.py")]
    files += [ROOT / name for name in ("README.md", "ARCHITECTURE.md", "CONTRIBUTING.md", "action.yml")]
    return [p for p in files if p.is_file()]


@functools.cache
def anchors(doc: Path) -> set[str]:
    return set(ANCHOR.findall(doc.read_text(encoding="utf-8")))


def test_every_pointer_in_the_code_reaches_a_doc_and_its_anchor() -> None:
    missing, seen = [], 0
    for path in sources():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name, anchor in POINTER.findall(line):
                seen += 1
                doc = PROTOCOL / name
                if not doc.is_file() or (anchor and anchor not in anchors(doc)):
                    missing.append(f"{path.relative_to(ROOT)}:{number}: docs/protocol/{name}#{anchor}")
    assert not missing, "\n".join(missing)
    assert seen > 50  # the pattern still matches how comments cite the docs


def test_no_comment_points_outside_the_repository() -> None:
    outside = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources()
        if path.name != "test_docs.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not outside, "\n".join(outside)


@pytest.mark.parametrize("doc", sorted(PROTOCOL.glob("*.md")), ids=lambda p: p.name)
def test_links_between_the_protocol_pages_resolve(doc: Path) -> None:
    broken = []
    for name, anchor in LINK.findall(doc.read_text(encoding="utf-8")):
        target = PROTOCOL / name if name else doc
        if not target.is_file() or (anchor and anchor not in anchors(target)):
            broken.append(f"{name or doc.name}#{anchor}")
    assert not broken, f"{doc.name}: " + ", ".join(broken)


def test_the_protocol_pages_say_which_warehouse_they_were_checked_against() -> None:
    readme = (PROTOCOL / "README.md").read_text(encoding="utf-8")
    assert {"version", "recheck", "recordings", "recording"} <= anchors(PROTOCOL / "README.md")
    assert re.search(r"Warehouse commit \*\*`[0-9a-f]{40}`\*\*", readme)
