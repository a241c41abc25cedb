"""The user guides: generated parts fresh, every failure reason explained, every link landing, a short README.

docs/generate.py writes the Action's inputs/outputs tables (from action.yml) and the CLI reference (from the argparse
parsers) into docs/action.md and docs/cli.md; a stale region fails here with the command that refreshes it.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "pypi_trusted_publisher"
GUIDES = [ROOT / "README.md", ROOT / "ARCHITECTURE.md", ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md",
          ROOT / "examples" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]  # fmt: skip
LINK = re.compile(r"\]\((?!https?:|mailto:)([^)\s#]*)(?:#([^)\s]+))?\)")
ANCHOR = re.compile(r'<a id="([\w-]+)"></a>')
# Reasons that are not a constant handed to RegistrationFailed / PasskeyRefused / Rule or a reason= keyword:
# the action's own, and the error codes PyPI's token exchange answers with, which claim reports as they are.
OTHER_REASONS = {
    "invalid-input", "install-failed", "check-failed", "no-credentials", "api-not-served", "link-only",
    "invalid-publisher", "invalid-pending-publisher", "invalid-token", "invalid-reuse-token", "not-enabled",
    "invalid-payload", "mint-refused", "audience-failed", "id-token-failed",
}  # fmt: skip


def generator():
    spec = importlib.util.spec_from_file_location("generate_docs", ROOT / "docs" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_reference_is_fresh() -> None:
    docs = generator()
    assert docs.stale() == [], "stale generated docs: run python docs/generate.py"
    text = (ROOT / "docs" / "action.md").read_text(encoding="utf-8") + (ROOT / "docs" / "cli.md").read_text("utf-8")
    assert text.count("<!-- generated: ") == 3
    assert "| `remove-passkey` | `false` |" in text and "### `pypi-trusted-publisher passkey add`" in text
    assert "`--id-token-variable NAME`" in text


def test_a_changed_source_makes_the_region_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = generator()
    monkeypatch.setitem(docs.GENERATORS, "action-outputs", lambda: "| Output | Description |\n")
    assert docs.stale() == ["docs/action.md: action-outputs"]


def emitted_reasons() -> set[str]:
    found: set[str] = set()
    positions = {"RegistrationFailed": 0, "PasskeyRefused": 0, "Rule": 2}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            at = positions.get(name or "")
            if at is not None and len(node.args) > at and isinstance(node.args[at], ast.Constant):
                found.add(node.args[at].value)
            found |= {k.value.value for k in node.keywords if k.arg == "reason" and isinstance(k.value, ast.Constant)
                      and isinstance(k.value.value, str)}  # fmt: skip
    return found


def test_troubleshooting_explains_every_reason() -> None:
    reasons = emitted_reasons() | OTHER_REASONS
    assert len(reasons) > 60  # the scan still finds how reasons are raised
    text = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    rows = {code for line in text.splitlines() if line.startswith("| `") for code in
            re.findall(r"`([a-z0-9-]+)`", line.split("|")[1])}  # fmt: skip
    assert sorted(reasons - rows) == []


def slug(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    text = doc.read_text(encoding="utf-8")
    fenced = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    headings = {slug(m) for m in re.findall(r"^#{1,6} (.+)$", fenced, flags=re.MULTILINE)}
    return headings | set(ANCHOR.findall(text))


@pytest.mark.parametrize("doc", GUIDES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_lands(doc: Path) -> None:
    broken = []
    text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.DOTALL)
    for target, anchor in LINK.findall(text):
        path = (doc.parent / target).resolve() if target else doc
        if not path.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}#{anchor} (no such anchor)")
    assert not broken, f"{doc.relative_to(ROOT)}: " + ", ".join(broken)


def test_the_readme_is_a_front_door() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    assert "python -m pip install -e '.[test]' && python -m pytest" in text  # the command .ci/run relies on
    first_yaml = text.split("```yaml", 1)[1].split("```", 1)[0]
    assert "mode: claim" in first_yaml and "workflow_dispatch" in first_yaml  # the first example is the bootstrap
