"""``check`` warns about a claim step where PyPI will not match its token (preflight/claim_jobs.py)."""

from __future__ import annotations

import pytest

from test_preflight import CANONICAL_JOB, check, found, gh, workflow

BOOTSTRAP = CANONICAL_JOB.rstrip(" ") + """\
      claim:
        runs-on: ubuntu-latest
        environment: {environment}
        permissions:
          {permissions}
        steps:
          - uses: octo/pypi-trusted-publisher-action@0123456789abcdef0123456789abcdef01234567
            with:
              mode: claim
    """


def test_a_claim_in_the_registered_workflow_and_environment_is_clean(tmp_path) -> None:
    repo = workflow(tmp_path, BOOTSTRAP.format(environment="pypi", permissions="id-token: write"))
    (repo / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    assert check(repo).findings == []


@pytest.mark.parametrize(
    ("environment", "permissions", "code"),
    [
        ("Other", "id-token: write", "claim-environment"),
        ("pypi", "contents: read", "claim-without-id-token"),
    ],
)
def test_a_claim_job_that_pypi_would_refuse(tmp_path, environment, permissions, code) -> None:
    repo = workflow(tmp_path, BOOTSTRAP.format(environment=environment, permissions=permissions))
    report = check(repo)
    assert ("warning", code, ".github/workflows/release.yml", 19) in found(report)


def test_a_claim_in_another_workflow_is_named(tmp_path) -> None:
    workflow(tmp_path, CANONICAL_JOB)
    workflow(tmp_path, """\
        on: workflow_dispatch
        jobs:
          bootstrap:
            runs-on: ubuntu-latest
            environment: pypi
            permissions:
              id-token: write
            steps:
              - run: pipx run pypi-trusted-publisher  claim --index pypi
        """, name="bootstrap.yml")  # fmt: skip
    report = check(tmp_path)
    [finding] = [f for f in report.findings if f.code == "claim-elsewhere"]
    assert finding.file == ".github/workflows/bootstrap.yml" and finding.line == 9
    assert "registered for release.yml" in finding.message and "workflow_dispatch" in finding.fix


def test_steps_that_do_not_claim_are_not_checked(tmp_path) -> None:
    workflow(tmp_path, CANONICAL_JOB)
    workflow(tmp_path, """\
        on: workflow_dispatch
        jobs:
          register:
            runs-on: ubuntu-latest
            steps:
              - uses: octo/pypi-trusted-publisher-action@v1
                with:
                  claim: "false"
              - run: echo pypi-trusted-publisher add
        """, name="bootstrap.yml")  # fmt: skip
    assert [f for f in check(tmp_path).findings if f.code.startswith("claim")] == []


def test_a_claim_on_another_index_belongs_to_that_index_publisher(tmp_path) -> None:
    text = BOOTSTRAP.format(environment="testpypi", permissions="id-token: write").replace(
        "mode: claim", "mode: claim\n              index: testpypi"
    )
    repo = workflow(tmp_path, text)
    assert [f.code for f in check(repo).findings if f.code.startswith("claim")] == []
    assert [f.code for f in check(repo, gh(environment="testpypi"), index="testpypi").findings
            if f.code.startswith("claim")] == []  # fmt: skip
    assert "claim-environment" in [f.code for f in check(repo, gh(environment="other"), index="testpypi").findings]
