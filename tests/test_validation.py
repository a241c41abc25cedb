"""Local validation mirrors Warehouse's rules and messages (docs/protocol/validation.md)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pypi_trusted_publisher.core.errors import UsageError
from pypi_trusted_publisher.core.publishers import (
    ActiveStatePublisher,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
)
from pypi_trusted_publisher.core.validation import (
    GITHUB_OWNER_RE,
    PROJECT_NAME_RE,
    validate_project_name,
    validate_publisher,
)


def gh(owner="octo", repository="repo", workflow="release.yml", environment="pypi"):
    return GitHubPublisher(owner, repository, workflow, environment)


@pytest.mark.parametrize(
    ("publisher", "message"),
    [
        (gh(owner=""), "Specify GitHub repository owner (username or organization)"),
        (gh(owner="-octo"), "Invalid GitHub user or organization name."),
        (gh(owner="oc_to"), "Invalid GitHub user or organization name."),
        (gh(owner="осто"), "Invalid GitHub user or organization name."),  # Cyrillic look-alikes
        (gh(repository=""), "Specify repository name"),
        (gh(repository="my repo"), "Invalid repository name"),
        (gh(repository="repo\n"), "Invalid repository name"),
        (gh(owner="octo\n"), "Invalid GitHub user or organization name."),
        (gh(workflow="  "), "Specify workflow filename"),
        (gh(workflow="release.txt"), "Workflow name must end with .yml or .yaml"),
        (gh(workflow=".github/workflows/release.yml"),
         "Workflow filename must be a filename only, without directories"),
        (gh(environment="x" * 256), "Environment name is too long (maximum is 255 characters)"),
        (gh(environment=" pypi"), "Environment name may not start with whitespace"),
        (gh(environment="pypi "), "Environment name may not end with whitespace"),
        (gh(environment="py;pi"), "Environment name must not contain non-printable characters"),
        (gh(environment="py\x07pi"), "Environment name must not contain non-printable characters"),
    ],
)
def test_github_rules(publisher, message):
    with pytest.raises(UsageError) as err:
        validate_publisher(publisher)
    assert message in err.value.message


def test_github_normalisation():
    out = validate_publisher(gh(workflow=" release.yaml ", environment="PyPI"))
    assert out == GitHubPublisher("octo", "repo", "release.yaml", "pypi")
    assert validate_publisher(gh(environment="")).environment == ""


@pytest.mark.parametrize(
    ("publisher", "message"),
    [
        (GitLabPublisher("", "p", ".gitlab-ci.yml"), "Specify GitLab namespace"),
        (GitLabPublisher("a", "proj", ".gitlab-ci.yml"), "Invalid GitLab username or group/subgroup name."),
        (GitLabPublisher("gr--oup", "proj", ".gitlab-ci.yml"), "Invalid GitLab username"),
        (GitLabPublisher("group.git", "proj", ".gitlab-ci.yml"), "Name ends with .git or .atom"),
        (GitLabPublisher("group", "pr__oj", ".gitlab-ci.yml"), "Invalid project name"),
        (GitLabPublisher("group", "proj", "ci.txt"), "must end with .yml or .yaml"),
        (GitLabPublisher("group", "proj", "/ci.yml"), "cannot start or end with /"),
        (GitLabPublisher("group", "proj", "ci.yml", "prod;"), "Invalid environment name"),
        (GitLabPublisher("group", "proj", "ci.yml", "", "http://gitlab.example"), "https"),
    ],
)
def test_gitlab_rules(publisher, message):
    with pytest.raises(UsageError) as err:
        validate_publisher(publisher)
    assert message in err.value.message


def test_gitlab_environment_is_case_sensitive_and_blank_means_any():
    assert validate_publisher(GitLabPublisher("g/sub", "proj", "ci/release.yml", "Prod")).environment == "Prod"
    assert validate_publisher(GitLabPublisher("group", "proj", "ci.yml", "   ")).environment == ""


def test_gitlab_custom_issuer_refused_for_account_pending():
    custom = GitLabPublisher("group", "proj", "ci.yml", "", "https://gitlab.example.com")
    assert validate_publisher(custom).issuer_url == "https://gitlab.example.com"
    with pytest.raises(UsageError, match="only accept https://gitlab.com"):
        validate_publisher(custom, pending=True)


def test_google_and_activestate():
    with pytest.raises(UsageError, match="This field is required."):
        validate_publisher(GooglePublisher(""))
    with pytest.raises(UsageError, match="Invalid email address."):
        validate_publisher(GooglePublisher("not-an-email"))
    assert validate_publisher(GooglePublisher("a@b.iam.gserviceaccount.com", " s ")).sub == "s"
    for project, message in [
        ("ab", "Invalid ActiveState project name"),
        ("a--b", "Double dashes are not allowed in the name"),
        ("-abc", "Leading or trailing dashes are not allowed in the name"),
    ]:
        with pytest.raises(UsageError, match=message):
            validate_publisher(ActiveStatePublisher("org", project, "actor"))
    with pytest.raises(UsageError, match="Specify the ActiveState actor username"):
        validate_publisher(ActiveStatePublisher("org", "proj", ""))


@pytest.mark.parametrize(
    ("name", "pending", "message"),
    [
        ("", True, "Specify project name"),
        ("-bad", True, "Invalid project name"),
        ("bad-", False, "Invalid project name"),
        ("naïve", True, "Invalid project name"),
        ("argparse", True, "conflict with the Python standard library module name"),
        ("Asyncio", True, "conflict with the Python standard library module name"),
    ],
)
def test_project_names(name, pending, message):
    with pytest.raises(UsageError, match=message):
        validate_project_name(name, pending=pending)


def test_stdlib_names_allowed_for_existing_projects():
    assert validate_project_name("argparse", pending=False) == "argparse"


# Property-based: the validator agrees with Warehouse's regexes and only ever
# raises UsageError, whatever the input.
text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300
) | st.from_regex(r"[A-Za-z0-9._-]{1,40}", fullmatch=True)


@given(owner=text, repository=text, workflow=text, environment=text)
def test_github_validation_total(owner, repository, workflow, environment):
    try:
        out = validate_publisher(GitHubPublisher(owner, repository, workflow, environment))
    except UsageError:
        return
    assert GITHUB_OWNER_RE.fullmatch(out.owner) and out.owner.isascii()
    # An independent statement of the same rules: printable ASCII, no whitespace, no control characters.
    for value in (out.owner, out.repository):
        assert value.isascii() and value.isprintable() and not any(c.isspace() for c in value)
    assert out.workflow_filename.endswith((".yml", ".yaml")) and "/" not in out.workflow_filename
    assert len(out.environment) <= 255 and out.environment == out.environment.lower()


@given(namespace=text, project=text, path=text, environment=text)
def test_gitlab_validation_total(namespace, project, path, environment):
    try:
        out = validate_publisher(GitLabPublisher(namespace, project, path, environment))
    except UsageError:
        return
    assert len(out.namespace) >= 2 and ".." not in out.namespace and "--" not in out.namespace
    assert all(v.isascii() and v.isprintable() and v.strip() == v for v in (out.namespace, out.project))


@given(name=text)
def test_project_name_validation_total(name):
    try:
        validate_project_name(name, pending=True)
    except UsageError:
        return
    assert PROJECT_NAME_RE.fullmatch(name) and name.isascii() and name.isprintable() and " " not in name


@pytest.mark.parametrize("name", ["not a valid name!", "-bad-", "json"])
def test_an_invalid_project_name_is_named(name):
    with pytest.raises(UsageError) as err:
        validate_project_name(name, pending=True)
    assert err.value.message.startswith(f"project {name!r}: ") and err.value.field == "project"


@pytest.mark.parametrize(
    ("publisher", "value"),
    [
        (gh(owner="-lead"), "-lead"),
        (gh(repository="my repo"), "my repo"),
        (gh(workflow="release.txt"), "release.txt"),
        (gh(environment="py;pi"), "py;pi"),
        (GitLabPublisher("gr--oup", "proj", ".gitlab-ci.yml"), "gr--oup"),
        (GitLabPublisher("group", "pr__oj", ".gitlab-ci.yml"), "pr__oj"),
        (GitLabPublisher("group", "proj", "ci.txt"), "ci.txt"),
        (GitLabPublisher("group", "proj", "ci.yml", "", "http://gitlab.example"), "http://gitlab.example"),
        (GooglePublisher("not-an-email"), "not-an-email"),
        (ActiveStatePublisher("org", "a--b", "actor"), "a--b"),
    ],
)
def test_an_invalid_value_is_named(publisher, value):
    with pytest.raises(UsageError) as err:
        validate_publisher(publisher)
    assert repr(value) in err.value.message


def test_a_long_value_is_shortened_when_named():
    with pytest.raises(UsageError) as err:
        validate_publisher(gh(environment="x" * 256))
    assert "xxx…'" in err.value.message and len(err.value.message) < 200


def test_the_activestate_organization_is_not_the_pypi_organization():
    with pytest.raises(UsageError) as err:
        validate_publisher(ActiveStatePublisher("", "proj", "actor"))
    assert err.value.field == "activestate-organization"
