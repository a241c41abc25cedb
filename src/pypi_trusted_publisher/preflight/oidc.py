"""``check --oidc``: inspect the OIDC token this job would exchange, without exchanging it.

The workflow rules read files; this asks GitHub for the job's real token and
compares its claims with the publisher, which also catches what files cannot
show (the environment actually used, a reusable workflow, the event). The token
is decoded without verification, never sent to the index and never printed.
httpx is imported on first use so that importing the CLI stays cheap.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from ..core.indexes import Index
from ..core.publishers import GitHubPublisher, Publisher
from ..core.secret import Secret
from ..inputs.context import RepoContext
from ..transports.oidc import AUDIENCE_PATH, PERMISSION_FIX, OidcFailure, decode_claims, github_token, parse_audience
from .findings import Finding, Report
from .github_jobs import WORKFLOWS_DIR
from .rules import describe

if TYPE_CHECKING:
    import httpx

# The claims pypa/gh-action-pypi-publish lists after a failed exchange, in its order.
CLAIM_NAMES = (
    "sub",
    "repository",
    "repository_owner",
    "repository_owner_id",
    "workflow_ref",
    "job_workflow_ref",
    "ref",
    "environment",
)
MISSING = "MISSING"


def fetch_claims(client: httpx.Client, index: Index, request_url: str, request_token: Secret) -> dict[str, Any]:
    """Audience from the index, then the job's token from GitHub, as claims; OidcFailure says which step failed."""
    import httpx

    audience_url = f"{index.origin}{AUDIENCE_PATH}"
    try:
        response = client.get(audience_url)
    except httpx.HTTPError as exc:
        raise OidcFailure(
            "audience",
            f"Could not reach {audience_url} ({exc.__class__.__name__}).",
            "Check the index URL and the runner's network, then retry.",
        ) from None
    audience = parse_audience(response, index)
    return decode_claims(github_token(client, request_url, request_token, audience))


def compare_claims(publisher: GitHubPublisher, claims: dict[str, Any]) -> list[Finding]:
    """Compare the way Warehouse does: owner case-insensitive, repository name and workflow file exact."""

    def claim(name: str) -> str:
        value = claims.get(name)
        return MISSING if value is None else str(value)

    findings = []
    owner = claim("repository_owner")
    if owner.lower() != publisher.owner.lower():
        findings.append(
            Finding(
                "error",
                "claim-repository-owner",
                f"The token's repository_owner is '{owner}', but the publisher's owner is '{publisher.owner}'.",
                f"Run the upload in {publisher.owner}/{publisher.repository}, or register the publisher for "
                f"owner '{owner}'.",
            )
        )
    repository = claim("repository")
    name = repository.partition("/")[2]
    if name != publisher.repository:
        findings.append(
            Finding(
                "error",
                "claim-repository",
                f"The token's repository is '{repository}', but the publisher expects the repository name "
                f"'{publisher.repository}' (compared exactly).",
                f"Register the publisher with repository '{name or publisher.repository}' as GitHub spells it.",
            )
        )
    job_ref = claim("job_workflow_ref")
    job_path = job_ref.split("@", 1)[0]
    expected = f"{publisher.owner}/{publisher.repository}/{WORKFLOWS_DIR}/{publisher.workflow_filename}"
    running = PurePosixPath(job_path).name
    if job_path.lower() != expected.lower() or running != publisher.workflow_filename:
        findings.append(
            Finding(
                "error",
                "claim-job-workflow-ref",
                f"The token's job_workflow_ref is '{job_ref}', but the publisher expects '{expected}@<ref>'.",
                f"Upload from {publisher.workflow_filename}, or register the workflow this job runs in ({running}).",
            )
        )
    workflow_path = claim("workflow_ref").split("@", 1)[0]
    if MISSING not in (workflow_path, job_ref) and workflow_path != job_path:
        findings.append(
            Finding(
                "warning",
                "claim-reusable-workflow",
                f"This job runs in a reusable workflow: workflow_ref is '{workflow_path}' but job_workflow_ref is "
                f"'{job_path}'; PyPI matches job_workflow_ref.",
                "Upload from a job defined in the top-level workflow.",
            )
        )
    environment = claim("environment")
    if publisher.environment and environment.lower() != publisher.environment.lower():
        findings.append(
            Finding(
                "error",
                "claim-environment",
                f"The token's environment is '{environment}', but the publisher requires '{publisher.environment}'.",
                f"Add `environment: {publisher.environment}` to the publishing job.",
            )
        )
    if claims.get("event_name") == "pull_request_target":
        findings.append(
            Finding(
                "error",
                "claim-event-name",
                "This run was triggered by pull_request_target, and PyPI refuses tokens from such runs.",
                "Publish on `push` of tags or `release: published`.",
            )
        )
    return findings


def check_oidc(
    publisher: Publisher,
    *,
    index: Index,
    context: RepoContext | None = None,
    client: httpx.Client | None = None,
    timeout: float = 10.0,
) -> Report:
    """Fetch this job's OIDC token for ``index`` and compare its claims with ``publisher``."""
    context = context or RepoContext()
    checked = [f"the OIDC token of this job against the {describe(publisher, index, '', False)}"]
    if not isinstance(publisher, GitHubPublisher):
        return Report(
            [
                Finding(
                    "notice",
                    "not-checked",
                    f"--oidc compares GitHub Actions tokens; {publisher.title} publishers are skipped.",
                    "Run the check without --oidc.",
                )
            ],
            checked,
        )
    if not context.in_github_actions:
        return Report(
            [
                Finding(
                    "warning",
                    "oidc-unavailable",
                    "Not running in GitHub Actions, so there is no OIDC token to inspect.",
                    "Run `check --oidc` as a step of the publishing job.",
                )
            ],
            checked,
        )
    request_url = context.env.get("ACTIONS_ID_TOKEN_REQUEST_URL", "")
    request_token = context.env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
    if not request_url or not request_token:
        return Report(
            [
                Finding(
                    "error",
                    "missing-id-token",
                    "ACTIONS_ID_TOKEN_REQUEST_URL is not set: this job cannot request an OIDC token "
                    "(no `id-token: write`, or a pull request from a fork).",
                    PERMISSION_FIX,
                )
            ],
            checked,
        )
    import httpx

    own_client = client is None
    client = client or httpx.Client(timeout=timeout)
    try:
        claims = fetch_claims(client, index, request_url, Secret(request_token))
    except OidcFailure as failure:
        return Report([Finding("error", f"oidc-{failure.step}-failed", failure.message, failure.fix)], checked)
    finally:
        if own_client:
            client.close()
    rendered = {name: MISSING if claims.get(name) is None else str(claims[name]) for name in CLAIM_NAMES}
    return Report(compare_claims(publisher, claims), checked, rendered)
