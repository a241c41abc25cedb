"""The parts of ``plan`` one at a time: metadata, jobs, the batch file, the GitHub client, pages and progress."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import httpx
import pytest

from fake_github import FakeGitHub
from fake_warehouse import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME
from plan_scenario import monorepo, release
from pypi_trusted_publisher.commands import main
from pypi_trusted_publisher.core.errors import RegistrationFailed, UsageError
from pypi_trusted_publisher.core.indexes import resolve_index
from pypi_trusted_publisher.core.models import Registration, Target
from pypi_trusted_publisher.core.publishers import GitHubPublisher, GitLabPublisher
from pypi_trusted_publisher.core.secret import Secret
from pypi_trusted_publisher.credentials.values import Credentials
from pypi_trusted_publisher.engine.engine import Engine, engine
from pypi_trusted_publisher.engine.options import EngineOptions
from pypi_trusted_publisher.inputs.config_file import check_plan, load_config
from pypi_trusted_publisher.inputs.context import RepoContext
from pypi_trusted_publisher.inputs.options import Options, resolve
from pypi_trusted_publisher.plan.batch_file import comment, render_batch
from pypi_trusted_publisher.plan.jobs import Undecided, UploadJob, choose, upload_jobs
from pypi_trusted_publisher.plan.metadata import NoRepository, SourceRepository, source_repository
from pypi_trusted_publisher.plan.planner import Plan
from pypi_trusted_publisher.plan.sources import SourceReader
from pypi_trusted_publisher.plan.state import Progress, state_path
from pypi_trusted_publisher.plan.verdicts import ProjectPlan, Verdict
from pypi_trusted_publisher.preflight import check_publisher
from pypi_trusted_publisher.transports.github import GitHubApi, GitHubError, RateLimit, RateLimited, api_url
from pypi_trusted_publisher.transports.web.pages import Page, PageChanged
from pypi_trusted_publisher.transports.web.projects import parse_projects, read_projects
from recordings import recorded_text
from test_engine import Clock

PYPI = resolve_index("pypi")


# --- the repository, from the JSON API --------------------------------------------------------


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ({"project_urls": {"Homepage": "https://octo.example", "Source": "https://github.com/octo/pkg"}},
         "github.com/octo/pkg"),
        ({"project_urls": {"Bug Tracker": "https://github.com/octo/pkg/issues"}}, "github.com/octo/pkg"),
        ({"project_urls": None, "home_page": "https://www.github.com/Octo/Pkg.git"}, "github.com/Octo/Pkg"),
        ({"project_urls": {"source-code": "https://gitlab.com/grp/sub/pkg/-/tree/main"}}, "gitlab.com/grp/sub/pkg"),
        ({"project_urls": {"Homepage": "https://github.com/octo/docs", "Repository": "https://github.com/octo/pkg"}},
         "github.com/octo/pkg"),
    ],
)
def test_repository_from_project_urls(info, expected):
    assert str(source_repository(info)) == expected


@pytest.mark.parametrize(
    ("info", "why"),
    [
        (None, "no release yet"),
        ({"project_urls": None, "home_page": None}, "no project URLs"),
        ({"project_urls": {"Sponsor": "https://github.com/sponsors/octo"}}, "not a repository"),
        ({"project_urls": {"Source": "https://github.com/octo"}}, "https://github.com/octo, which is not a repository"),
        ({"home_page": "https://octo.example/pkg"}, "(octo.example) name no GitHub or GitLab repository"),
        ({"project_urls": {"Source": "ftp://github.com/octo/pkg"}}, "no GitHub or GitLab repository"),
    ],
)
def test_no_repository_says_why(info, why):
    with pytest.raises(NoRepository) as caught:
        source_repository(info)
    assert why in caught.value.message


def test_metadata_of_a_project_without_release_is_none(warehouse):
    warehouse.add_project("bare", owners=[DEFAULT_USERNAME])
    warehouse.add_project("Released_One", owners=[DEFAULT_USERNAME], has_releases=True,
                          home_page="https://github.com/octo/released-one")
    eng = Engine(resolve_index(warehouse.url), Credentials(), EngineOptions(timeout=5))
    try:
        assert eng.project_info("bare") is None
        info = eng.project_info("Released_One")  # asked by its normalised name: no redirect
    finally:
        eng.close()
    assert eng.requests == 2 and not eng.session.logged_in  # the public JSON API, no login
    assert info is not None and info["project_urls"] == {"Homepage": "https://github.com/octo/released-one"}
    assert [r.path for r in warehouse.requests] == ["/pypi/bare/json", "/pypi/released-one/json"]


# --- the job that publishes a project ------------------------------------------------------------


def job(name: str, environment: str = "pypi", url: str = "", workflow: str = "release.yml", packages: str = ""):
    return UploadJob(workflow, name, environment, url, packages)


def test_the_only_group_of_jobs_is_chosen():
    choice = choose([job("wheels"), job("sdist")], "pkg", "PyPI")
    assert (choice.workflow, choice.environment, choice.jobs) == ("release.yml", "pypi", ("wheels", "sdist"))


@pytest.mark.parametrize(
    ("jobs", "project", "chosen"),
    [
        ([job("a", "pypi-a", "https://pypi.org/p/octo-core"), job("b", "pypi-b", "https://pypi.org/p/octo-cli")],
         "Octo_Core", "a"),
        ([job("publish", "octo-core"), job("publish-2", "pypi-octo-core")], "octo-core", "publish"),
        ([job("core", "pypi-core"), job("cli", "pypi-cli", packages="packages/octo-cli/dist/")], "octo-cli", "cli"),
        ([job("publish-octo-core", "env-1"), job("publish-octo-cli", "env-2")], "octo-core", "publish-octo-core"),
    ],
)
def test_the_job_named_after_the_project_is_chosen(jobs, project, chosen):
    assert choose(jobs, project, "PyPI").jobs == (chosen,)


@pytest.mark.parametrize(
    ("jobs", "code", "text"),
    [
        ([], "no-upload", "no workflow in .github/workflows uploads to PyPI"),
        ([job("a", "pypi-a"), job("b", "pypi-b")], "several-uploads", "none names pkg"),
        ([job("a", "x-pkg"), job("b", "y-pkg")], "several-uploads", "more than one names pkg"),
    ],
)
def test_no_single_job_is_undecided(jobs, code, text):
    with pytest.raises(Undecided) as caught:
        choose(jobs, "pkg", "PyPI")
    assert caught.value.code == code and text in caught.value.message
    if code == "several-uploads":
        assert "url: https://pypi.org/p/pkg" in caught.value.message


def write(folder: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    return folder


def test_upload_jobs_read_like_check(tmp_path):
    write(tmp_path, {
        ".github/workflows/release.yml": release("https://upload.pypi.org/legacy/", "pkg"),
        ".github/workflows/test-release.yml": release("https://test.pypi.org/legacy/", "pkg"),
        ".github/workflows/broken.yml": "jobs: [",
        ".github/workflows/calls.yml": "on: push\njobs:\n  call:\n    uses: ./.github/workflows/release.yml\n",
        ".github/workflows/nested/deep.yml": release("https://upload.pypi.org/legacy/", "pkg"),
    })
    assert upload_jobs(tmp_path, "pypi.org") == [UploadJob("release.yml", "publish", "pypi", "https://pypi.org/p/pkg")]
    assert [j.workflow for j in upload_jobs(tmp_path, "test.pypi.org")] == ["test-release.yml"]
    assert upload_jobs(tmp_path / "nowhere", "pypi.org") == []


def test_check_holds_only_the_projects_jobs_to_its_environment(tmp_path):
    write(tmp_path, {".github/workflows/publish.yml": monorepo("https://upload.pypi.org/legacy/")})
    context = RepoContext(cwd=tmp_path, env={"GITHUB_REPOSITORY": "octo/mono"})
    publisher = GitHubPublisher("octo", "mono", "publish.yml", "pypi-core")
    everyone = check_publisher(publisher, index=PYPI, project="mono-core", context=context)
    assert [f.code for f in everyone.findings] == ["environment-mismatch"]
    mine = check_publisher(publisher, index=PYPI, project="mono-core", context=context, jobs=["publish-core"])
    assert mine.findings == []


# --- the batch file ------------------------------------------------------------------------------


def plan_of(*projects: ProjectPlan) -> Plan:
    return Plan(PYPI, "dana", "", list(projects), 0, 0, False, RateLimit())


def test_batch_file_text_cannot_escape_its_comments_or_strings(tmp_path):
    hostile = 'pypi"\n[[publisher]]\nproject = "evil"\n#'
    ready = ProjectPlan("good", "Owner", publisher=GitHubPublisher("octo", "good", "release.yml", hostile),
                        repository="github.com/octo/good", source="x\n[[publisher]]", notes=["a\nproject = 'x'"])
    blocked = ProjectPlan("bad", "Owner", Verdict.NEEDS_WORK, reasons=["line one\n[[publisher]]\r\x00\x7f"])
    text = render_batch(plan_of(ready, blocked), "pypi-trusted-publisher add --config plan.toml", 0)
    data = tomllib.loads(text)
    assert data == {"publisher": [{"project": "good", "existing": True, "owner": "octo", "repository": "good",
                                   "workflow": "release.yml", "environment": hostile}]}
    assert "# bad: needs-work\n#   line one [[publisher]]\n" in text
    assert comment("a\u2028b\tc\x1bd") == "a b c d"


def test_batch_file_round_trips_through_the_loader(tmp_path):
    gitlab = GitLabPublisher("grp/sub", "pkg", ".gitlab-ci.yml", "Prod", "https://gitlab.com")
    projects = [
        ProjectPlan("gh-pkg", "Owner", publisher=GitHubPublisher("octo", "gh-pkg", "release.yml", "")),
        ProjectPlan("lab-pkg", "Owner", publisher=gitlab),
        ProjectPlan("done-pkg", "Owner", Verdict.REGISTERED, publisher=GitHubPublisher("o", "r", "w.yml", "e")),
    ]
    path = tmp_path / "plan.toml"
    path.write_text(render_batch(plan_of(*projects), "add", 0))
    registrations = [resolve(o).registration for o in load_config(str(path), Options())]
    assert [(r.project, r.publisher, r.target) for r in registrations] == [
        ("gh-pkg", GitHubPublisher("octo", "gh-pkg", "release.yml", ""), Target.PROJECT),
        ("lab-pkg", gitlab, Target.PROJECT),
    ]
    assert "already registered: owner o, repository r, workflow w.yml, environment e" in path.read_text()


# --- the GitHub client ---------------------------------------------------------------------------


@pytest.fixture
def fake_github() -> FakeGitHub:
    fake = FakeGitHub().start()
    yield fake
    fake.stop()


def test_spent_rate_limit_waits_when_the_reset_is_near(fake_github):
    clock = Clock()
    fake_github.clock = clock
    fake_github.anonymous_rate_limit = 1
    fake_github.add_repo("octo/pkg", private=False, files={"pyproject.toml": "x"})
    api = GitHubApi(fake_github.url, clock=clock, sleep=clock.sleep)
    try:
        assert api.repository("octo/pkg").default_branch == "main"
        assert api.rate.remaining == 0
        clock.now = api.rate.reset - 20  # the window ends in 20 seconds
        assert api.text("octo/pkg", "pyproject.toml", "main") == "x"
        assert clock.slept == [21.0]
        clock.now += 100  # spent again, and the reset is an hour away: stop asking
        with pytest.raises(RateLimited) as caught:
            api.text("octo/pkg", "pyproject.toml", "main")
    finally:
        api.close()
    assert "it resets at" in caught.value.message and "GITHUB_TOKEN" in caught.value.message
    assert len(fake_github.requests) == 2 and api.requests == 2


def test_source_from_the_api_is_laid_out_like_a_checkout(fake_github, tmp_path):
    fake_github.add_repo("octo/closed", private=True, default_branch="dev", files={
        ".github/workflows/release.yml": "on: push\n", ".github/workflows/notes.txt": "x",
        ".github/workflows/sub/deep.yml": "x", "pyproject.toml": "[project]\n", "src/big.py": "x"})
    fake_github.add_token("tok", repos={"octo/closed"})
    api = GitHubApi(fake_github.url, "tok")
    reader = SourceReader(api, tmp_path)
    try:
        source = reader.read(SourceRepository("github.com", "Octo/Closed"))
        asked = len(fake_github.requests)
        assert reader.read(SourceRepository("github.com", "octo/closed")) is source  # each repository once
    finally:
        api.close()
    assert len(fake_github.requests) == asked == 4  # repository, folder, one workflow, pyproject.toml
    files = sorted(p.relative_to(source.folder).as_posix() for p in source.folder.rglob("*") if p.is_file())
    assert files == [".github/workflows/release.yml", "pyproject.toml"]
    assert source.env == {"GITHUB_REPOSITORY": "octo/closed"} and source.where == "GitHub API, branch dev"
    assert any("private" in note for note in source.notes)
    assert all(path.endswith("ref=dev") for _, path, _ in fake_github.requests if "/contents/" in path)


def mock_api(handler) -> tuple[GitHubApi, Clock, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    clock = Clock()

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    api = GitHubApi("https://api.github.example", "secret-token", transport=httpx.MockTransport(record),
                    clock=clock, sleep=clock.sleep)
    return api, clock, seen


def test_redirect_to_another_host_is_not_followed():
    api, _, seen = mock_api(lambda r: httpx.Response(301, headers={"Location": "https://elsewhere.example/x"}))
    with pytest.raises(GitHubError) as caught:
        api.repository("octo/pkg")
    assert caught.value.code == "github-error" and "another host" in caught.value.message
    assert [r.url.host for r in seen] == ["api.github.example"]
    assert "secret-token" not in caught.value.message


def test_server_errors_are_tried_twice_then_reported():
    api, clock, seen = mock_api(lambda r: httpx.Response(502))
    with pytest.raises(GitHubError) as caught:
        api.repository("octo/pkg")
    assert "HTTP 502" in caught.value.message and len(seen) == 2 and clock.slept == [1.0]


def test_an_api_that_does_not_answer_is_not_asked_again():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    api, clock, seen = mock_api(refuse)
    for _ in range(2):
        with pytest.raises(GitHubError) as caught:
            api.repository("octo/pkg")
        assert "did not answer (ConnectError)" in caught.value.message
    assert len(seen) == 2 and clock.slept == [1.0]


def test_secondary_rate_limit_waits_for_retry_after():
    answers = iter([httpx.Response(403, headers={"Retry-After": "5"}),
                    httpx.Response(200, json={"full_name": "octo/pkg", "default_branch": "dev"})])
    api, clock, seen = mock_api(lambda r: next(answers))
    assert api.repository("octo/pkg").default_branch == "dev"
    assert clock.slept == [6.0] and seen[0].headers["Authorization"] == "Bearer secret-token"


@pytest.mark.parametrize("value", ["http://api.example.org", "ftp://x", "https://user@api.example.org"])
def test_github_api_url_must_be_https(value):
    with pytest.raises(UsageError):
        api_url({"GITHUB_API_URL": value})
    assert api_url({}) == "https://api.github.com" and api_url({"GITHUB_API_URL": "http://127.0.0.1:9/"})


# --- the projects pages --------------------------------------------------------------------------


def test_recorded_projects_page():
    (project,) = parse_projects(Page(recorded_text("12-manage-projects.html")))
    assert (project.name, project.owner, project.organization) == ("danas-proj", True, "")


def test_projects_pages_of_the_fake_show_roles_and_organizations(warehouse):
    warehouse.add_organization("Octo-Org", owners=[DEFAULT_USERNAME])
    warehouse.add_project("owned", owners=[DEFAULT_USERNAME])
    warehouse.add_project("helped", owners=["x"], maintainers=[DEFAULT_USERNAME], has_releases=True)
    warehouse.add_project("org-pkg", owners=["x"], organization="Octo-Org")
    warehouse.add_project("unrelated", owners=["x"])
    credentials = Credentials(DEFAULT_USERNAME, Secret(DEFAULT_PASSWORD), Secret(DEFAULT_TOTP_SECRET))
    with engine(resolve_index(warehouse.url), credentials, EngineOptions(timeout=5)) as eng:
        account = read_projects(eng.session)
        organization = read_projects(eng.session, "octo-org")
        with pytest.raises(RegistrationFailed) as caught:
            read_projects(eng.session, "nowhere")
    assert sorted((p.name, p.owner, p.organization) for p in account) == [
        ("helped", False, ""), ("org-pkg", True, "Octo-Org"), ("owned", True, "")]
    assert [(p.name, p.owner) for p in organization] == [("org-pkg", True)]
    assert caught.value.reason == "not-found"
    assert sum(r.path == "/account/login/" and r.method == "POST" for r in warehouse.requests) == 1


INVITATION = """<main><div class="package-list">
  <div class="package-snippet"><h3 class="package-snippet__title"><a href="/project/x/">invited</a></h3>
    <div class="package-snippet__buttons"><form method="post" action="/account/verify-project-role/">
      <input name="token" type="hidden" value="t"><input name="accept" type="submit" value="Accept"></form></div>
  </div></div>
