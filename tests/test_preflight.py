"""Tests for the trusted-publishing pre-flight check (``pypi_trusted_publisher.preflight``)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pypi_trusted_publisher.action.runner import annotation, escape_property
from pypi_trusted_publisher.core.indexes import resolve_index
from pypi_trusted_publisher.core.publishers import (
    ActiveStatePublisher,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
)
from pypi_trusted_publisher.inputs.context import RepoContext
from pypi_trusted_publisher.preflight import (
    Finding,
    Report,
    check_oidc,
    check_publisher,
    render_annotations,
    render_json,
    render_markdown,
    render_text,
)
from pypi_trusted_publisher.preflight.workflows import YamlMap, YamlProblem, loads

FIXTURES = Path(__file__).parent / "fixtures" / "preflight"
REPO_ENV = {"GITHUB_REPOSITORY": "octo/demo", "GITHUB_REPOSITORY_OWNER": "octo"}
WF = ".github/workflows"


def gh(
    workflow: str = "release.yml", environment: str = "pypi", owner: str = "octo", repository: str = "demo"
) -> GitHubPublisher:
    return GitHubPublisher(owner, repository, workflow, environment)


def check(
    where: str | Path, publisher=None, *, index: str = "pypi", env: dict[str, str] | None = None, **kwargs
) -> Report:
    cwd = where if isinstance(where, Path) else FIXTURES / where
    context = RepoContext(cwd=cwd, env=REPO_ENV if env is None else env)
    return check_publisher(publisher or gh(), index=resolve_index(index), context=context, **kwargs)


def found(report: Report) -> list[tuple[str, str, str, int | None]]:
    return [(f.severity, f.code, f.file, f.line) for f in report.findings]


def workflow(tmp_path: Path, text: str, name: str = "release.yml") -> Path:
    folder = tmp_path / WF
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


CANONICAL_JOB = """\
    on:
      push:
        tags: ["v*"]
    jobs:
      publish:
        runs-on: ubuntu-latest
        environment: pypi
        permissions:
          id-token: write
        steps:
          - run: pipx run build
          - uses: pypa/gh-action-pypi-publish@release/v1
    """


# The clean case and the layouts that must stay clean


def test_canonical_release_workflow_has_no_findings() -> None:
    report = check("clean", project="demo-pkg", pending=True)
    assert report.findings == []
    assert not report.has_errors
    assert report.exit_code == 0
    assert report.checked == [
        "GitHub publisher octo/demo, workflow release.yml, environment pypi on PyPI (pypi.org) "
        "for pending project demo-pkg"
    ]


@pytest.mark.parametrize(("index", "environment"), [("pypi", "pypi"), ("testpypi", "testpypi")])
def test_packaging_guide_layout_is_clean_for_either_index(index: str, environment: str) -> None:
    # Only the job that uploads to the publisher's index is compared with it.
    assert check("two-indexes", gh("publish.yml", environment), index=index).findings == []


def test_other_index_job_is_still_compared_on_environment() -> None:
    report = check("two-indexes", gh("publish.yml", "testpypi"), index="pypi")
    assert found(report) == [("error", "environment-mismatch", f"{WF}/publish.yml", 22)]


# 1. id-token: write


def test_job_permissions_replace_workflow_permissions() -> None:
    report = check("job-permissions")
    assert found(report) == [("error", "missing-id-token", f"{WF}/release.yml", 12)]
    assert "replace the workflow's" in report.findings[0].message


@pytest.mark.parametrize(
    ("permissions", "line"),
    [
        ("", 5),  # none anywhere: points at the job
        ("    permissions: {}\n", 7),
        ("    permissions: read-all\n", 7),
        ("    permissions:\n      id-token: read\n", 7),
    ],
)
def test_missing_id_token(tmp_path: Path, permissions: str, line: int) -> None:
    text = f"""\
on:
  push:
    tags: ["v*"]
