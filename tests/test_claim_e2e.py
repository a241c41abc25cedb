"""Register, then claim: the CLI against the fake Warehouse and the fake OIDC issuer, over real HTTP.

The bootstrap of issue 20 end to end: a pending publisher registered by ``add`` is claimed by ``claim`` from a
job whose token the fake issuer signs, which creates the project in the fake with its owner; the next claim only
proves the publisher; a job of another workflow or environment is refused with what the publisher expects.
Neither token shows anywhere (docs/protocol/publish-time.md#claim).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_oidc import FakeOIDC
from fake_warehouse import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, FakePublisher, FakeWarehouse
from pypi_trusted_publisher.core.indexes import resolve_index
from pypi_trusted_publisher.core.models import ClaimStatus, Registration, Status, Target
from pypi_trusted_publisher.core.publishers import GitHubPublisher
from pypi_trusted_publisher.core.secret import Secret
from pypi_trusted_publisher.credentials.values import Credentials
from pypi_trusted_publisher.engine.claim import ClaimRequest, claim
from pypi_trusted_publisher.engine.engine import register
from pypi_trusted_publisher.engine.options import EngineOptions

LAUNCHER = Path(__file__).with_name("clocked_cli.py")
GH = ["--owner", "octo-org", "--repo", "my-pkg", "--workflow", "release.yml", "--environment", "pypi"]
OTHER_WORKFLOW = "octo-org/my-pkg/.github/workflows/ci.yml@refs/heads/main"


@pytest.fixture
def idp(wh: FakeWarehouse) -> Iterator[FakeOIDC]:
    """GitHub's issuer on the fake's clock, trusted by the fake; the job is release.yml in environment pypi."""
    with FakeOIDC(clock=wh.clock) as service:
        wh.oidc_issuers = service.discovery()
        service.job_claims = {**service.job_claims, "environment": "pypi"}
        yield service


def cli(wh: FakeWarehouse, idp: FakeOIDC | None, *args: str) -> tuple[int, dict[str, Any], str]:
    """One CLI run with --json, in a GitHub job with ``id-token: write`` when ``idp`` is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYPI_", "GITHUB_", "ACTIONS_"))}
    env.update(PYPI_USERNAME=DEFAULT_USERNAME, PYPI_PASSWORD=DEFAULT_PASSWORD, PYPI_TOTP_SECRET=DEFAULT_TOTP_SECRET)
    if idp is not None:
        env.update(GITHUB_ACTIONS="true", GITHUB_REPOSITORY="octo-org/my-pkg", **idp.actions_env())
    proc = subprocess.run(
        [sys.executable, str(LAUNCHER), str(wh.clock.path), *args, "--index", wh.url, "--json", "--timeout", "5"],  # type: ignore[attr-defined]
        env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    (line,) = [json.loads(text) for text in proc.stdout.splitlines() if text.strip()]
    return proc.returncode, line, proc.stdout + proc.stderr


def assert_no_token_shown(wh: FakeWarehouse, idp: FakeOIDC, *outputs: str) -> None:
    secrets = [idp.request_token]
    for issued in idp.issued:
        secrets += [issued.jwt, issued.jwt.split(".")[2]]
    for minted in wh.minted:
        secrets += [minted.token, minted.token.removeprefix("pypi-")[:40]]
    blob = "\n".join(outputs)
    assert secrets and not [s for s in secrets if s in blob]


def mints(wh: FakeWarehouse) -> int:
    return sum(1 for r in wh.requests if r.method == "POST" and r.path == "/_/oidc/mint-token")


def test_a_registered_pending_publisher_is_claimed_then_proven(wh, idp) -> None:
    code, added, output = cli(wh, None, "add", "--project", "Brand.New", *GH)
    assert code == 0 and added["status"] == "registered" and added["pending"] is True, output
    assert "brand-new" not in {name.lower().replace(".", "-") for name in wh.projects}

    code, claimed, claim_output = cli(wh, idp, "claim", "--project", "Brand.New")
    assert code == 0 and claimed["status"] == "claimed", claim_output
    assert claimed["project"] == "brand-new" and claimed["verified"] is True and claimed["code"] is None
    project = wh.projects["Brand.New"]
    assert project.owners == [DEFAULT_USERNAME] and not project.has_releases
    assert [p.publisher for p in project.publishers] == [
        FakePublisher.github("octo-org", "my-pkg", "release.yml", "pypi")
    ]
    assert wh.pending_publishers == [] and mints(wh) == 1
    assert "owned by the account that registered the pending publisher" in claimed["message"]

    code, proven, proven_output = cli(wh, idp, "claim", "--project", "Brand.New")
    assert code == 0 and proven["status"] == "proven", proven_output
    assert proven["expires"] is not None and mints(wh) == 2
    assert len(wh.projects) == 2  # my-pkg from the fixture, and the claimed one: nothing else created
    assert_no_token_shown(wh, idp, output, claim_output, proven_output)


@pytest.mark.parametrize(
    ("job", "named"),
    [
        ({"job_workflow_ref": OTHER_WORKFLOW, "workflow_ref": OTHER_WORKFLOW},
         "workflow release.yml (this job: ci.yml)"),
        ({"environment": "staging"}, "environment pypi (this job: staging)"),
        ({"environment": None}, "environment pypi (this job: none)"),
    ],
)  # fmt: skip
def test_a_claim_from_another_workflow_or_environment_names_what_is_expected(wh, idp, job, named) -> None:
    assert cli(wh, None, "add", "--project", "brand-new", *GH)[0] == 0
    idp.job_claims = {k: v for k, v in {**idp.job_claims, **job}.items() if v is not None}
    code, result, output = cli(wh, idp, "claim", "--project", "brand-new", "--workflow", "release.yml",
                               "--environment", "pypi")  # fmt: skip
    assert code == 1 and result["status"] == "failed" and result["reason"] == "invalid-publisher", output
    assert result["code"] == "invalid-publisher" and named in result["fix"], result["fix"]
    assert "brand-new" not in wh.projects and len(wh.pending_publishers) == 1  # nothing taken, nothing lost
    assert mints(wh) == 1  # refused once, never sent again
    assert_no_token_shown(wh, idp, output)


def test_without_the_expected_publisher_the_refusal_still_says_what_pypi_compared(wh, idp) -> None:
    assert cli(wh, None, "add", "--project", "brand-new", *GH)[0] == 0
    idp.job_claims = {**idp.job_claims, "environment": "staging"}
    code, result, _ = cli(wh, idp, "claim", "--project", "brand-new")
    assert code == 1 and result["reason"] == "invalid-publisher"
    assert "octo-org/my-pkg" in result["fix"] and "staging" in result["fix"]


def test_a_name_taken_between_registration_and_claim(wh, idp) -> None:
    assert cli(wh, None, "add", "--project", "brand-new", *GH)[0] == 0
    wh.add_project("brand_new", owners=["somebody-else"])
    code, result, output = cli(wh, idp, "claim", "--project", "brand-new")
    assert code == 1 and result["reason"] == "invalid-pending-publisher", output
    assert "another name" in result["fix"].lower()
    assert wh.projects["brand_new"].owners == ["somebody-else"]


def test_a_job_without_id_token_write_is_exit_2_before_any_request(wh) -> None:
    before = len(wh.requests)
    code, result, _ = cli(wh, None, "claim", "--project", "brand-new")
    assert code == 2 and "id-token: write" in result["message"]
    assert len(wh.requests) == before


def test_an_organization_claims_what_it_registered(wh, idp) -> None:
    """In-process, through the engine: the organization's pending publisher becomes its project."""
    wh.add_organization("octo", owners=[DEFAULT_USERNAME])
    index = resolve_index(wh.url)
    options = EngineOptions(timeout=5, clock=wh.clock, sleep=wh.clock.sleep)
    credentials = Credentials(DEFAULT_USERNAME, Secret(DEFAULT_PASSWORD), Secret(DEFAULT_TOTP_SECRET))
    publisher = GitHubPublisher("octo-org", "my-pkg", "release.yml", "pypi")
    registered = register(Registration(index, "org-pkg", publisher, Target.PENDING, "octo"), credentials, options)
    assert registered.status is Status.REGISTERED, registered

    masked: list[str] = []
    env = {"GITHUB_ACTIONS": "true", **idp.actions_env()}
    request = ClaimRequest(index, "org-pkg", "octo", DEFAULT_USERNAME, exists=False, publisher=publisher)
    result = claim(request, env, options, mask=masked.append)
    assert result.status is ClaimStatus.CLAIMED and result.verified is True, result
    assert wh.projects["org-pkg"].organization == "octo" and wh.projects["org-pkg"].owners == []
    assert f"owned by the organization 'octo' (PyPI e-mailed the account '{DEFAULT_USERNAME}'" in result.message
    assert [m.token for m in wh.minted] == [t for t in masked if t.startswith("pypi-")]
    assert_no_token_shown(wh, idp, repr(result), str(result.to_dict()))
