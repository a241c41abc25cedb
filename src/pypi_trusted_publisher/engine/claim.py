"""``claim``: exchange this CI job's OIDC token once, so PyPI proves the publisher and takes a pending name at once.

PyPI's own exchange (docs/protocol/publish-time.md#mint-token) does what a setup step wants: a token that matches a
*pending* publisher whose project does not exist makes PyPI create the project right then (no release; the
registrant, or the organization, owns it) and turn the publisher into a normal one; a token that matches a normal
publisher gets a 15-minute upload token, which proves the whole chain against the server. The minted token is
handed to ``mask`` the moment it arrives and then dropped: never printed, written or returned.

One exchange per run. A refusal is explained from PyPI's code and description and from the job's own claims; a
network failure is reported, never retried, since an exchange whose answer was lost may have created the project.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from ..core.errors import RegistrationFailed, UsageError
from ..core.indexes import Index
from ..core.models import ClaimResult, ClaimStatus, iso_time
from ..core.publishers import GitHubPublisher, Publisher
from ..core.secret import Secret
from ..core.validation import normalize
from ..core.wording import sentences
from ..transports.oidc import GITLAB_VARIABLE
from .options import EngineOptions

TOKEN_MINUTES = 15
# The claims worth showing (none of them secret; pypa/gh-action-pypi-publish prints the same after a failure).
SHOWN_CLAIMS = {
    "github": ("aud", "repository", "repository_owner_id", "job_workflow_ref", "environment", "ref", "event_name"),
    "gitlab": ("aud", "project_path", "ci_config_ref_uri", "environment", "ref_path"),
}
EXPECTED_WORKFLOW_RE = re.compile(r"expecting one of \[(?P<expected>[^\]]*)\], got '(?P<got>[^']*)'")
OIDC_STEPS = {"audience": "audience-failed", "token": "id-token-failed"}


@dataclass(frozen=True)
class ClaimRequest:
    index: Index
    project: str
    organization: str = ""  # who owns a project a claim creates, when known (the registration said)
    registrant: str = ""  # the PyPI account that registered the pending publisher, when known: its Owner
    exists: bool | None = None  # did the project exist before the claim? None: the simple index is asked
    # The publisher the claim should match, when known (the registration, or the inputs): a refusal then names
    # what it expects against what this job is.
    publisher: Publisher | None = None
    id_token_variable: str = GITLAB_VARIABLE  # GitLab: the CI variable of the job's `id_tokens:` entry

    @property
    def normalized_project(self) -> str:
        return normalize(self.project)


def ci_service(env: Mapping[str, str], variable: str = GITLAB_VARIABLE) -> str:
    """``github`` or ``gitlab``, or UsageError naming what the job lacks; checked before any request."""
    if env.get("GITHUB_ACTIONS") == "true":
        if env.get("ACTIONS_ID_TOKEN_REQUEST_URL") and env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
            return "github"
        raise UsageError(
            "this job cannot request an OIDC token: give the job `permissions: id-token: write` (a job-level "
            "permissions: block replaces the workflow's), and run the claim in the publishing job, not in a pull "
            "request from a fork",
            field="id-token",
        )
    if env.get("GITLAB_CI") == "true":
        if env.get(variable):
            return "gitlab"
        raise UsageError(
            f"this GitLab job has no ID token in {variable}: declare `id_tokens: {variable}: aud: <the index's "
            "audience, pypi or testpypi>` on the job",
            field="id-token",
        )
    raise UsageError(
        "claim runs inside the publishing CI job (GitHub Actions with `permissions: id-token: write`, or GitLab CI "
        "with an `id_tokens:` entry): PyPI matches that job's OIDC token, so nothing else can claim",
        field="id-token",
    )


def claim(
    request: ClaimRequest,
    env: Mapping[str, str],
    options: EngineOptions | None = None,
    *,
    mask: Callable[[str], None] = lambda value: None,
) -> ClaimResult:
    """One exchange; UsageError before any request when the job cannot have a token, else a ClaimResult."""
    import httpx

    from ..transports.oidc import (
        AUDIENCE_PATH,
        MintRefused,
        OidcFailure,
        decode_claims,
        github_token,
        gitlab_token,
        mint,
        parse_audience,
    )
    from ..transports.web.http import Http
    from ..transports.web.simple import project_listed

    options = options or EngineOptions()
    service = ci_service(env, request.id_token_variable)
    index, project = request.index, request.normalized_project
    http = Http(index, timeout=options.timeout, transport=options.transport, clock=options.clock, sleep=options.sleep)
    github = httpx.Client(timeout=httpx.Timeout(options.timeout), transport=options.transport, follow_redirects=False)
    claims: dict[str, str] = {}

    def failed(reason: str, message: str, fix: str = "", code: str = "") -> ClaimResult:
        return ClaimResult(ClaimStatus.FAILED, index, project, message, reason, fix, code, claims=claims)

    try:
        audience = parse_audience(http.get(AUDIENCE_PATH), index)
        if service == "github":
            bearer = Secret(env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"])
            token = github_token(github, env["ACTIONS_ID_TOKEN_REQUEST_URL"], bearer, audience)
        else:
            token = gitlab_token(env, request.id_token_variable, audience)
        mask(token.reveal())
        claims.update(_shown(decode_claims(token), service))
        existed = request.exists if request.exists is not None else project_listed(http, project)
        minted = mint(http, token)
        mask(minted.token.reveal())
        expires = minted.expires
        del minted  # an upload token for 15 minutes: nothing here uses it
        if existed:
            return _proven(request, claims, expires)
        return _claimed(request, claims, expires, project_listed(http, project))
    except OidcFailure as exc:
        return failed(OIDC_STEPS[exc.step], exc.message, exc.fix)
    except MintRefused as refused:
        return failed(*explain(refused.errors, claims, request))
    except RegistrationFailed as exc:
        return failed(exc.reason, _lost(exc, index))
    finally:
        github.close()
        http.close()


def _shown(claims: Mapping[str, Any], service: str) -> dict[str, str]:
    return {name: str(claims[name]) for name in SHOWN_CLAIMS[service] if claims.get(name) is not None}


def _workflow(claims: Mapping[str, str]) -> str:
    """The workflow file this job runs in, from ``job_workflow_ref`` (GitHub) or ``ci_config_ref_uri`` (GitLab)."""
    ref = claims.get("job_workflow_ref") or claims.get("ci_config_ref_uri", "").partition("//")[2]
    return PurePosixPath(ref.split("@", 1)[0]).name if ref else ""


def _where(claims: Mapping[str, str]) -> str:
    repository = claims.get("repository") or claims.get("project_path", "")
    environment = claims.get("environment")
    return (
        f"repository {repository or '(unknown)'}, workflow {_workflow(claims) or '(unknown)'}, "
        + (f"environment {environment}" if environment else "no environment")
    )


def _dropped(expires: int | None) -> str:
    when = f", at {iso_time(expires)}" if expires is not None else ""
    return f"The upload token PyPI minted for this job was dropped unused (it expires in {TOKEN_MINUTES} minutes{when})"


def _proven(request: ClaimRequest, claims: Mapping[str, str], expires: int | None) -> ClaimResult:
    host, project = request.index.host, request.normalized_project
    message = sentences(
        f"PyPI accepted this job's token on {host}: a trusted publisher of {project!r} matches {_where(claims)}",
        "The first release from this workflow and environment will upload",
        _dropped(expires),
    )
    return ClaimResult(
        ClaimStatus.PROVEN, request.index, project, message, expires=expires, verified=True, claims=claims
    )


def _claimed(request: ClaimRequest, claims: Mapping[str, str], expires: int | None, listed: bool | None) -> ClaimResult:
    host, project = request.index.host, request.normalized_project
    registrant = f"the account {request.registrant!r}" if request.registrant else (
        "the account that registered the pending publisher"
    )
    owner = (
        f"the organization {request.organization!r} (PyPI e-mailed {registrant}, who registered it)"
        if request.organization
        else f"{registrant}, whom PyPI e-mailed"
    )
    seen = (
        f"{host} lists it now (no release yet)"
        if listed
        else f"{host}'s simple index does not list it yet (caches can lag a few minutes)"
    )
    message = sentences(
        f"PyPI created the project {project!r} from the pending publisher: {seen}, owned by {owner}",
        f"The publisher is a normal one now, matching {_where(claims)}, and nobody else can take the name",
        _dropped(expires),
    )
    return ClaimResult(
        ClaimStatus.CLAIMED, request.index, project, message, expires=expires, verified=bool(listed), claims=claims
    )


def _lost(exc: RegistrationFailed, index: Index) -> str:
    if exc.reason in ("network", "timeout"):
        return sentences(
            exc.message,
            "The exchange was not retried: a token serves one exchange, and if PyPI received it, the project may "
            f"exist now; 'pypi-trusted-publisher list --pending --index {index.url}' shows whether the pending "
            "publisher is still there",
        )
    return exc.message


def _mismatch(publisher: Publisher | None, claims: Mapping[str, str]) -> str:
    """What this job's token says against what the publisher expects, for each field PyPI compares; "" if all agree
    (or the publisher is not known)."""
    if not isinstance(publisher, GitHubPublisher) or "repository" not in claims:
        return ""
    differences = []
    repository = f"{publisher.owner}/{publisher.repository}"
    if claims["repository"].lower() != repository.lower():
        differences.append(f"repository {repository} (this job: {claims['repository']})")
    workflow = _workflow(claims)
    if workflow != publisher.workflow_filename:
        differences.append(f"workflow {publisher.workflow_filename} (this job: {workflow or 'unknown'})")
    environment = claims.get("environment", "")
    if publisher.environment and environment.lower() != publisher.environment.lower():
        differences.append(f"environment {publisher.environment} (this job: {environment or 'none'})")
    if not differences:
        return ""
    return (
        f"The publisher expects {'; '.join(differences)}. Run the claim in a job of "
        f"{publisher.workflow_filename}"
        + (f" with `environment: {publisher.environment}`" if publisher.environment else "")
        + ", as the first release will run, or register the publisher for what this job is"
    )


def explain(
    errors: tuple[tuple[str, str], ...], claims: Mapping[str, str], request: ClaimRequest
) -> tuple[str, str, str, str]:
    """PyPI's 422 as (reason, message, fix, code): what went wrong in plain words and what to change."""
    code, description = errors[0] if errors else ("", "")
    text = "; ".join(d for _, d in errors) or "no description"
    host, project = request.index.host, request.normalized_project
    said = f"PyPI refused the token exchange on {host} ({code or 'no code'}: {text})"
    if code == "invalid-publisher":
        expected = EXPECTED_WORKFLOW_RE.search(description)
        mismatch = _mismatch(request.publisher, claims)
        if mismatch:
            fix = f"{mismatch}."
        elif expected:
            fix = (
                f"This job runs {expected['got']!r}; the publisher expects {expected['expected']}. Run the claim in "
                f"a job of that workflow, or register the publisher for {_workflow(claims) or expected['got']}."
            )
        else:
            fix = (
                f"No publisher on {host} matches this job ({_where(claims)}, from its token). PyPI compares the "
                "repository, the workflow file name and the environment exactly: run the claim in the job the "
                f"publisher names, or register one for these values ('pypi-trusted-publisher list --project "
                f"{project} --index {request.index.url}' shows what is registered)."
            )
        return code, said, fix, code
    if code == "invalid-pending-publisher":
        fix = (
            f"The name {project!r} was taken before this claim: the project exists and is not yours, so PyPI "
            "deleted the pending publisher. Choose another name, register a pending publisher for it and claim "
            "it at once."
        )
        return code, said, fix, code
    if code == "invalid-reuse-token":
        fix = "PyPI has seen this token already; nothing was retried. Run the job again for a fresh token."
        return code, said, fix, code
    if code == "invalid-token":
        audience = claims.get("aud", "")
        fix = (
            "PyPI checks the token's signature, its audience (exactly the index's), and its time window. Run the "
            "job again; if it persists, check that the index URL is the one the publisher is on"
            + (f" (the token's audience is {audience!r})." if audience else ".")
        )
        return code, said, fix, code
    if code == "not-enabled":
        return code, said, f"{host} has this kind of trusted publishing turned off; try again later.", code
    if code == "invalid-payload":
        if "issuer" in description.lower():
            fix = (
                "PyPI does not trust this job's token issuer (GitHub Enterprise Server, or a self-managed GitLab "
                "without an organization issuer): publish from github.com or gitlab.com."
            )
        elif "registration" in description.lower():
            fix = f"{host} does not accept new projects right now; claim again later."
        else:
            fix = "The request was refused as PyPI describes; run the job again, and report it if it persists."
        return code, said, fix, code
    return "mint-refused", said, "See the description; if it is unclear, report it with the code.", code
