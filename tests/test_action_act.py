"""action.yml itself, run end to end by act in host mode against the fake Warehouse.

This is the only test of the composite steps (setup-python, the hash-pinned
install into a venv under RUNNER_TEMP, the env mapping, the outputs, the report
of a failed install). The set-up it needs is in tests/act_workflow.py; without
act, git or the wheels, or when act cannot run offline, the test skips and says why.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from act_workflow import JOB, act_command, unavailable
from fake_oidc import FakeOIDC, github_claims
from passkeys import seed_key

pytestmark = [pytest.mark.act, pytest.mark.slow]  # about 6 s: act starts the composite action for real

PASSWORD = "fake-warehouse-password"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# The secrets come in as variables, which act does not hide on its own: only the
# action's ::add-mask:: lines keep them out of the log. The first run of the
# action finds no wheels, as without network, and must still report.
WORKFLOW = (
    JOB
    + """\
      - id: no-wheels
        continue-on-error: true
        uses: ./
        env:
          PIP_FIND_LINKS: /nonexistent/wheelhouse
        with:
          index: {index}
          project: act-demo
          pypi-password: ${{{{ vars.PYPI_PASSWORD }}}}
      - id: key
        uses: ./
        with:
          index: {index}
          project: act-key-demo
          owner: octo
          repository: demo
          workflow: release.yml
          environment: pypi-key
          pypi-username: dana
          pypi-password: ${{{{ vars.PYPI_PASSWORD }}}}
          pypi-passkey: ${{{{ vars.PYPI_PASSKEY }}}}
          remove-passkey: "true"
          confirmation: none
          check: "false"
      - id: tp
        uses: ./
        with:
          index: {index}
          project: act-demo
          owner: octo
          repository: demo
          workflow: release.yml
          pypi-username: dana
          pypi-password: ${{{{ vars.PYPI_PASSWORD }}}}
          pypi-totp-secret: ${{{{ vars.PYPI_TOTP_SECRET }}}}
          confirmation: none
          check: "false"
      - name: Save the steps
        if: always()
        shell: bash
        env:
          STEPS: ${{{{ toJSON(steps) }}}}
        run: printf '%s' "$STEPS" > "$STEPS_FILE"
