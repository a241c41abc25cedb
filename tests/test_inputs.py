"""Defaults from the repository context, and the Options → Registration step."""

from __future__ import annotations

import subprocess

import pytest

from pypi_trusted_publisher.core.errors import UsageError
from pypi_trusted_publisher.core.indexes import resolve_index
from pypi_trusted_publisher.core.models import Target
from pypi_trusted_publisher.core.publishers import GitHubPublisher, GitLabPublisher
from pypi_trusted_publisher.inputs.context import RepoContext, parse_remote
from pypi_trusted_publisher.inputs.options import Options, resolve


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/octo/my-pkg.git",
        "https://github.com/octo/my-pkg",
        "https://user@github.com/octo/my-pkg/",
        "git@github.com:octo/my-pkg.git",
        "ssh://git@github.com/octo/my-pkg.git",
    ],
)
def test_remote_forms(url):
    assert parse_remote(url) == ("octo", "my-pkg")


def test_remote_garbage():
    assert parse_remote("/srv/git/repo") is None


@pytest.mark.parametrize(
    "url", ["https://gitlab.com/grp/proj.git", "git@gitlab.com:grp/proj.git", "ssh://git@github.example.com/o/r"]
)
def test_only_github_remotes_name_a_github_owner(url):
    assert parse_remote(url) is None


def test_github_ssh_over_https_port():
    assert parse_remote("ssh://git@ssh.github.com:443/octo/my-pkg.git") == ("octo", "my-pkg")


def git_checkout(path, remote=None):
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    if remote:
        subprocess.run(["git", "-C", str(path), "remote", "add", "origin", remote], check=True)
    return path


@pytest.mark.parametrize(
    ("remote", "said"),
    [
        ("https://ci-bot:glpat-s3cret@gitlab.com/grp/proj.git",
         "the git remote 'origin' is https://gitlab.com/grp/proj.git, not a github.com repository"),
        (None, "there is no git remote 'origin' in"),
    ],
)
def test_an_owner_that_cannot_be_derived_says_where_it_looked(tmp_path, remote, said):
    with pytest.raises(UsageError) as err:
        resolve(Options(project="x"), RepoContext(cwd=git_checkout(tmp_path, remote), env={}))
    assert err.value.field == "owner" and "Specify GitHub repository owner" in err.value.message
    assert said in err.value.message and "--owner" in err.value.message
    assert "s3cret" not in err.value.message and "ci-bot" not in err.value.message


def test_an_owner_missing_in_actions_names_the_variable(tmp_path):
    with pytest.raises(UsageError) as err:
        resolve(Options(project="x", owner="o"), RepoContext(cwd=tmp_path, env={"GITHUB_ACTIONS": "true"}))
    assert err.value.field == "repository" and "GITHUB_REPOSITORY is not set" in err.value.message


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "My_Pkg"\n')
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text("on: push\n")
    (workflows / "publish.yml").write_text("steps:\n  - uses: pypa/gh-action-pypi-publish@release/v1\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(
        ["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:octo/my-pkg.git"], check=True
    )
    return tmp_path


def test_defaults_outside_actions(repo):
    resolved = resolve(Options(), RepoContext(cwd=repo, env={}))
    reg = resolved.registration
    assert reg.project == "My_Pkg" and reg.normalized_project == "my-pkg"
    assert reg.publisher == GitHubPublisher("octo", "my-pkg", "publish.yml", "pypi")
    sources = {d.field: d.source for d in resolved.defaults}
    assert sources == {
        "project": "pyproject.toml [project].name",
        "owner": "git remote origin",
        "repository": "git remote origin",
        "workflow": "the workflow that uses pypa/gh-action-pypi-publish",
        "environment": "index default",
    }
    assert resolved.warnings == []


def test_github_actions_variables_win(repo):
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "Octo-Org/My-Pkg",
        "GITHUB_REPOSITORY_OWNER": "Octo-Org",
        "GITHUB_WORKFLOW_REF": "Octo-Org/My-Pkg/.github/workflows/bootstrap.yml@refs/heads/main",
    }
    (repo / ".github" / "workflows" / "publish.yml").unlink()
    resolved = resolve(Options(index="testpypi"), RepoContext(cwd=repo, env=env))
    assert resolved.registration.publisher == GitHubPublisher("Octo-Org", "My-Pkg", "bootstrap.yml", "testpypi")
    assert "bootstrap" in resolved.warnings[0] or "workflow running now" in resolved.warnings[0]