jobs:
  publish:
    runs-on: ubuntu-latest
{permissions}    environment: pypi
    steps:
      - uses: pypa/gh-action-pypi-publish@release/v1
"""
    report = check(workflow(tmp_path, text))
    assert found(report) == [("error", "missing-id-token", f"{WF}/release.yml", line)]
    assert report.exit_code == 1


@pytest.mark.parametrize("granted", ["permissions: write-all", "permissions:\n  id-token: write"])
def test_workflow_level_permissions_grant_id_token(tmp_path: Path, granted: str) -> None:
    text = (
        f"on: push\n{granted}\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    environment: pypi\n"
        "    if: github.event_name == 'push'\n    steps:\n      - uses: pypa/gh-action-pypi-publish@v1\n"
    )
    assert check(workflow(tmp_path, text)).findings == []


# 2. workflow file name


def test_missing_workflows_folder(tmp_path: Path) -> None:
    assert found(check(tmp_path)) == [("error", "no-workflows-folder", WF, None)]


def test_workflow_not_found_suggests_the_publishing_workflow() -> None:
    report = check("clean", gh("publish.yml"))
    assert found(report) == [("error", "workflow-not-found", WF, None)]
    assert "release.yml" in report.findings[0].fix


def test_workflow_in_subfolder() -> None:
    report = check("subfolder")
    assert found(report) == [("error", "workflow-not-found", WF, None)]
    assert f"{WF}/release/release.yml" in report.findings[0].message


def test_workflow_case_mismatch() -> None:
    report = check("clean", gh("Release.yml"))
    assert found(report) == [("error", "workflow-case-mismatch", f"{WF}/release.yml", None)]


def test_workflow_is_a_path() -> None:
    # The rest of the check still runs against the file the path names.
    report = check("clean", gh(f"{WF}/release.yml"))
    assert found(report) == [("error", "workflow-is-path", WF, None)]
    assert "'release.yml'" in report.findings[0].fix


def test_workflow_without_upload(tmp_path: Path) -> None:
    text = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
    assert found(check(workflow(tmp_path, text))) == [("warning", "no-publish-step", f"{WF}/release.yml", None)]


# 3. environment


@pytest.mark.parametrize("environment", ["pypi", "PYPI"])
def test_github_environment_mapping_compares_case_insensitively(environment: str) -> None:
    assert check("environment-mapping", gh(environment=environment)).findings == []


def test_environment_mismatch_points_at_name() -> None:
    report = check("environment-mapping", gh(environment="release"))
    assert found(report) == [("error", "environment-mismatch", f"{WF}/release.yml", 8)]


def test_environment_missing(tmp_path: Path) -> None:
    root = workflow(tmp_path, CANONICAL_JOB.replace("        environment: pypi\n", ""))
    assert found(check(root)) == [("error", "environment-missing", f"{WF}/release.yml", 5)]


def test_any_environment_accepts_a_job_with_one() -> None:
    assert check("clean", gh(environment="")).findings == []


def test_environment_expression_is_a_warning(tmp_path: Path) -> None:
    root = workflow(tmp_path, CANONICAL_JOB.replace("environment: pypi", "environment: ${{ inputs.env }}"))
    assert found(check(root)) == [("warning", "environment-expression", f"{WF}/release.yml", 7)]


# 4. reusable workflows


def test_registered_workflow_calls_a_reusable_workflow_that_uploads() -> None:
    report = check("reusable")
    assert found(report) == [("error", "reusable-workflow", f"{WF}/release.yml", 9)]


def test_registered_workflow_is_reusable() -> None:
    report = check("reusable", gh("publish.yml"))
    assert found(report) == [("warning", "workflow-call-trigger", f"{WF}/publish.yml", 2)]


def test_remote_reusable_workflow(tmp_path: Path) -> None:
    text = "on: push\njobs:\n  release:\n    uses: octo/shared/.github/workflows/pypi.yml@v1\n"
    assert found(check(workflow(tmp_path, text))) == [("warning", "reusable-workflow", f"{WF}/release.yml", 4)]


# 5. repository identity


def test_repository_case_differs_from_github_repository() -> None:
    assert found(check("clean", gh(repository="Demo"))) == [("error", "repository-case", "", None)]


def test_owner_case_is_only_a_warning() -> None:
    # Warehouse stores GitHub's spelling of the owner (docs/protocol/validation.md#github).
    assert found(check("clean", gh(owner="Octo"))) == [("warning", "repository-case", "", None)]


def test_repository_spelling_differs() -> None:
    report = check("clean", gh(repository="demo-app"))
    assert found(report) == [("error", "repository-mismatch", "", None)]
    assert "octo/demo" in report.findings[0].fix


@pytest.mark.parametrize(
    ("owner", "repository", "described"),
    [
        ("\u043ecto", "demo", "U+043E CYRILLIC SMALL LETTER O at position 1"),
        ("octo", "demo ", "U+0020 SPACE at position 5"),
        ("octo", "de\u200bmo", "U+200B ZERO WIDTH SPACE at position 3"),
    ],
)
def test_look_alike_and_invisible_characters(owner: str, repository: str, described: str) -> None:
    report = check("clean", gh(owner=owner, repository=repository))
    assert found(report) == [("error", "suspicious-characters", "", None)]
    assert described in report.findings[0].message


@dataclass(frozen=True)
class RemoteContext(RepoContext):
    """A checkout whose ``origin`` remote names ``remote`` (no git subprocess)."""

    remote: tuple[str, str] | None = None

    def git_remote(self) -> tuple[str, str] | None:
        return self.remote


def test_git_remote_is_used_outside_ci_and_only_warns() -> None:
    context = RemoteContext(cwd=FIXTURES / "clean", env={}, remote=("octo", "demo-fork"))
    report = check_publisher(gh(), index=resolve_index("pypi"), context=context)
    assert found(report) == [("warning", "repository-mismatch", "", None)]
    assert "fork" in report.findings[0].message


def test_no_known_repository_skips_the_comparison() -> None:
    context = RemoteContext(cwd=FIXTURES / "clean", env={}, remote=None)
    assert check_publisher(gh(repository="x"), context=context).findings == []


# 6. project name


def test_pending_project_name_differs_from_pyproject() -> None:
    report = check("clean", project="demo-tool", pending=True)
    assert found(report) == [("error", "project-name-mismatch", "pyproject.toml", 6)]
    assert "'demo-pkg'" in report.findings[0].fix


def test_existing_project_name_difference_is_a_warning() -> None:
    assert found(check("clean", project="demo-tool")) == [("warning", "project-name-mismatch", "pyproject.toml", 6)]


@pytest.mark.parametrize("project", ["demo-pkg", "Demo.Pkg", "demo__pkg"])
def test_project_names_compare_normalised(project: str) -> None:
    assert check("clean", project=project, pending=True).findings == []


# 7. wrong index


def test_uploads_to_testpypi_with_a_pypi_publisher() -> None:
    report = check("wrong-index")
    assert found(report) == [("error", "wrong-index", f"{WF}/release.yml", 14)]
    assert "TestPyPI (test.pypi.org)" in report.findings[0].message


def test_uploads_to_pypi_with_a_testpypi_publisher() -> None:
    report = check("clean", gh(environment="pypi"), index="testpypi")
    assert found(report) == [("error", "wrong-index", f"{WF}/release.yml", 29)]
    assert "https://test.pypi.org/legacy/" in report.findings[0].fix


def test_twine_repository_option_in_a_continued_command() -> None:
    assert found(check("twine")) == [("error", "wrong-index", f"{WF}/release.yml", 16)]


def test_twine_repository_url_variable(tmp_path: Path) -> None:
    text = CANONICAL_JOB.replace(
        "      - uses: pypa/gh-action-pypi-publish@release/v1\n",
        "      - run: twine upload dist/*\n            env:\n              TWINE_REPOSITORY_URL: https://test.pypi.org/legacy/\n",
    )
    assert found(check(workflow(tmp_path, text))) == [("error", "wrong-index", f"{WF}/release.yml", 14)]


@pytest.mark.parametrize(
    ("step", "line"),
    [
        ("- run: twine upload --repository-url https://test.pypi.org/legacy/ dist/*", 12),
        ("- run: python -m twine upload --repository-url=https://test.pypi.org/legacy/ dist/*", 12),
        ("- run: uv publish --publish-url https://test.pypi.org/legacy/", 12),
        ("- run: pdm publish -r testpypi", 12),
        (
            "- uses: pypa/gh-action-pypi-publish@v1.12.4\n"
            "            with: {repository_url: 'https://test.pypi.org/legacy/'}",
            13,
        ),
    ],
)
def test_upload_commands_that_target_testpypi(tmp_path: Path, step: str, line: int) -> None:
    text = CANONICAL_JOB.replace("- uses: pypa/gh-action-pypi-publish@release/v1", step)
    assert found(check(workflow(tmp_path, text))) == [("error", "wrong-index", f"{WF}/release.yml", line)]


def test_empty_workflow_name_is_a_finding(tmp_path: Path) -> None:
    assert found(check(workflow(tmp_path, CANONICAL_JOB), gh(""))) == [("error", "workflow-not-found", WF, None)]


def test_index_chosen_at_run_time_is_not_judged(tmp_path: Path) -> None:
    text = CANONICAL_JOB.replace(
        "@release/v1\n", "@release/v1\n            with:\n              repository-url: ${{ vars.INDEX_URL }}\n"
    )
    assert check(workflow(tmp_path, text)).findings == []


# 8. token instead of trusted publishing


def test_leftover_password_input() -> None:
    assert found(check("password")) == [("warning", "password-bypass", f"{WF}/release.yml", 14)]


def test_twine_password_in_workflow_env() -> None:
    report = check("password", gh("twine.yml"))
    assert found(report) == [("warning", "password-bypass", f"{WF}/twine.yml", 5)]
    assert "TWINE_PASSWORD" in report.findings[0].message


# 9. triggers


def test_pull_request_target_is_refused() -> None:
    # Also the YAML 1.1 trap: `on:` must stay the string "on" for the trigger to be seen.
    assert found(check("pull-request-target")) == [("error", "pull-request-target", f"{WF}/release.yml", 3)]


def test_unguarded_pull_request_trigger() -> None:
    assert found(check("fork-pull-request")) == [("warning", "fork-pull-request", f"{WF}/release.yml", 1)]


@pytest.mark.parametrize(
    "guard",
    [
        "    if: github.event_name == 'push'\n",
        "    needs: [gate]\n",
    ],
)
def test_guarded_pull_request_trigger(tmp_path: Path, guard: str) -> None:
    text = (
        "on: [push, pull_request]\njobs:\n  gate:\n    if: startsWith(github.ref, 'refs/tags/')\n"
        "    runs-on: ubuntu-latest\n    steps:\n      - run: true\n  publish:\n"
        f"{guard}    runs-on: ubuntu-latest\n    environment: pypi\n    permissions:\n      id-token: write\n"
        "    steps:\n      - uses: pypa/gh-action-pypi-publish@release/v1\n"
    )
    assert check(workflow(tmp_path, text)).findings == []


# 10. runners


def test_windows_runner() -> None:
    assert found(check("runner")) == [("error", "unsupported-runner", f"{WF}/release.yml", 6)]


def test_matrix_over_macos_points_at_the_value() -> None:
    assert found(check("runner", gh("matrix.yml"))) == [("error", "unsupported-runner", f"{WF}/matrix.yml", 10)]


def test_uv_publish_runs_anywhere(tmp_path: Path) -> None:
    text = CANONICAL_JOB.replace("ubuntu-latest", "windows-latest").replace(
        "uses: pypa/gh-action-pypi-publish@release/v1", "run: uv publish"
    )
    assert check(workflow(tmp_path, text)).findings == []


# Broken files


def test_bad_yaml_is_a_finding() -> None:
    report = check("bad-yaml")
    assert found(report) == [("error", "invalid-yaml", f"{WF}/release.yml", 9)]
    assert "flow mapping" in report.findings[0].message


@pytest.mark.parametrize(("text", "line"), [("", 1), ("- a list\n", 1), ("on: push\njobs: [a]\n", 1)])
def test_workflow_without_jobs(tmp_path: Path, text: str, line: int) -> None:
    assert found(check(workflow(tmp_path, text))) == [("error", "invalid-workflow", f"{WF}/release.yml", line)]


def test_unreadable_workflow(tmp_path: Path) -> None:
    root = workflow(tmp_path, "")
    (root / WF / "release.yml").write_bytes(b"\xff\xfe\x00bad")
    assert found(check(root)) == [("error", "invalid-yaml", f"{WF}/release.yml", None)]


def test_yaml_1_1_booleans_stay_strings() -> None:
    data = loads("on: push\nyes: no\noff: true\n")
    assert data == {"on": "push", "yes": "no", "off": True}
    assert isinstance(data, YamlMap)
    assert data.line_of("off") == 3


def test_yaml_problem_has_a_line() -> None:
    with pytest.raises(YamlProblem) as caught:
        loads("jobs:\n  a: b\n c: d\n")
    assert caught.value.line == 3


FUZZ_KEYS = st.sampled_from(
    [
        "on",
        "jobs",
        "steps",
        "uses",
        "with",
        "run",
        "env",
        "permissions",
        "environment",
        "runs-on",
        "strategy",
        "matrix",
        "os",
        "include",
        "needs",
        "if",
        "name",
        "publish",
        "script",
        "extends",
        "id_tokens",
        "aud",
        "variables",
        "local",
        "repository-url",
        "password",
    ]
)
FUZZ_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(["pypi", "windows-latest", "${{ matrix.os }}", "./x.yml", "uv publish -r testpypi", "publish"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(FUZZ_KEYS, children, max_size=4),
    max_leaves=25,
)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.dictionaries(FUZZ_KEYS, FUZZ_VALUES, max_size=5), FUZZ_VALUES)
def test_any_yaml_structure_never_raises(tmp_path: Path, document: dict[str, object], job: object) -> None:
    text = json.dumps({**document, "jobs": {"publish": job}, "publish": job})
    root = workflow(tmp_path, text)
    (root / ".gitlab-ci.yml").write_text(text, encoding="utf-8")
    for publisher in (gh(), gl()):
        report = check(root, publisher, env={**REPO_ENV, "CI_PROJECT_PATH": "grp/demo"})
        assert all(isinstance(f, Finding) for f in report.findings)


# GitLab, Google, ActiveState

GITLAB_ENV = {"CI_PROJECT_PATH": "grp/demo"}


def gl(environment: str = "release", path: str = ".gitlab-ci.yml", namespace: str = "grp") -> GitLabPublisher:
    return GitLabPublisher(namespace, "demo", path, environment)


def test_gitlab_pipeline_with_included_publish_job_is_clean() -> None:
    assert check("gitlab", gl(), env=GITLAB_ENV).findings == []


def test_gitlab_environment_is_case_sensitive() -> None:
    report = check("gitlab", gl("Release"), env=GITLAB_ENV)
    assert found(report) == [("error", "environment-mismatch", "ci/publish.yml", 11)]
    assert "exactly" in report.findings[0].message


def test_gitlab_wrong_index() -> None:
    report = check("gitlab", gl(), env=GITLAB_ENV, index="testpypi")
    assert found(report) == [
        ("error", "wrong-index", "ci/publish.yml", 5),  # aud: pypi
        ("error", "wrong-index", "ci/publish.yml", 17),  # mint-token on pypi.org
        ("error", "wrong-index", "ci/publish.yml", 19),  # twine's default index
    ]


def test_gitlab_pipeline_not_found() -> None:
    assert found(check("gitlab", gl(path="ci/release.yml"), env=GITLAB_ENV)) == [
        ("error", "workflow-not-found", "ci/release.yml", None)
    ]


def test_gitlab_pipeline_case_mismatch() -> None:
    assert found(check("gitlab", gl(path="ci/Publish.yml"), env=GITLAB_ENV)) == [
        ("error", "workflow-case-mismatch", "ci/publish.yml", None)
    ]


def test_gitlab_namespace_compares_case_insensitively() -> None:
    assert check("gitlab", gl(namespace="GRP"), env=GITLAB_ENV).findings == []
    report = check("gitlab", gl(namespace="group"), env=GITLAB_ENV)
    assert found(report) == [("error", "repository-mismatch", "", None)]


def test_gitlab_job_without_id_tokens(tmp_path: Path) -> None:
    (tmp_path / ".gitlab-ci.yml").write_text(
        "publish:\n  environment: release\n  script:\n    - uv publish\n", encoding="utf-8"
    )
    assert found(check(tmp_path, gl(), env=GITLAB_ENV)) == [("error", "missing-id-token", ".gitlab-ci.yml", 1)]


@pytest.mark.parametrize(
    "publisher", [GooglePublisher("ci@example.iam.gserviceaccount.com"), ActiveStatePublisher("org", "proj", "me")]
)
def test_other_publishers_get_a_notice(publisher) -> None:
    report = check("clean", publisher)
    assert found(report) == [("notice", "not-checked", "", None)]
    assert report.exit_code == 0


# Renderers

SAMPLE = Report(
    [
        Finding("warning", "password-bypass", "Leftover token.", "Remove it.", f"{WF}/release.yml", 14),
        Finding("error", "missing-id-token", "No id-token: write.", "Add it.", f"{WF}/release.yml", 9),
        Finding("error", "repository-case", "Case differs.", "Retype it.", "", None),
    ],
    ["GitHub publisher octo/demo"],
)


def test_findings_are_ordered_errors_first() -> None:
    assert [f.code for f in SAMPLE.findings] == ["repository-case", "missing-id-token", "password-bypass"]
    assert SAMPLE.exit_code == 1


def test_render_text() -> None:
    assert render_text(SAMPLE) == textwrap.dedent(f"""\
        Checked GitHub publisher octo/demo

        error: Case differs. [repository-case]
          fix: Retype it.
        {WF}/release.yml:9: error: No id-token: write. [missing-id-token]
          fix: Add it.
        {WF}/release.yml:14: warning: Leftover token. [password-bypass]
          fix: Remove it.

        2 errors, 1 warning
        """)
    assert render_text(Report()).endswith("No problems found.\n")


def test_render_json() -> None:
    data = render_json(SAMPLE)
    assert data["errors"] == 2
    assert data["warnings"] == 1
    assert data["findings"][1] == {
        "severity": "error",
        "code": "missing-id-token",
        "message": "No id-token: write.",
        "fix": "Add it.",
        "file": f"{WF}/release.yml",
        "line": 9,
        "subject": "",
    }
    json.dumps(data)


def commands(report: Report) -> list[str]:
    """The report's annotations as the action writes them."""
    return [
        annotation(a.severity, a.message, title=a.title, file=a.file, line=a.line) for a in render_annotations(report)
    ]


