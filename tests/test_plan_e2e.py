"""``plan`` and the resumable ``add --config``, run as the installed CLI against both fakes (real HTTP)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import plan_scenario
from fake_github import FakeGitHub
from fake_warehouse import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, FakePublisher, FakeWarehouse
from plan_scenario import EXPECTED, OWNER, READY, clone, repository_files
from pypi_trusted_publisher.core.models import Target
from pypi_trusted_publisher.core.publishers import GitHubPublisher
from pypi_trusted_publisher.inputs.config_file import load_config
from pypi_trusted_publisher.inputs.options import Options, resolve

TOKEN = "ghp_planReadOnlyToken0123456789"


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    fake = FakeGitHub().start()
    yield fake
    fake.stop()


def cli(wh: FakeWarehouse, gh: FakeGitHub, cwd: Path, *args: str, token: str = "", index: bool = True):
    """Run the CLI in ``cwd``; return (exit code, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYPI_", "GITHUB_", "GH_"))}
    env.update(PYPI_USERNAME=DEFAULT_USERNAME, PYPI_PASSWORD=DEFAULT_PASSWORD, PYPI_TOTP_SECRET=DEFAULT_TOTP_SECRET,
               GITHUB_API_URL=gh.url)
    if token:
        env["GITHUB_TOKEN"] = token
    where = ["--index", wh.url] if index else []
    proc = subprocess.run(
        [sys.executable, "-m", "pypi_trusted_publisher", *args, *where, "--timeout", "5"],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def plan_json(wh: FakeWarehouse, gh: FakeGitHub, cwd: Path, *args: str, token: str = "") -> dict:
    code, out, err = cli(wh, gh, cwd, "plan", "--json", *args, token=token)
    assert code == 0, err
    return json.loads(out)


def verdicts(document: dict) -> dict[str, str]:
    return {p["project"]: p["verdict"] for p in document["projects"]}


def another_minute(wh: FakeWarehouse) -> None:
    """Let the next run log in again at once: the last TOTP code and login second are behind us."""
    user = wh.users[DEFAULT_USERNAME]
    user.last_totp_value = None
    user.last_login = None


def publishing_posts(wh: FakeWarehouse) -> int:
    return sum(1 for r in wh.requests if r.method == "POST" and "/publishing/" in r.path)


def logins(wh: FakeWarehouse) -> int:
    return sum(1 for r in wh.requests if r.method == "POST" and r.path == "/account/login/")


def test_account_of_twelve_projects_planned_then_registered_in_two_runs(warehouse, gh, tmp_path):
    plan_scenario.build(warehouse, gh, tmp_path / "checkouts")
    gh.add_token(TOKEN)
    document = plan_json(warehouse, gh, tmp_path, "--checkouts", "checkouts", token=TOKEN)

    assert verdicts(document) == EXPECTED
    assert document["counts"] == {"ready": 6, "registered": 1, "needs-work": 2, "not-owner": 2, "no-repository": 1}
    ready = {p["project"]: p["publisher"] for p in document["projects"] if p["verdict"] == "ready"}
    assert ready == {
        name: {"kind": "github", "owner": OWNER, "repository": repo, "workflow_filename": wf, "environment": env}
        for name, (repo, wf, env) in READY.items()
    }
    by_name = {p["project"]: p for p in document["projects"]}
    assert any("alpha-old to octo-org/alpha" in note for note in by_name["alpha"]["notes"])
    assert by_name["beta"]["source"].startswith("checkout ")
    assert not [r for r in gh.requests if "/beta" in r[1]]  # the clone was read, not the API
    assert "[password-bypass]" in " ".join(by_name["zeta"]["reasons"])
    assert "TWINE_PASSWORD" in " ".join(by_name["eta"]["reasons"])
    assert "no release" in by_name["theta"]["reasons"][0]
    assert by_name["kappa"]["role"] == "Maintainer" and by_name["kappa"]["repository"] is None
    assert logins(warehouse) == 1 and publishing_posts(warehouse) == 0  # one login, nothing posted
    assert document["requests"]["github"] == len(gh.requests)
    assert all(r[2].get("authorization") == f"Bearer {TOKEN}" for r in gh.requests)

    plan = tmp_path / "plan.toml"
    text = plan.read_text()
    assert f"add --config {plan.name} --index {warehouse.url} --resume" in text
    for name, verdict in EXPECTED.items():
        if verdict != "ready":
            assert f"\n# {name}: {verdict}" in text
    # The batch file is exactly what the existing loader reads, and resolves to the ready publishers.
    registrations = [resolve(o).registration for o in load_config(str(plan), Options(index=warehouse.url))]
    assert {(r.project, r.publisher) for r in registrations} == {
        (name, GitHubPublisher(OWNER, repo, wf, env)) for name, (repo, wf, env) in READY.items()
    }
    assert {r.target for r in registrations} == {Target.PROJECT}

    # Run 1: the fake allows 5 registrations a day, so the sixth answers 429 and the run stops there.
    warehouse.registration_limit = 5
    warehouse.registration_retry_after = 7200
    another_minute(warehouse)
    before = len(warehouse.requests)
    code, out, err = cli(warehouse, gh, tmp_path, "add", "--config", "plan.toml", "--resume", "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1, err
    assert [r["status"] for r in lines[:-1]] == ["registered"] * 5 + ["failed"]
    assert lines[-2]["reason"] == "rate-limited"
    summary = lines[-1]
    assert summary["status"] == "incomplete" and (summary["done"], summary["left"]) == (5, 1)
    assert summary["not_before"] is not None
    assert publishing_posts(warehouse) == 6
    state_file = tmp_path / "plan.toml.state.json"
    state = json.loads(state_file.read_text())
    assert [i["status"] for i in state["items"]].count("done") == 5

    # Too early: refused before any request (a login would be spent for nothing).
    another_minute(warehouse)
    before = len(warehouse.requests)
    code, out, err = cli(warehouse, gh, tmp_path, "add", "--config", "plan.toml", "--resume")
    assert code == 1 and "allows more registrations after" in err and "1 left" in out
    assert len(warehouse.requests) == before

    # A day later (the recorded time has passed and PyPI's window moved on): run 2 registers the last one.
    state["not_before"] = "2000-01-01T00:00:00+00:00"
    state_file.write_text(json.dumps(state))
    warehouse.registration_limit = 100
    code, out, err = cli(warehouse, gh, tmp_path, "add", "--config", "plan.toml", "--resume")
    assert code == 0, out + err
    assert "5 of 6 done in earlier runs" in err and "6 of 6 done, 0 failed, 0 left" in out
    assert publishing_posts(warehouse) == 7

    # Exactly the ready publishers were added; the rest is untouched.
    added = {
        name: [r.publisher for r in project.publishers]
        for name, project in warehouse.projects.items()
    }
    for name, (repo, wf, env) in READY.items():
        assert FakePublisher.github(OWNER, repo, wf, env) in added[name]
    assert added["gamma"] == [FakePublisher.github(OWNER, "gamma", "release.yml", "pypi")]
    assert len(added["delta"]) == 2 and len(added["epsilon"]) == 2
    for name in ("zeta", "eta", "theta", "kappa", "lambda"):
        assert added[name] == []
    for secret in (DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, TOKEN):
        assert secret not in text + state_file.read_text() + out + err
    assert warehouse.errors == []


def test_text_table_counts_then_rows(warehouse, gh, tmp_path):
    plan_scenario.build(warehouse, gh, tmp_path / "checkouts")
    code, out, err = cli(warehouse, gh, tmp_path, "plan", "--checkouts", "checkouts", "--output", "out.toml")
    assert code == 0, err
    first, _, header, *rows = out.splitlines()
    assert first.endswith("6 ready, 1 registered, 2 needs-work, 2 not-owner, 1 no-repository")
    assert header.split()[:4] == ["project", "role", "verdict", "repository"]
    assert [row.split()[0] for row in rows[:12]] == sorted(EXPECTED)
    assert "GitHub API:" in out and "anonymously" in out and "of 60 left" in out
    assert (tmp_path / "out.toml").exists()


def test_github_rate_limit_stops_asking_and_marks_the_rest(warehouse, gh, tmp_path):
    upload = f"{warehouse.url}/legacy/"
    for name in ("one", "two", "three"):
        warehouse.add_project(name, owners=[DEFAULT_USERNAME], has_releases=True,
                              project_urls={"Source": f"https://github.com/{OWNER}/{name}"})
        gh.add_repo(f"{OWNER}/{name}", private=False, files=repository_files(upload, name))
    warehouse.github_owners = {OWNER: 1001}
    gh.anonymous_rate_limit = 5  # exactly what reading the first repository takes
    document = plan_json(warehouse, gh, tmp_path)
    assert verdicts(document) == {"one": "ready", "three": "needs-work", "two": "needs-work"}
    for name in ("three", "two"):
        (reason,) = next(p for p in document["projects"] if p["project"] == name)["reasons"]
        assert "rate limit is spent (it resets at" in reason and "GITHUB_TOKEN" in reason
    assert len(gh.requests) == 5  # nothing asked once the budget was spent
    assert document["github_rate_limit"]["remaining"] == 0 and document["github_rate_limit"]["reset"]
    assert (tmp_path / "plan.toml").read_text().count("[[publisher]]") == 1


def test_faults_each_get_a_verdict_and_the_plan_is_still_written(warehouse, gh, tmp_path):
    upload = f"{warehouse.url}/legacy/"
    warehouse.github_owners = {OWNER: 1001}
    projects = {
        "private-one": {"Source": f"https://github.com/{OWNER}/private-one"},
        "owner-page": {"Homepage": f"https://github.com/{OWNER}"},
        "elsewhere": {"Homepage": "https://example.org/elsewhere", "Docs": "https://docs.example.org"},
        "on-gitlab": {"Source": "https://gitlab.com/octo-group/sub/on-gitlab/-/tree/main"},
        "not-a-clone": {"Source": f"https://github.com/{OWNER}/not-a-clone"},
        "no-urls": {},
        "any-env": {"Source": f"https://github.com/{OWNER}/any-env"},
    }
    for name, urls in projects.items():
        warehouse.add_project(name, owners=[DEFAULT_USERNAME], has_releases=True, project_urls=urls)
    gh.add_repo(f"{OWNER}/private-one", private=True, files=repository_files(upload, "private-one"))
    gh.add_repo(f"{OWNER}/not-a-clone", private=False, files=repository_files(upload, "not-a-clone"))
    no_environment = repository_files(upload, "any-env")
    no_environment[".github/workflows/release.yml"] = no_environment[".github/workflows/release.yml"].replace(
        "    environment:\n      name: pypi\n      url: https://pypi.org/p/any-env\n", "")
    gh.add_repo(f"{OWNER}/any-env", private=False, files=no_environment)
    checkouts = tmp_path / "checkouts"
    (checkouts / "not-a-clone" / ".github").mkdir(parents=True)  # a folder named like it, but no .git
    document = plan_json(warehouse, gh, tmp_path, "--checkouts", str(checkouts))

    assert verdicts(document) == {
        "any-env": "ready",
        "elsewhere": "no-repository", "no-urls": "no-repository", "not-a-clone": "ready",
        "on-gitlab": "needs-work", "owner-page": "no-repository", "private-one": "needs-work",
    }
    reasons = {p["project"]: " ".join(p["reasons"] + p["notes"]) for p in document["projects"]}
    assert "private, deleted or misspelled" in reasons["private-one"] and "[repository-unreachable]" in reasons[
        "private-one"]
    assert f"https://github.com/{OWNER}, which is not a repository" in reasons["owner-page"]
    assert "example.org" in reasons["elsewhere"] and "no GitHub or GitLab repository" in reasons["elsewhere"]
    assert "lists no project URLs" in reasons["no-urls"]
    assert "gitlab.com/octo-group/sub/on-gitlab is read from a checkout only" in reasons["on-gitlab"]
    assert "not-a-clone is not a git checkout" in reasons["not-a-clone"]
    text = (tmp_path / "plan.toml").read_text()
    assert "# private-one: needs-work (github.com/octo-org/private-one)" in text
    # A job without an environment: the publisher accepts any, so it matches the workflow as it is.
    (any_env,) = [p for p in document["projects"] if p["project"] == "any-env"]
    assert any_env["publisher"]["environment"] == ""


def test_gitlab_project_from_a_checkout(warehouse, gh, tmp_path):
    warehouse.add_project("lab-pkg", owners=[DEFAULT_USERNAME], has_releases=True,
                          project_urls={"Source": "https://gitlab.com/octo-group/lab-pkg"})
    pipeline = f"""publish:
  image: python:3.12
  environment: pypi
  id_tokens:
    PYPI_ID_TOKEN:
      aud: pypi
  script:
    - uv publish --publish-url {warehouse.url}/legacy/
"""
    clone(tmp_path / "src" / "lab-pkg", "https://gitlab.com/octo-group/lab-pkg.git", {".gitlab-ci.yml": pipeline})
    document = plan_json(warehouse, gh, tmp_path, "--checkouts", "src")
    (project,) = document["projects"]
    assert project["verdict"] == "ready", project
    assert project["publisher"] == {"kind": "gitlab", "namespace": "octo-group", "project": "lab-pkg",
                                    "workflow_filepath": ".gitlab-ci.yml", "environment": "pypi",
                                    "issuer_url": "https://gitlab.com"}
    (options,) = load_config(str(tmp_path / "plan.toml"), Options(index=warehouse.url))
    assert resolve(options).registration.publisher.project == "lab-pkg"
    assert gh.requests == []


def test_organization_projects_the_user_can_manage(warehouse, gh, tmp_path):
    upload = f"{warehouse.url}/legacy/"
    warehouse.github_owners = {OWNER: 1001}
    warehouse.add_organization("Octo-Org", owners=["boss"], members=[DEFAULT_USERNAME])
    for name, owners in (("org-mine", [DEFAULT_USERNAME]), ("org-theirs", ["boss"])):
        warehouse.add_project(name, owners=owners, has_releases=True, organization="Octo-Org",
                              project_urls={"Source": f"https://github.com/{OWNER}/{name}"})
        gh.add_repo(f"{OWNER}/{name}", private=False, files=repository_files(upload, name))
    warehouse.add_project("personal", owners=[DEFAULT_USERNAME], has_releases=True)
    document = plan_json(warehouse, gh, tmp_path, "--organization", "octo-org")
    assert document["organization"] == "octo-org"
    assert verdicts(document) == {"org-mine": "ready", "org-theirs": "not-owner"}
    roles = {p["project"]: (p["role"], p["organization"]) for p in document["projects"]}
    assert roles == {"org-mine": ("Owner", "Octo-Org"), "org-theirs": ("Member", "Octo-Org")}
    assert "of the organization octo-org" in (tmp_path / "plan.toml").read_text()

    another_minute(warehouse)
    code, _out, err = cli(warehouse, gh, tmp_path, "plan", "--organization", "nowhere", "--output", "x.toml")
    assert code == 1 and "no organization 'nowhere'" in err and not (tmp_path / "x.toml").exists()


def test_bad_input_before_any_request(warehouse, gh, tmp_path):
    code, _, err = cli(warehouse, gh, tmp_path, "plan", "--checkouts", "missing")
    assert code == 2 and "--checkouts missing: not a folder" in err
    code, _, err = cli(warehouse, gh, tmp_path, "plan", "--output", "no/such/folder/plan.toml")
    assert code == 2 and "does not exist" in err
    code, _, err = cli(warehouse, gh, tmp_path, "plan", "--index", "http://pypi.example.org", index=False)
    assert code == 2 and "https" in err
    assert warehouse.requests == [] and gh.requests == []


def test_login_failure_writes_no_plan(warehouse, gh, tmp_path):
    warehouse.users[DEFAULT_USERNAME].password = "another-password"
    code, out, _err = cli(warehouse, gh, tmp_path, "plan", "--json")
    assert code == 1 and json.loads(out)["reason"] == "wrong-password"
    assert not (tmp_path / "plan.toml").exists()


def test_progress_of_another_plan_or_index_is_refused(warehouse, gh, tmp_path):
    (tmp_path / "plan.toml").write_text(
        '[[publisher]]\nproject = "my-pkg"\nexisting = true\nowner = "octo-org"\nrepository = "my-pkg"\n'
        'workflow = "release.yml"\nenvironment = "pypi"\n'
    )
    # No credentials: every registration fails before any request, and the progress is recorded.
    code, _, err = cli(warehouse, gh, tmp_path, "add", "--config", "plan.toml", "--resume", "--method", "link")
    assert code == 1 and (tmp_path / "plan.toml.state.json").exists()
    code, _, err = cli(warehouse, gh, tmp_path, "add", "--config", "plan.toml", "--resume", "--method", "link",
                       "--index", "testpypi", index=False)
    assert code == 2 and len(err.strip().splitlines()) == 1 and f"belongs to {warehouse.url}, not" in err
    with (tmp_path / "plan.toml").open("a") as plan:
        plan.write('\n[[publisher]]\nproject = "other"\nexisting = true\nowner = "o"\nrepository = "r"\n')
    code, _, err = cli(warehouse, gh, tmp_path, "add", "--config", "plan.toml", "--resume", "--method", "link")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "belongs to another plan" in err
    assert warehouse.requests == []


def test_a_new_plan_replaces_the_old_progress(warehouse, gh, tmp_path):
    (tmp_path / "plan.toml.state.json").write_text("{}")
    code, _, err = cli(warehouse, gh, tmp_path, "plan")
    assert code == 0 and "Removed plan.toml.state.json" in err
    assert not (tmp_path / "plan.toml.state.json").exists()
