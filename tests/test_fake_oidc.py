"""The fake OIDC issuer and the fake Warehouse's token exchange keep Warehouse's rules.

They are the oracle for ``claim`` (tests/test_claim_e2e.py), so each rule the client relies on is pinned
here over raw HTTP, without the client: docs/protocol/publish-time.md#mint-token and #pending-claim.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from clocks import Clock
from fake_oidc import FakeOIDC, SigningKey, gitlab_claims
from fake_warehouse import DEFAULT_USERNAME, FakePublisher, FakeWarehouse

PUBLISHER = FakePublisher.github("octo-org", "my-pkg", "release.yml", "pypi")


@pytest.fixture
def pair() -> Iterator[tuple[FakeWarehouse, FakeOIDC]]:
    clock = Clock()
    with FakeWarehouse() as wh, FakeOIDC(clock=clock) as idp:
        wh.clock = clock
        wh.add_default_user()
        wh.github_owners = {"octo-org": 1001}
        wh.oidc_issuers = idp.discovery()
        idp.job_claims = {**idp.job_claims, "environment": "pypi"}
        yield wh, idp


def mint(wh: FakeWarehouse, token: Any) -> tuple[int, dict[str, Any]]:
    response = httpx.post(f"{wh.url}/_/oidc/mint-token", json={"token": token})
    return response.status_code, response.json()


def code_of(answer: dict[str, Any]) -> tuple[str, str]:
    error = answer["errors"][0]
    return error["code"], error["description"]


def test_the_audience_and_its_switch(pair) -> None:
    wh, _ = pair
    assert httpx.get(f"{wh.url}/_/oidc/audience").json() == {"audience": "pypi"}
    wh.oidc_disabled = True
    answer = httpx.get(f"{wh.url}/_/oidc/audience")
    assert answer.status_code == 403 and "not enabled" in answer.json()["message"]


def test_the_runtime_endpoint_needs_its_bearer_and_signs_for_the_audience(pair) -> None:
    _, idp = pair
    env = idp.actions_env()
    url = f"{env['ACTIONS_ID_TOKEN_REQUEST_URL']}&audience=testpypi"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "bearer wrong"}).status_code == 401
    value = httpx.get(url, headers={"Authorization": f"bearer {env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"}).json()["value"]
    keys = httpx.get(f"{idp.url}/.well-known/jwks").json()["keys"]
    key = jwt.PyJWK(next(k for k in keys if k["kid"] == jwt.get_unverified_header(value)["kid"]))
    claims = jwt.decode(
        value,
        key.key,
        algorithms=["RS256"],
        audience="testpypi",
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert claims["job_workflow_ref"].startswith("octo-org/my-pkg/.github/workflows/release.yml@")


def test_a_normal_publisher_gets_a_fifteen_minute_token_for_its_project_only(pair) -> None:
    wh, idp = pair
    wh.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    wh.add_project("other", owners=[DEFAULT_USERNAME])
    wh.add_publisher("my-pkg", PUBLISHER)
    status, answer = mint(wh, idp.github_token())
    assert status == 200 and answer["success"] is True
    minted = wh.minted_token(answer["token"])
    assert minted is not None and minted.expires - minted.not_before == 900
    assert minted.valid_for("My_Pkg", wh.clock()) and not minted.valid_for("other", wh.clock())
    assert not minted.valid_for("my-pkg", wh.clock() + 900)


def test_a_token_is_exchanged_once(pair) -> None:
    wh, idp = pair
    wh.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    wh.add_publisher("my-pkg", PUBLISHER)
    token = idp.github_token()
    assert mint(wh, token)[0] == 200
    status, answer = mint(wh, token)
    assert status == 422 and code_of(answer) == ("invalid-reuse-token", "invalid token: already used")


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda idp: idp.github_token(key=SigningKey.named("intruder")), "invalid-token"),
        (lambda idp: idp.github_token(audience="testpypi"), "invalid-token"),
        (lambda idp: idp.github_token(iss="https://issuer.example"), "invalid-payload"),
        (lambda idp: "not.a.jwt", "invalid-payload"),
        (lambda idp: 42, "invalid-payload"),
    ],
)
def test_what_the_signature_and_payload_checks_refuse(pair, make, code) -> None:
    wh, idp = pair
    wh.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    wh.add_publisher("my-pkg", PUBLISHER)
    status, answer = mint(wh, make(idp))
    assert status == 422 and code_of(answer)[0] == code
    assert wh.minted == []


def test_expiry_has_thirty_seconds_of_leeway(pair) -> None:
    wh, idp = pair
    wh.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    wh.add_publisher("my-pkg", PUBLISHER)
    now = int(wh.clock())
    assert mint(wh, idp.github_token(exp=now - 20))[0] == 200
    status, answer = mint(wh, idp.github_token(exp=now - 40))
    assert status == 422 and code_of(answer)[0] == "invalid-token"
    status, answer = mint(wh, idp.github_token(nbf=now + 60))
    assert status == 422 and code_of(answer)[0] == "invalid-token"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"environment": "release"}, "Publisher with matching claims was not found"),
        ({"environment": None}, "Publisher with matching claims was not found"),
        ({"job_workflow_ref": "octo-org/my-pkg/.github/workflows/ci.yml@refs/heads/main"},
         "Publisher with matching claims was not found"),
        ({"repository_owner_id": "999"}, "Publisher with matching claims was not found"),
        ({"event_name": "pull_request_target"}, "'pull_request_target' is not supported"),
    ],
)  # fmt: skip
def test_claims_that_do_not_match_the_publisher(pair, changes, reason) -> None:
    wh, idp = pair
    wh.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    wh.add_publisher("my-pkg", PUBLISHER)
    status, answer = mint(wh, idp.github_token(**changes))
    code, description = code_of(answer)
    assert status == 422 and code == "invalid-publisher" and reason in description
    assert description.startswith("valid token, but no corresponding publisher (")


def test_environment_letter_case_is_folded_on_github(pair) -> None:
    wh, idp = pair
    wh.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    wh.add_publisher("my-pkg", PUBLISHER)
    assert mint(wh, idp.github_token(environment="PyPI"))[0] == 200


def test_a_pending_publisher_creates_its_project_owned_by_the_registrant(pair) -> None:
    wh, idp = pair
    wh.add_pending_publisher("My.Pkg", PUBLISHER, added_by=DEFAULT_USERNAME)
    status, answer = mint(wh, idp.github_token())
    assert status == 200
    project = wh.projects["My.Pkg"]
    assert project.owners == [DEFAULT_USERNAME] and not project.has_releases
    assert [p.publisher for p in project.publishers] == [PUBLISHER] and wh.pending_publishers == []
    assert wh.exchanges[-1].project_created == "My.Pkg" and wh.exchanges[-1].owner == DEFAULT_USERNAME
    assert any("Trusted publisher created project My.Pkg" in mail.subject for mail in wh.outbox)
    assert wh.minted_token(answer["token"]).valid_for("my-pkg", wh.clock())  # type: ignore[union-attr]
    # The next exchange finds a normal publisher, and creates nothing.
    assert mint(wh, idp.github_token())[0] == 200
    assert wh.exchanges[-1].project_created is None


def test_an_organization_pending_publisher_gives_the_project_to_the_organization(pair) -> None:
    wh, idp = pair
    wh.add_organization("octo", owners=[DEFAULT_USERNAME])
    wh.add_pending_publisher("my-pkg", PUBLISHER, added_by=DEFAULT_USERNAME, organization="octo")
    assert mint(wh, idp.github_token())[0] == 200
    project = wh.projects["my-pkg"]
    assert project.organization == "octo" and project.owners == []


def test_a_name_taken_before_the_claim_kills_the_pending_publisher(pair) -> None:
    wh, idp = pair
    wh.add_pending_publisher("my-pkg", PUBLISHER, added_by=DEFAULT_USERNAME)
    wh.add_project("My_Pkg", owners=["somebody-else"])
    status, answer = mint(wh, idp.github_token())
    assert status == 422
    assert code_of(answer) == ("invalid-pending-publisher", "valid token, but project already exists")
    assert wh.pending_publishers == [] and wh.projects["My_Pkg"].owners == ["somebody-else"]


def test_new_project_registration_disabled_is_an_invalid_payload(pair) -> None:
    wh, idp = pair
    wh.disallow_new_project_registration = True
    wh.add_pending_publisher("my-pkg", PUBLISHER, added_by=DEFAULT_USERNAME)
    status, answer = mint(wh, idp.github_token())
    code, description = code_of(answer)
    assert status == 422 and code == "invalid-payload" and description.startswith("New project registration")
    assert "my-pkg" not in wh.projects


def test_a_gitlab_token_matches_a_gitlab_publisher(pair) -> None:
    wh, idp = pair
    wh.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    wh.add_publisher("my-pkg", FakePublisher.gitlab("octo-group", "my-pkg", ".gitlab-ci.yml", "pypi"))
    token = idp.gitlab_token(claims=gitlab_claims(environment="pypi"))
    assert mint(wh, token)[0] == 200
    status, answer = mint(wh, idp.gitlab_token(claims=gitlab_claims(environment="PyPI")))
    assert status == 422 and code_of(answer)[0] == "invalid-publisher"  # GitLab compares environments exactly


def test_an_injected_fault_answers_once(pair) -> None:
    wh, idp = pair
    wh.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    wh.add_publisher("my-pkg", PUBLISHER)
    wh.fail_mint_token(status=503)
    assert httpx.post(f"{wh.url}/_/oidc/mint-token", json={"token": idp.github_token()}).status_code == 503
    assert mint(wh, idp.github_token())[0] == 200