def test_render_annotations_escape_workflow_commands() -> None:
    report = Report([Finding("error", "x", "100% bad\r\nnext", "fix, it: now", "a,b:c.yml", 3)])
    assert commands(report) == [
        "::error file=a%2Cb%3Ac.yml,line=3,title=Trusted publishing%3A x::100%25 bad%0D%0Anext%0AFix: fix, it: now"
    ]
    notice = Report([Finding("notice", "n", "m", "f")])
    assert commands(notice) == ["::notice title=Trusted publishing%3A n::m%0AFix: f"]


@given(st.text())
def test_escaped_properties_have_no_separators(value: str) -> None:
    escaped = escape_property(value)
    assert not any(char in escaped for char in ",:\r\n")
    decoded = (
        escaped.replace("%2C", ",").replace("%3A", ":").replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
    )
    assert decoded == value


def test_render_markdown() -> None:
    report = Report([Finding("error", "c", "a | b <script>", "line1\nline2", "f.yml", 2)])
    markdown = render_markdown(report)
    assert markdown.startswith("### Trusted publishing check\n")
    assert "| ❌ error | `f.yml:2` | a \\| b &lt;script&gt; (`c`) | line1<br>line2 |" in markdown
    assert "**1 error, 0 warnings.**" in markdown
    assert "✅ No problems found." in render_markdown(Report())


