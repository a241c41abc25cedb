"""``claim`` one exchange at a time, against pytest-httpx: what each answer of the index or GitHub becomes.

The end-to-end runs against the fake Warehouse and the fake token service are in test_claim_e2e.py.
"""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from pypi_trusted_publisher.core.errors import UsageError
from pypi_trusted_publisher.core.indexes import resolve_index
from pypi_trusted_publisher.core.models import ClaimStatus
from pypi_trusted_publisher.engine.claim import ClaimRequest, ci_service, claim
from pypi_trusted_publisher.engine.options import EngineOptions
from pypi_trusted_publisher.render.results import claim_line, claim_text

PYPI = "https://pypi.org"
TOKEN_URL = "https://token.actions.example/token?api-version=2.0"
BEARER = "request-bearer-SECRET-1b2c"
MINTED = "pypi-MINTED-upload-token-SECRET-9f8e"
GITHUB_ENV = {
    "GITHUB_ACTIONS": "true",
    "ACTIONS_ID_TOKEN_REQUEST_URL": TOKEN_URL,
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": BEARER,
}
CLAIMS = {
    "iss": "https://token.actions.githubusercontent.com",
    "aud": "pypi",
    "repository": "octo-org/my-pkg",
    "repository_owner": "octo-org",
    "repository_owner_id": "1001",
    "job_workflow_ref": "octo-org/my-pkg/.github/workflows/release.yml@refs/heads/main",
    "environment": "pypi",
    "ref": "refs/heads/main",
    "jti": "unique-id",
}


