"""The linters CI relies on, run as tests so the README's one test command covers them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


def test_ruff_is_clean():
    proc = subprocess.run([tool("ruff"), "check", "src", "tests", "benchmarks", "docs"], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_is_clean():
    files = ["action.yml", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples").glob("*.yml")),
             *sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "workflows").glob("*.yml"))]
    proc = subprocess.run([tool("zizmor"), "--offline", "--no-progress", *files], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_is_clean():
    """``[tool.mypy]`` in pyproject.toml: strict, over src/; zero errors."""
    proc = subprocess.run([tool("mypy"), "--no-error-summary"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dependabot_keeps_every_pin_fresh():
    """The hash-pinned wheels, the project's ranges and the SHA-pinned actions each have an update entry, and the
    pip entry points at the folder the action installs from."""
    import yaml

    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    entries = {(u["package-ecosystem"], u["directory"]) for u in config["updates"]}
    assert config["version"] == 2
    assert entries == {("pip", "/requirements"), ("pip", "/"), ("github-actions", "/")}
    assert (ROOT / "requirements" / "action.txt").is_file()
    audit = yaml.safe_load((ROOT / ".github" / "workflows" / "audit.yml").read_text(encoding="utf-8"))
    run = " ".join(step.get("run", "") for step in audit["jobs"]["pip-audit"]["steps"])
    assert "--requirement requirements/action.txt --require-hashes --disable-pip" in run
    assert "schedule" in audit[True]  # PyYAML reads the key `on` as True