def test_combine_drops_repeated_findings() -> None:
    first = Report([SAMPLE.findings[0]], ["one"])
    second = Report([SAMPLE.findings[0], SAMPLE.findings[2]], ["one"])
    combined = Report.combine([first, second])
    assert combined.findings == [SAMPLE.findings[0], SAMPLE.findings[2]]
    assert combined.checked == ["one"]


def test_combine_says_which_subject_each_finding_is_about() -> None:
    first = Report([SAMPLE.findings[0]], ["one"])
    second = Report([SAMPLE.findings[0], SAMPLE.findings[2]], ["two"])
    combined = Report.combine([first, second])
    assert [(f.code, f.subject) for f in combined.findings] == [
        (SAMPLE.findings[0].code, "one"), (SAMPLE.findings[0].code, "two"), (SAMPLE.findings[2].code, "two")
    ]
    assert combined.checked == ["one", "two"]
    assert "For two:" in render_markdown(combined) and "For one:%0A" in commands(combined)[0]
    assert "\n  for: two\n" in render_text(combined)


def test_importing_the_package_does_not_import_yaml_or_httpx() -> None:
    code = (
        "import sys, pypi_trusted_publisher.preflight\n"
        "assert 'yaml' not in sys.modules and 'httpx' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# check --oidc

TOKEN_URL = "https://token.actions.example/token?api-version=2.0"
ACTIONS_ENV = {
    "GITHUB_ACTIONS": "true",
    "ACTIONS_ID_TOKEN_REQUEST_URL": TOKEN_URL,
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-secret",
}
GOOD_CLAIMS = {
    "sub": "repo:octo/demo:environment:pypi",
    "repository": "octo/demo",
    "repository_owner": "octo",
    "repository_owner_id": "42",
    "workflow_ref": "octo/demo/.github/workflows/release.yml@refs/tags/v1",
    "job_workflow_ref": "octo/demo/.github/workflows/release.yml@refs/tags/v1",
    "ref": "refs/tags/v1",
    "environment": "pypi",
    "event_name": "push",
}


def jwt(claims: dict[str, str]) -> str:
    def part(data: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


def oidc(httpx_mock, claims: dict[str, str], publisher: GitHubPublisher | None = None) -> Report:
    httpx_mock.add_response(url="https://pypi.org/_/oidc/audience", json={"audience": "pypi"})
    httpx_mock.add_response(
        url=f"{TOKEN_URL}&audience=pypi",
        match_headers={"Authorization": "bearer request-secret"},
        json={"value": jwt(claims)},
    )
    context = RepoContext(cwd=FIXTURES / "clean", env=ACTIONS_ENV)
    return check_oidc(publisher or gh(), index=resolve_index("pypi"), context=context)


def test_oidc_claims_match(httpx_mock) -> None:
    report = oidc(httpx_mock, GOOD_CLAIMS)
    assert report.findings == []
    assert list(report.claims) == [
        "sub",
        "repository",
        "repository_owner",
        "repository_owner_id",
        "workflow_ref",
        "job_workflow_ref",
        "ref",
        "environment",
    ]
    text = render_text(report)
    assert "  * job_workflow_ref: octo/demo/.github/workflows/release.yml@refs/tags/v1" in text
    assert "request-secret" not in text
    assert jwt(GOOD_CLAIMS) not in text + render_markdown(report) + json.dumps(render_json(report))


def test_oidc_claims_mismatch(httpx_mock) -> None:
    claims = {
        **GOOD_CLAIMS,
        "repository": "octo/Demo",
        "job_workflow_ref": "octo/Demo/.github/workflows/publish.yml@refs/tags/v1",
        "event_name": "pull_request_target",
    }
    del claims["environment"]
    report = oidc(httpx_mock, claims)
    assert found(report) == [
        ("error", "claim-environment", "", None),
        ("error", "claim-event-name", "", None),
        ("error", "claim-job-workflow-ref", "", None),
        ("error", "claim-repository", "", None),
        ("warning", "claim-reusable-workflow", "", None),
    ]
    assert report.claims["environment"] == "MISSING"
    assert "* `environment`: `MISSING`" in render_markdown(report)


def test_oidc_owner_compares_case_insensitively(httpx_mock) -> None:
    assert oidc(httpx_mock, {**GOOD_CLAIMS, "repository_owner": "Octo"}).findings == []


def test_oidc_audience_disabled(httpx_mock) -> None:
    httpx_mock.add_response(url="https://pypi.org/_/oidc/audience", status_code=403)
    context = RepoContext(cwd=FIXTURES / "clean", env=ACTIONS_ENV)
    report = check_oidc(gh(), index=resolve_index("pypi"), context=context)
    assert [(f.code, f.message) for f in report.findings] == [
        ("oidc-audience-failed", "pypi.org has trusted publishing disabled (HTTP 403).")
    ]


def test_oidc_token_refused(httpx_mock) -> None:
    httpx_mock.add_response(url="https://pypi.org/_/oidc/audience", json={"audience": "pypi"})
    httpx_mock.add_response(url=f"{TOKEN_URL}&audience=pypi", status_code=401, text="request-secret is bad")
    context = RepoContext(cwd=FIXTURES / "clean", env=ACTIONS_ENV)
    report = check_oidc(gh(), index=resolve_index("pypi"), context=context)
    assert found(report) == [("error", "oidc-token-failed", "", None)]
    assert "request-secret" not in render_text(report)


def test_oidc_network_error(httpx_mock) -> None:
    httpx_mock.add_exception(httpx.ConnectTimeout("slow"), url="https://pypi.org/_/oidc/audience")
    context = RepoContext(cwd=FIXTURES / "clean", env=ACTIONS_ENV)
    report = check_oidc(gh(), index=resolve_index("pypi"), context=context)
    assert found(report) == [("error", "oidc-audience-failed", "", None)]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ("warning", "oidc-unavailable")),
        ({"GITHUB_ACTIONS": "true"}, ("error", "missing-id-token")),
    ],
)
def test_oidc_without_a_token_source(env: dict[str, str], expected: tuple[str, str]) -> None:
    report = check_oidc(gh(), index=resolve_index("pypi"), context=RepoContext(cwd=FIXTURES / "clean", env=env))
    assert found(report) == [(*expected, "", None)]


def test_oidc_skips_other_publishers() -> None:
    report = check_oidc(gl(), index=resolve_index("pypi"), context=RepoContext(env=ACTIONS_ENV))
    assert found(report) == [("notice", "not-checked", "", None)]
