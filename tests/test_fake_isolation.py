"""The fake Warehouse is an oracle of its own: nothing under tests/fake_warehouse/ imports the client.

If the fake borrowed the client's publisher classes, a change in the client would change what
the tests check it against. Two guards: the source, read with ``ast`` (every ``import`` and
``from … import``, and ``import_module``/``__import__`` calls with a literal name), and a
subprocess that imports the fake, serves a page with a publisher row, and reports which
modules got loaded, with the client package made unimportable.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAKE = ROOT / "tests" / "fake_warehouse"
CLIENT = "pypi_trusted_publisher"


def client_imports(source: str, label: str) -> list[str]:
    """``label:line: statement`` for each import of the client package in one source file."""
    found = []
    for node in ast.walk(ast.parse(source, filename=label)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        if any(name.split(".")[0] == CLIENT for name in names):
            found.append(f"{label}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_the_checker_sees_every_import_form() -> None:
    sample = (
        "import os\nimport pypi_trusted_publisher.publishers as p\nfrom pypi_trusted_publisher import cli\n"
        "from . import templates\nimport importlib\nimportlib.import_module('pypi_trusted_publisher.web')\n"
        "def later():\n    import pypi_trusted_publisher\n"
    )
    assert client_imports(sample, "sample.py") == [
        "sample.py:2: import pypi_trusted_publisher.publishers as p",
        "sample.py:3: from pypi_trusted_publisher import cli",
        "sample.py:6: importlib.import_module('pypi_trusted_publisher.web')",
        "sample.py:8: import pypi_trusted_publisher",
    ]


def test_no_file_of_the_fake_imports_the_client() -> None:
    files = sorted(FAKE.rglob("*.py"))
    assert len(files) >= 4  # __init__, __main__, server, templates at least
    found = [
        line
        for path in files
        for line in client_imports(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert not found, "\n".join(found)


# Runs in a fresh interpreter: the client package cannot be imported there at all; the fake
# stores a publisher of each kind, renders their listing rows, serves a page, and the loaded
# module names are printed.
SCRIPT = """
import importlib.abc, json, sys, urllib.request

class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pypi_trusted_publisher":
            raise ImportError("the fake must not import " + name)
        return None

sys.meta_path.insert(0, Blocked())
sys.path.insert(0, "tests")
import fake_warehouse, fake_warehouse.__main__
from fake_warehouse import FakePublisher, FakeWarehouse, templates

with FakeWarehouse() as wh:
    wh.add_default_user()
    wh.add_project("demo", owners=["dana"])
    wh.github_owners = {"octo-org": 1001}
    wh.add_publisher("demo", FakePublisher.github("octo-org", "demo", "release.yml", "pypi"))
    wh.add_publisher("demo", FakePublisher.gitlab("grp", "demo", ".gitlab-ci.yml"))
    wh.add_publisher("demo", FakePublisher.google("ci@demo.iam.gserviceaccount.com"))
    pending = wh.add_pending_publisher("new", FakePublisher.activestate("org", "new", "actor"), added_by="dana")
    records = [*wh.projects["demo"].publishers, pending]
    rows = [templates.publisher_row(templates.RowView(r.id, r.publisher, "/x"), "csrf") for r in records]
    assert all(r.id in row for r, row in zip(records, rows)) and "ci@demo.iam.gserviceaccount.com" in rows[2]
    with urllib.request.urlopen(wh.url + "/simple/demo/") as response:
        status = response.status
print(json.dumps({"status": status, "errors": wh.errors,
                  "loaded": sorted(m for m in sys.modules if m.split(".")[0] == "pypi_trusted_publisher")}))
"""


def test_the_fake_runs_without_the_client_package() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report == {"status": 200, "errors": [], "loaded": []}


def test_the_standalone_fake_still_starts() -> None:
    proc = subprocess.run([sys.executable, "-m", "tests.fake_warehouse", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: python -m tests.fake_warehouse")