def test_explicit_values_and_empty_environment(tmp_path):
    opts = Options(project="x", owner="o", repository="r", workflow="w.yml", environment="")
    resolved = resolve(opts, RepoContext(cwd=tmp_path, env={}))
    assert resolved.registration.publisher.environment == ""
    assert resolved.defaults == []


@pytest.mark.parametrize("provider", ["github", "gitlab"])
@pytest.mark.parametrize("value", ["*", " * "])
def test_star_means_any_environment_everywhere(tmp_path, provider, value):
    opts = Options(provider=provider, project="x", owner="o", repository="r", namespace="grp",
                   gitlab_project="proj", environment=value)
    assert resolve(opts, RepoContext(cwd=tmp_path, env={})).registration.publisher.environment == ""


def test_gitlab_defaults(tmp_path):
    opts = Options(provider="gitlab", project="x", namespace="grp", gitlab_project="proj")
    reg = resolve(opts, RepoContext(cwd=tmp_path, env={})).registration
    assert reg.publisher == GitLabPublisher("grp", "proj", ".gitlab-ci.yml", "pypi", "https://gitlab.com")


def test_organization_means_pending_and_not_existing(tmp_path):
    opts = Options(project="x", owner="o", repository="r", organization="octo-org")
    assert resolve(opts, RepoContext(cwd=tmp_path, env={})).registration.target is Target.PENDING
    with pytest.raises(UsageError, match="cannot go with --existing"):
        resolve(
            Options(project="x", owner="o", repository="r", organization="o", target=Target.PROJECT),
            RepoContext(cwd=tmp_path, env={}),
        )


def test_missing_everything_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="Specify project name"):
        resolve(Options(owner="o", repository="r"), RepoContext(cwd=tmp_path, env={}))
    with pytest.raises(UsageError, match="Specify GitHub repository owner"):
        resolve(Options(project="x"), RepoContext(cwd=tmp_path, env={}))


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("pypi", "https://pypi.org"),
        ("TestPyPI", "https://test.pypi.org"),
        ("https://test.pypi.org/", "https://test.pypi.org"),
        ("https://warehouse.example.org/", "https://warehouse.example.org"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://localhost:9", "http://localhost:9"),
        ("http://[::1]:9", "http://[::1]:9"),
    ],
)
def test_index_resolution(value, url):
    assert resolve_index(value).url == url


@pytest.mark.parametrize(
    "value", ["http://pypi.org", "http://10.0.0.1", "ftp://x", "https://u:p@pypi.org", "nonsense"]
)
def test_index_refused(value):
    with pytest.raises(UsageError):
        resolve_index(value)


@pytest.mark.parametrize("value", ["htps://u:s3cret@pypi.org", "http://u:s3cret@10.0.0.1", "https://:s3cret@x.org"])
def test_index_errors_never_quote_a_password(value):
    with pytest.raises(UsageError) as caught:
        resolve_index(value)
    assert "s3cret" not in caught.value.message and caught.value.field == "index"


TWO_INDEXES = """\
jobs:
  build:
    runs-on: ubuntu-latest
  to-testpypi:
    environment:
      name: staging
      url: https://test.pypi.org/p/my-pkg
    steps:
      - uses: pypa/gh-action-pypi-publish@release/v1
        with:
          repository-url: https://test.pypi.org/legacy/
  to-pypi:
    environment: release
    steps:
      - uses: pypa/gh-action-pypi-publish@release/v1
"""


@pytest.mark.parametrize(("index", "environment"), [("pypi", "release"), ("testpypi", "staging")])
def test_environment_defaults_to_the_publishing_job(repo, index, environment):
    (repo / ".github" / "workflows" / "publish.yml").write_text(TWO_INDEXES)
    resolved = resolve(Options(index=index), RepoContext(cwd=repo, env={}))
    assert resolved.registration.publisher.environment == environment
    source = {d.field: d.source for d in resolved.defaults}["environment"]
    assert source == f"job 'to-{index}' in publish.yml"


def test_environment_expression_falls_back_to_the_index_default(repo):
    (repo / ".github" / "workflows" / "publish.yml").write_text(
        "jobs:\n  p:\n    environment: ${{ inputs.env }}\n    steps:\n"
        "      - uses: pypa/gh-action-pypi-publish@release/v1\n"
    )
    resolved = resolve(Options(), RepoContext(cwd=repo, env={}))
    assert resolved.registration.publisher.environment == "pypi"