<div class="package-list"><div class="package-snippet">
  <h3 class="package-snippet__title">mine <a href="/manage/project/mine/roles/" class="badge">Sole owner</a></h3>
  <div class="package-snippet__buttons"><a href="/manage/project/mine/releases/" class="button button--primary">
  Manage</a></div></div></div></main>"""


def test_invitations_are_not_projects_and_odd_pages_are_refused():
    (project,) = parse_projects(Page(INVITATION))
    assert (project.name, project.owner) == ("mine", True)
    with pytest.raises(PageChanged):
        parse_projects(Page("<main><p>Log in</p></main>"))
    with pytest.raises(PageChanged):
        parse_projects(Page(INVITATION.replace('class="button button--primary"', 'class="button"')))


# --- progress over several runs ------------------------------------------------------------------


def registration(project: str) -> Registration:
    return Registration(PYPI, project, GitHubPublisher("octo", project, "release.yml", "pypi"), Target.PROJECT)


@pytest.mark.parametrize(
    ("content", "index", "message"),
    [
        ("not json", "https://pypi.org", "not a progress file this tool can read"),
        ('{"version": 1, "items": [], "plan_sha256": "0", "index": "https://pypi.org"}', "https://pypi.org",
         "belongs to another plan"),
        (None, "https://test.pypi.org", "belongs to https://pypi.org, not https://test.pypi.org"),
    ],
)
def test_progress_of_something_else_is_refused_in_one_line(tmp_path, content, index, message):
    config = tmp_path / "plan.toml"
    config.write_text("[[publisher]]\n")
    if content is None:
        Progress.load(config, "https://pypi.org", [registration("a")]).save(0)
    else:
        state_path(config).write_text(content)
    with pytest.raises(UsageError) as caught:
        Progress.load(config, index, [registration("a")])
    assert message in caught.value.message and "\n" not in caught.value.message


def test_plans_over_the_daily_limit_take_several_runs(tmp_path, monkeypatch, capsys):
    regs = [registration(f"p{n}") for n in range(101)]
    with pytest.raises(UsageError) as caught:
        check_plan(regs)
    assert "--resume" in caught.value.message
    check_plan(regs, resumable=True)
    config = tmp_path / "plan.toml"
    config.write_text("".join(f'[[publisher]]\nproject = "p{n}"\nexisting = true\nowner = "octo"\n'
                              f'repository = "p{n}"\nworkflow = "release.yml"\nenvironment = "pypi"\n\n'
                              for n in range(101)))
    for name in ("PYPI_USERNAME", "PYPI_PASSWORD", "PYPI_TOTP_SECRET", "PYPI_API_TOKEN", "PYPI_PASSKEY"):
        monkeypatch.delenv(name, raising=False)
    # Without credentials nothing is sent (the manual link only), but the run is planned and recorded.
    code = main(["add", "--config", str(config), "--resume", "--method", "link", "--json"])
    out, err = capsys.readouterr()
    assert code == 1 and "101 registrations left" in err and "this will take 2 runs" in err
    summary = json.loads(out.splitlines()[-1])
    assert summary == {"status": "incomplete", "plan": str(config), "state": str(state_path(config)), "done": 0,
                       "failed": 101, "left": 0, "not_before": None}


def test_an_interrupted_run_keeps_what_it_did(warehouse, tmp_path, monkeypatch, capsys):
    for name in ("p1", "p2", "p3"):
        warehouse.add_project(name, owners=[DEFAULT_USERNAME])
    warehouse.github_owners = {"octo": 1}
    config = tmp_path / "plan.toml"
    config.write_text("".join(f'[[publisher]]\nproject = "{n}"\nexisting = true\nowner = "octo"\n'
                              f'repository = "{n}"\nworkflow = "release.yml"\nenvironment = "pypi"\n\n'
                              for n in ("p1", "p2", "p3")))
    monkeypatch.setenv("PYPI_USERNAME", DEFAULT_USERNAME)
    monkeypatch.setenv("PYPI_PASSWORD", DEFAULT_PASSWORD)
    monkeypatch.setenv("PYPI_TOTP_SECRET", DEFAULT_TOTP_SECRET)
    register = Engine.register
    calls = []

    def interrupted_on_the_second(self, registration):
        calls.append(registration.project)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return register(self, registration)

    monkeypatch.setattr(Engine, "register", interrupted_on_the_second)
    args = ["add", "--config", str(config), "--index", warehouse.url, "--resume", "--timeout", "5"]
    assert main(args) == 130
    (line,) = capsys.readouterr().err.strip().splitlines()[-1:]
    assert line == (f"interrupted: 1 of 3 done, progress saved in {state_path(config)}; resume with: "
                    f"pypi-trusted-publisher add --config {config} --index {warehouse.url} --resume")
    state = json.loads(state_path(config).read_text())
    assert [i["status"] for i in state["items"]] == ["done", "in-progress", "left"]  # the second was under way

    monkeypatch.setattr(Engine, "register", register)
    user = warehouse.users[DEFAULT_USERNAME]
    user.last_totp_value = user.last_login = None  # a minute later
    assert main(args) == 0
    assert "1 of 3 done in earlier runs" in capsys.readouterr().err
    assert [len(warehouse.projects[n].publishers) for n in ("p1", "p2", "p3")] == [1, 1, 1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project", "x", "--owner", "o", "--repo", "r", "--workflow", "w.yml"], "--resume goes with --config"),
        (["--config", "plan.toml", "--dry-run"], "cannot go with --dry-run"),
        (["--config", "plan.toml", "--index", "pypi", "--index", "testpypi"], "one index at a time"),
    ],
)
def test_resume_usage_errors(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.toml").write_text('[[publisher]]\nproject = "x"\nowner = "o"\nrepository = "r"\n')
    assert main(["add", "--resume", *args]) == 2
    assert message in capsys.readouterr().err
