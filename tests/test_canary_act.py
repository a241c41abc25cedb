"""The canary workflow (.github/workflows/canary.yml) run by act against the fake Warehouse.

Green: it registers a pending publisher for a throwaway name with a security key, lists it, removes it, and opens
no issue. Broken: the fake's account publishing page lacks a field, so the tool stops with page-changed and the
report job opens the "PyPI changed" issue with that reason (``gh`` is a fake on PATH that records what it is asked).
Without secrets the canary skips with a notice. See CONTRIBUTING.md#the-canary.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser

from act_workflow import ROOT, act_command, unavailable
from passkeys import seed_key

pytestmark = [pytest.mark.act, pytest.mark.slow]

PASSWORD = "fake-warehouse-password"
FAKE_GH = """#!/bin/sh
echo "gh $*" >> "$FAKE_GH_LOG"
while [ $# -gt 0 ]; do
  if [ "$1" = "--body-file" ]; then cat "$2" >> "$FAKE_GH_LOG"; fi
  shift
done
"""


def run_canary(tmp_path: Path, warehouse: Any, *, secrets: bool = True) -> tuple[int, str, str]:
    if reason := unavailable():
        pytest.skip(reason)
    warehouse.github_owners["octo"] = 4242
    warehouse.users["dana"].confirmed_ips.clear()  # a runner PyPI has never seen: the key logs in regardless
    binaries, log = tmp_path / "bin", tmp_path / "gh.log"
    binaries.mkdir()
    (binaries / "gh").write_text(FAKE_GH, encoding="utf-8")
    (binaries / "gh").chmod(stat.S_IRWXU)
    options = ["--var", f"CANARY_INDEX={warehouse.url}", "--var", "CANARY_OWNER=octo",
               "--var", "CANARY_REPOSITORY=demo", "--env", f"FAKE_GH_LOG={log}"]  # fmt: skip
    passkey = ""
    if secrets:
        passkey = seed_key(warehouse, "dana").encode().reveal()
        options += ["--secret", "CANARY_PYPI_USERNAME=dana", "--secret", f"CANARY_PYPI_PASSWORD={PASSWORD}",
                    "--secret", f"CANARY_PYPI_PASSKEY={passkey}"]  # fmt: skip
    workflow = (ROOT / ".github" / "workflows" / "canary.yml").read_text(encoding="utf-8")
    command, env = act_command(tmp_path, workflow, *options)
    env["PATH"] = f"{binaries}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    if "Main " not in output and "Success - " not in output and proc.returncode != 0:
        pytest.skip(f"act could not run the workflow offline: {output[-2000:]}")
    for secret in (PASSWORD, passkey):
        assert not secret or secret not in output
    return proc.returncode, output, log.read_text(encoding="utf-8") if log.exists() else ""


def test_the_canary_registers_lists_and_removes_and_opens_no_issue(tmp_path: Path, warehouse: Any) -> None:
    code, output, gh = run_canary(tmp_path, warehouse)
    assert code == 0, output[-6000:]
    assert gh == ""  # no issue
    added = [r for r in warehouse.requests if r.method == "POST" and r.path == "/manage/account/publishing/"]
    assert len(added) >= 2  # the registration, then the removal
    assert warehouse.pending_publishers == []  # removed again: nothing left on the account


def test_a_changed_page_opens_the_pypi_changed_issue_with_the_reason(tmp_path: Path, warehouse: Any) -> None:
    def without_owner(record: Any, body: bytes) -> bytes:
        if record.method != "GET" or not record.path.startswith("/manage/account/publishing/"):
            return body
        tree = LexborHTMLParser(body.decode())
        for node in tree.css('form#pending-github-publisher-form [name="owner"]'):
            node.decompose()
        return (tree.html or "").encode()

    warehouse.mutate_page = without_owner
    code, _, gh = run_canary(tmp_path, warehouse)
    assert code != 0
    assert "gh issue list --state open --search in:title \"PyPI changed\"" in gh, gh
    assert "gh issue create --title PyPI changed --body-file" in gh, gh
    assert "- add: `page-changed`:" in gh and "owner" in gh, gh
    assert warehouse.pending_publishers == []


def test_without_secrets_the_canary_skips(tmp_path: Path, warehouse: Any) -> None:
    code, output, gh = run_canary(tmp_path, warehouse, secrets=False)
    assert code == 0, output[-4000:]
    assert "Canary skipped" in output and gh == ""
    assert warehouse.requests == []