"""
)


def test_action_yml_with_act(tmp_path: Path, warehouse: Any) -> None:
    if reason := unavailable():
        pytest.skip(reason)
    warehouse.github_owners["octo"] = 4242
    # The runner's IP is new to the account, as on a hosted runner: the security-key step goes through
    # at once (and so confirms the IP), then the TOTP step logs in from a known IP.
    warehouse.users["dana"].confirmed_ips.clear()
    key = seed_key(warehouse, "dana")
    passkey = key.encode().reveal()
    steps_file = tmp_path / "steps.json"
    command, env = act_command(
        tmp_path,
        WORKFLOW.format(index=warehouse.url),
        "--var", f"PYPI_PASSWORD={PASSWORD}", "--var", f"PYPI_TOTP_SECRET={TOTP_SECRET}",
        "--var", f"PYPI_PASSKEY={passkey}", "--env", f"STEPS_FILE={steps_file}",
    )  # fmt: skip
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0 and "Main ./" not in log:
        pytest.skip(f"act could not run the workflow offline: {log[-2000:]}")
    assert proc.returncode == 0, log[-6000:]
    steps = json.loads(steps_file.read_text(encoding="utf-8"))
    outputs = steps["tp"]["outputs"]
    assert outputs["status"] == "registered", outputs
    assert outputs["pending"] == "true" and outputs["project"] == "act-demo"
    assert json.loads(outputs["publisher"])["workflow_filename"] == "release.yml"
    assert json.loads(outputs["json"])["status"] == "registered"
    assert outputs["login"] == "totp"
    assert sorted(record.project_name for record in warehouse.pending_publishers) == ["act-demo", "act-key-demo"]
    for secret in (PASSWORD, TOTP_SECRET, passkey, *key.secrets()):
        assert secret not in log

    keyed = steps["key"]["outputs"]
    assert keyed["status"] == "registered" and keyed["project"] == "act-key-demo", keyed
    assert keyed["login"] == "security-key-removed"
    assert not warehouse.users["dana"].security_keys  # the secret is dead now
    assert not [mail for mail in warehouse.outbox if "Unrecognized login" in mail.subject]

    failed = steps["no-wheels"]
    assert failed["outcome"] == "failure", failed
    assert failed["outputs"]["status"] == "failed" and failed["outputs"]["reason"] == "install-failed", failed
    assert failed["outputs"]["manual-url"] == f"{warehouse.url}/manage/account/publishing/"
    assert json.loads(failed["outputs"]["json"])["reason"] == "install-failed"
    assert "install failed" in log and "nothing was registered" in log


# The claiming bootstrap of examples/release.yml, cut to its shape: one job registers, the next (the registered
# workflow, its environment, id-token: write) claims, and a third reads the claim's outputs. act has no OIDC token
# service, so the fake issuer's runtime endpoint is handed to the job as GitHub would (ACTIONS_ID_TOKEN_REQUEST_*).
BOOTSTRAP = """\
on: workflow_dispatch
jobs:
  register:
    runs-on: ubuntu-latest
    outputs:
      project: ${{{{ steps.tp.outputs.project }}}}
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
      - id: tp
        uses: ./
        with:
          index: {index}
          project: act-claim-demo
          owner: octo
          repository: demo
          workflow: bootstrap.yml
          environment: pypi
          pypi-username: dana
          pypi-password: ${{{{ vars.PYPI_PASSWORD }}}}
          pypi-totp-secret: ${{{{ vars.PYPI_TOTP_SECRET }}}}
          confirmation: none
          check: "false"
  claim:
    needs: register
    runs-on: ubuntu-latest
    environment: pypi
    permissions:
      id-token: write
    outputs:
      claim: ${{{{ steps.claim.outputs.claim }}}}
      claimed-project: ${{{{ steps.claim.outputs.claimed-project }}}}
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
      - id: claim
        uses: ./
        with:
          index: {index}
          mode: claim
          project: ${{{{ needs.register.outputs.project }}}}
  report:
    needs: claim
    runs-on: ubuntu-latest
    steps:
      - shell: bash
        env:
          CLAIM: ${{{{ needs.claim.outputs.claim }}}}
          CLAIMED: ${{{{ needs.claim.outputs.claimed-project }}}}
        run: printf '%s %s' "$CLAIM" "$CLAIMED" > "$REPORT_FILE"
"""


def test_the_two_job_bootstrap_claims_and_hands_its_outputs_on(tmp_path: Path, warehouse: Any) -> None:
    if reason := unavailable():
        pytest.skip(reason)
    warehouse.github_owners["octo"] = 4242
    report = tmp_path / "report.txt"
    ref = "octo/demo/.github/workflows/bootstrap.yml@refs/heads/main"
    with FakeOIDC() as idp:
        warehouse.oidc_issuers = idp.discovery()
        idp.job_claims = github_claims("octo", "demo", "bootstrap.yml", environment="pypi", owner_id="4242")
        token_env = [f"{name}={value}" for name, value in idp.actions_env().items()]
        command, env = act_command(
            tmp_path, BOOTSTRAP.format(index=warehouse.url),
            "--var", f"PYPI_PASSWORD={PASSWORD}", "--var", f"PYPI_TOTP_SECRET={TOTP_SECRET}",
            "--env", f"REPORT_FILE={report}", *[part for item in token_env for part in ("--env", item)],
        )  # fmt: skip
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0 and "Main ./" not in log:
        pytest.skip(f"act could not run the workflow offline: {log[-2000:]}")
    assert proc.returncode == 0, log[-6000:]
    assert report.read_text(encoding="utf-8") == "claimed act-claim-demo"
    project = warehouse.projects["act-claim-demo"]
    assert project.owners == ["dana"] and warehouse.pending_publishers == []
    assert idp.issued and idp.issued[0].claims["job_workflow_ref"] == ref
    secrets = [
        PASSWORD,
        TOTP_SECRET,
        idp.request_token,
        *(t.jwt for t in idp.issued),
        *(m.token for m in warehouse.minted),
    ]
    assert warehouse.minted and not [s for s in secrets if s in log]