def jwt(claims: dict[str, str]) -> str:
    def part(data: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJlLVNFQ1JFVA"


JWT = jwt(CLAIMS)


def request(exists: bool | None = False, **changes: str) -> ClaimRequest:
    return ClaimRequest(resolve_index("pypi"), changes.pop("project", "My_Pkg"), exists=exists, **changes)


def run(env: dict[str, str] | None = None, **changes: object) -> tuple[object, list[str]]:
    masked: list[str] = []
    paused: list[float] = []
    result = claim(
        request(**changes),  # type: ignore[arg-type]
        GITHUB_ENV if env is None else env,
        EngineOptions(timeout=5, sleep=paused.append),
        mask=masked.append,
    )
    return result, masked


def audience(httpx_mock, value: str = "pypi") -> None:
    httpx_mock.add_response(url=f"{PYPI}/_/oidc/audience", json={"audience": value})


def github(httpx_mock, token: str = JWT) -> None:
    httpx_mock.add_response(
        url=f"{TOKEN_URL}&audience=pypi", match_headers={"Authorization": f"bearer {BEARER}"}, json={"value": token}
    )


def minted(httpx_mock) -> None:
    httpx_mock.add_response(
        url=f"{PYPI}/_/oidc/mint-token", method="POST", match_json={"token": JWT},
        json={"success": True, "token": MINTED, "expires": 1_800_000_900},
    )  # fmt: skip


def refused(httpx_mock, *errors: tuple[str, str]) -> None:
    body = {"message": "Token request failed", "errors": [{"code": c, "description": d} for c, d in errors]}
    httpx_mock.add_response(url=f"{PYPI}/_/oidc/mint-token", method="POST", status_code=422, json=body)


def simple(httpx_mock, status: int) -> None:
    httpx_mock.add_response(url=f"{PYPI}/simple/my-pkg/", status_code=status, json={"name": "my-pkg", "files": []})


def assert_no_token_shown(result, *texts: str) -> None:
    blob = "\n".join([claim_text(result), claim_line(result), repr(result), *texts])
    for secret in (JWT, JWT.split(".")[2], MINTED, BEARER):
        assert secret not in blob


@pytest.mark.parametrize(
    ("env", "needs"),
    [
        ({}, "GitHub Actions with `permissions: id-token: write`"),
        ({"GITHUB_ACTIONS": "true"}, "permissions: id-token: write"),
        ({"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": TOKEN_URL}, "id-token: write"),
        ({"GITLAB_CI": "true"}, "id_tokens: PYPI_ID_TOKEN: aud:"),
    ],
)
def test_a_job_that_cannot_have_a_token_is_bad_input_before_any_request(httpx_mock, env, needs) -> None:
    with pytest.raises(UsageError) as caught:
        run(env)
    assert needs in caught.value.message and caught.value.field == "id-token"
    assert httpx_mock.get_requests() == []


def test_a_pending_publisher_is_claimed_and_the_project_read_back(httpx_mock) -> None:
    audience(httpx_mock)
    github(httpx_mock)
    minted(httpx_mock)
    simple(httpx_mock, 200)
    result, masked = run()
    assert result.status is ClaimStatus.CLAIMED and result.verified is True
    assert "PyPI created the project 'my-pkg'" in result.message and "no release yet" in result.message
    assert "expires in 15 minutes, at 2027-01-15T08:15:00Z" in result.message
    assert result.claims["job_workflow_ref"].endswith("release.yml@refs/heads/main")
    assert masked == [JWT, MINTED]  # each the moment it arrived
    posts = [r for r in httpx_mock.get_requests() if r.method == "POST"]
    assert len(posts) == 1 and len(httpx_mock.get_requests()) == 4  # audience, GitHub, mint, read-back
    assert_no_token_shown(result)


def test_an_organization_owns_what_it_claims(httpx_mock) -> None:
    audience(httpx_mock)
    github(httpx_mock)
    minted(httpx_mock)
    simple(httpx_mock, 200)
    result, _ = run(organization="octo-team")
    assert "owned by the organization 'octo-team'" in result.message


def test_a_normal_publisher_is_proven_without_a_read_back(httpx_mock) -> None:
    audience(httpx_mock)
    github(httpx_mock)
    minted(httpx_mock)
    result, _ = run(exists=True)
    assert result.status is ClaimStatus.PROVEN and result.exit_code == 0
    assert "matches repository octo-org/my-pkg, workflow release.yml, environment pypi" in result.message
    assert result.to_dict()["expires"] == "2027-01-15T08:15:00Z"
    assert len(httpx_mock.get_requests()) == 3


def test_unknown_existence_is_asked_of_the_simple_index_before_the_exchange(httpx_mock) -> None:
    audience(httpx_mock)
    github(httpx_mock)
    simple(httpx_mock, 200)
    minted(httpx_mock)
    result, _ = run(exists=None)
    assert result.status is ClaimStatus.PROVEN
    paths = [r.url.path for r in httpx_mock.get_requests()]
    assert paths.index("/simple/my-pkg/") < paths.index("/_/oidc/mint-token")


@pytest.mark.parametrize(
    ("errors", "reason", "in_fix"),
    [
        ([("invalid-publisher", "valid token, but no corresponding publisher (The job_workflow_ref claim does not "
           "match, expecting one of ['octo-org/my-pkg/.github/workflows/publish.yml'], got "
           "'octo-org/my-pkg/.github/workflows/release.yml@refs/heads/main')")],
         "invalid-publisher", "the publisher expects 'octo-org/my-pkg/.github/workflows/publish.yml'"),
        ([("invalid-publisher", "valid token, but no corresponding publisher (Publisher with matching claims was not "
           "found)")], "invalid-publisher", "repository octo-org/my-pkg, workflow release.yml, environment pypi"),
        ([("invalid-pending-publisher", "valid token, but project already exists")], "invalid-pending-publisher",
         "Choose another name"),
        ([("invalid-reuse-token", "invalid token: already used")], "invalid-reuse-token", "nothing was retried"),
        ([("invalid-token", "malformed or invalid token")], "invalid-token", "the token's audience is 'pypi'"),
        ([("not-enabled", "GitHub trusted publishing functionality not enabled")], "not-enabled", "turned off"),
        ([("invalid-payload", "unknown trusted publishing issuer")], "invalid-payload", "does not trust"),
        ([("invalid-payload", "New project registration temporarily disabled.")], "invalid-payload",
         "does not accept new projects"),
        ([("something-new", "a code nobody knows")], "mint-refused", "report it with the code"),
    ],
)  # fmt: skip
def test_each_refusal_becomes_a_cause_and_a_fix(httpx_mock, errors, reason, in_fix) -> None:
    audience(httpx_mock)
    github(httpx_mock)
    refused(httpx_mock, *errors)
    result, masked = run()
    assert result.status is ClaimStatus.FAILED and result.exit_code == 1
    assert result.reason == reason and result.code == errors[0][0]
    assert in_fix in result.fix, result.fix
    assert errors[0][1] in result.message  # PyPI's own words, quoted
    assert masked == [JWT]
    assert len([r for r in httpx_mock.get_requests() if r.method == "POST"]) == 1
    assert_no_token_shown(result)


@pytest.mark.parametrize(
    ("answer", "reason", "said"),
    [
        ({"status_code": 502, "text": "<html>Bad gateway</html>"}, "mint-failed", "HTTP 502 (not JSON)"),
        ({"status_code": 200, "text": "<html>maintenance</html>"}, "mint-failed", "HTTP 200 (not JSON)"),
        ({"status_code": 200, "json": {"success": True}}, "mint-failed", "HTTP 200 (JSON)"),
    ],
)
def test_an_answer_that_is_not_pypis_is_reported_and_not_retried(httpx_mock, answer, reason, said) -> None:
    audience(httpx_mock)
    github(httpx_mock)
    httpx_mock.add_response(url=f"{PYPI}/_/oidc/mint-token", method="POST", **answer)
    result, _ = run()
    assert result.reason == reason and said in result.message and "not retried" in result.message
    assert len([r for r in httpx_mock.get_requests() if r.method == "POST"]) == 1


def test_a_lost_exchange_is_not_sent_again(httpx_mock) -> None:
    audience(httpx_mock)
    github(httpx_mock)
    httpx_mock.add_exception(httpx.ReadTimeout("lost"), url=f"{PYPI}/_/oidc/mint-token", method="POST")
    result, _ = run()
    assert result.reason == "timeout" and "was not retried" in result.message and "list --pending" in result.message
    assert len([r for r in httpx_mock.get_requests() if r.method == "POST"]) == 1


@pytest.mark.parametrize(
    ("answer", "said", "in_fix"),
    [
        ({"status_code": 403, "json": {"message": "no"}}, "GitHub refused the OIDC token request (HTTP 403)",
         "id-token: write"),
        ({"status_code": 200, "text": "<html>sign in</html>"}, "refused the OIDC token request (HTTP 200)",
         "id-token: write"),
        ({"status_code": 200, "json": {"value": "not-a-jwt"}}, "not a readable JWT", "Retry"),
    ],
)
def test_the_token_service_failing_stops_before_the_exchange(httpx_mock, answer, said, in_fix) -> None:
    audience(httpx_mock)
    httpx_mock.add_response(url=f"{TOKEN_URL}&audience=pypi", **answer)
    result, masked = run()
    assert result.reason == "id-token-failed" and said in result.message and in_fix in result.fix
    assert not [r for r in httpx_mock.get_requests() if r.method == "POST"] and masked == []


def test_a_token_service_that_times_out(httpx_mock) -> None:
    audience(httpx_mock)
    httpx_mock.add_exception(httpx.ConnectTimeout("slow"), url=f"{TOKEN_URL}&audience=pypi")
    result, _ = run()
    assert result.reason == "id-token-failed" and "ConnectTimeout" in result.message


def test_an_index_with_trusted_publishing_disabled(httpx_mock) -> None:
    httpx_mock.add_response(url=f"{PYPI}/_/oidc/audience", status_code=403, json={"message": "not enabled"})
    result, _ = run()
    assert result.reason == "audience-failed" and "trusted publishing disabled" in result.message
    assert len(httpx_mock.get_requests()) == 1


def test_a_custom_audience_is_asked_for(httpx_mock) -> None:
    audience(httpx_mock, "warehouse-staging")
    httpx_mock.add_response(url=f"{TOKEN_URL}&audience=warehouse-staging", json={"value": jwt(CLAIMS)})
    refused(httpx_mock, ("invalid-token", "malformed or invalid token"))
    result, _ = run()
    assert result.reason == "invalid-token"


def test_gitlab_takes_the_id_token_variable_and_checks_its_audience(httpx_mock) -> None:
    gitlab_claims = {"iss": "https://gitlab.com", "aud": "testpypi", "project_path": "group/my-pkg",
                     "ci_config_ref_uri": "gitlab.com/group/my-pkg//.gitlab-ci.yml@refs/heads/main"}  # fmt: skip
    env = {"GITLAB_CI": "true", "PYPI_ID_TOKEN": jwt(gitlab_claims)}
    audience(httpx_mock)
    result, masked = run(env)
    assert result.reason == "id-token-failed" and "audience 'testpypi', not 'pypi'" in result.message
    assert "id_tokens: PYPI_ID_TOKEN: aud: pypi" in result.fix and masked == []
    httpx_mock.reset()
    audience(httpx_mock)
    token = jwt({**gitlab_claims, "aud": "pypi"})
    httpx_mock.add_response(url=f"{PYPI}/_/oidc/mint-token", method="POST", match_json={"token": token},
                            json={"success": True, "token": MINTED, "expires": 1})  # fmt: skip
    simple(httpx_mock, 200)
    result, masked = run({**env, "PYPI_ID_TOKEN": token})
    assert result.status is ClaimStatus.CLAIMED and masked == [token, MINTED]
    assert "workflow .gitlab-ci.yml" in result.message and "repository group/my-pkg" in result.message


def test_the_service_is_named_by_the_job() -> None:
    assert ci_service(GITHUB_ENV) == "github"
    assert ci_service({"GITLAB_CI": "true", "OTHER": "x"}, "OTHER") == "gitlab"


@pytest.mark.parametrize(
    ("workflow", "environment", "named"),
    [
        ("publish.yml", "pypi", "workflow publish.yml (this job: release.yml)"),
        ("release.yml", "release", "environment release (this job: pypi)"),
    ],
)
def test_a_refusal_names_what_the_known_publisher_expects(httpx_mock, workflow, environment, named) -> None:
    from pypi_trusted_publisher.core.publishers import GitHubPublisher

    audience(httpx_mock)
    github(httpx_mock)
    refused(httpx_mock, ("invalid-publisher", "valid token, but no corresponding publisher"))
    expected = GitHubPublisher(owner="octo-org", repository="my-pkg", workflow_filename=workflow,
                               environment=environment)  # fmt: skip
    result, _ = run(publisher=expected)
    assert result.reason == "invalid-publisher"
    assert named in result.fix, result.fix
    assert f"a job of {workflow} with `environment: {environment}`" in result.fix
    assert_no_token_shown(result)
