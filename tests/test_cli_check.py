"""The `check` command and the check that follows `add`, on a real checkout."""

from __future__ import annotations

import subprocess
import textwrap

import pytest

from fake_warehouse import DEFAULT_USERNAME, FakePublisher
from test_cli_e2e import GH, run
from test_preflight import CANONICAL_JOB


@pytest.fixture
def checkout(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "my-pkg"\n')
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "release.yml").write_text(textwrap.dedent(CANONICAL_JOB))
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:octo-org/my-pkg.git"],
                   check=True)
    return tmp_path


def test_clean_checkout_has_no_findings(checkout):
    code, [report], _ = run(None, "check", cwd=checkout)
    assert code == 0 and report["findings"] == []


def test_findings_fail_the_check(checkout):
    code, [report], _ = run(None, "check", "--environment", "release", cwd=checkout)
    assert code == 1
    (finding,) = report["findings"]
    assert finding["code"] == "environment-mismatch" and finding["file"] == ".github/workflows/release.yml"
    assert finding["line"] == 7


def test_add_runs_the_check_afterwards(warehouse, checkout):
    warehouse.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    warehouse.github_owners = {"octo-org": 1}
    code, [result], _ = run(warehouse, "add", *GH[:-2], "--environment", "release", cwd=checkout)
    assert code == 0 and result["status"] == "registered"
    # The fake index is not pypi.org, where the workflow uploads: that is reported too.
    assert sorted(f["code"] for f in result["check"]["findings"]) == ["environment-mismatch", "wrong-index"]
    code, [result], _ = run(warehouse, "add", "--dry-run", "--no-check", *GH, cwd=checkout)
    assert "check" not in result


def test_check_listed_publishers(warehouse, checkout):
    warehouse.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    warehouse.add_publisher("my-pkg", FakePublisher.github("octo-org", "my-pkg", "publish.yml", "pypi"))
    code, [report], _ = run(warehouse, "check", "--listed", cwd=checkout)
    assert code == 1 and report["findings"][0]["code"] == "workflow-not-found"


def test_the_check_names_the_normalised_project(checkout):
    code, [result], _ = run(None, "add", "--dry-run", "--project", "My_Pkg", *GH, cwd=checkout)
    assert code == 0 and result["project"] == "my-pkg"
    assert result["check"]["checked"][0].endswith("for project my-pkg")


def test_listed_findings_say_which_publisher(warehouse, checkout):
    warehouse.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    for workflow in ("publish.yml", "other.yml"):
        warehouse.add_publisher("my-pkg", FakePublisher.github("octo-org", "my-pkg", workflow, "pypi"))
    code, [report], _ = run(warehouse, "check", "--listed", cwd=checkout)
    assert code == 1
    missing = [f for f in report["findings"] if f["code"] == "workflow-not-found"]
    assert len(missing) == 2
    assert sorted(f["subject"] for f in missing) == sorted(report["checked"])
    assert all(f["message"].split("'")[1] in f["subject"] for f in missing)
