"""The fakes' account-wide views, over raw HTTP: projects pages, the JSON API's URLs, GitHub's contents and limits."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from fake_github import FakeGitHub
from fake_warehouse import DEFAULT_USERNAME, FakeWarehouse
from test_fake_warehouse import Browser, attr, html, one, text, title


@pytest.fixture
def accounts(warehouse: FakeWarehouse) -> Iterator[FakeWarehouse]:
    warehouse.add_organization("Octo-Org", owners=["boss"], members=[DEFAULT_USERNAME])
    warehouse.add_organization("Mine", owners=[DEFAULT_USERNAME])
    warehouse.add_project("Owned_Pkg", owners=[DEFAULT_USERNAME], has_releases=True)
    warehouse.add_project("helped", owners=["x"], maintainers=[DEFAULT_USERNAME])
    warehouse.add_project("org-theirs", owners=["boss"], organization="Octo-Org")
    warehouse.add_project("org-owned", owners=["x"], organization="Mine")
    warehouse.add_project("unrelated", owners=["x"])
    yield warehouse
    assert warehouse.errors == []


def logged_in(wh: FakeWarehouse) -> Browser:
    browser = Browser(wh)
    assert browser.login().status_code == 303
    return browser


def snippets(response: httpx.Response) -> dict[str, object]:
    found = {}
    for snippet in html(response).css("div.package-list div.package-snippet"):
        title_node = one(snippet, "h3.package-snippet__title")
        found[" ".join(title_node.text(deep=False).split())] = snippet
    return found


def test_projects_page_shows_manage_only_to_owners(accounts):
    response = logged_in(accounts).get("/manage/projects/")
    assert title(response) == "Your projects · PyPI"
    assert text(one(response, "h1.page-title span.badge")) == "3"
    listed = snippets(response)
    # A member's view of an organization's project is the organization's page, not this one.
    assert set(listed) == {"Owned_Pkg", "helped", "org-owned"}
    owned = listed["Owned_Pkg"]
    assert attr(one(owned, "a.button--primary"), "href") == "/manage/project/owned-pkg/releases/"
    assert attr(one(owned, "a.button:not(.button--primary)"), "href") == "/project/owned-pkg/"
    helped = listed["helped"]
    assert attr(one(helped, "button.button--primary"), "title") == "You are not an owner of this project"
    assert attr(one(helped, "button.button:not(.button--primary)"), "title") == "This project has no releases"
    org_owned = listed["org-owned"]  # no role of its own: the organization's owner manages it
    assert attr(one(org_owned, "a.badge"), "href") == "/manage/organization/mine/projects/"
    assert one(org_owned, "a.button--primary") is not None


def test_organization_projects_page(accounts, warehouse):
    browser = logged_in(accounts)
    response = browser.get("/manage/organization/octo-org/projects/")
    assert response.status_code == 200 and title(response) == "Manage 'Octo-Org' projects · PyPI"
    (theirs,) = snippets(response).values()
    assert attr(one(theirs, "button.button--primary"), "title") == "You are not an owner of this project"
    assert browser.get("/manage/organization/nowhere/projects/").status_code == 404
    warehouse.add_organization("closed", owners=["x"])
    assert browser.get("/manage/organization/closed/projects/").status_code == 403
    assert Browser(warehouse).get("/manage/organization/mine/projects/").headers["location"].startswith(
        f"{warehouse.url}/account/login/")
    warehouse.expire_reauth(DEFAULT_USERNAME)
    assert title(browser.get("/manage/organization/mine/projects/")) == "Confirm password · PyPI"
    warehouse.organizations["Mine"].active = False
    moved = browser.get("/manage/organization/mine/projects/")
    assert moved.status_code == 303 and moved.headers["location"] == f"{warehouse.url}/manage/organizations/"


def test_json_api_project_urls(warehouse):
    warehouse.add_project("pkg", owners=["a"], maintainers=["b"], has_releases=True, home_page="https://pkg.example",
                          project_urls={"Homepage": "https://pkg.example", "Source": "https://github.com/o/pkg"})
    warehouse.add_project("plain", owners=["a"], has_releases=True)
    with httpx.Client(base_url=warehouse.url) as http:
        info = http.get("/pypi/pkg/json").json()
        plain = http.get("/pypi/plain/json").json()["info"]
    assert info["info"]["project_urls"] == {"Homepage": "https://pkg.example", "Source": "https://github.com/o/pkg"}
    assert info["info"]["home_page"] == "https://pkg.example"
    assert info["ownership"] == {"roles": [{"role": "Owner", "user": "a"}, {"role": "Maintainer", "user": "b"}],
                                 "organization": None}
    assert plain["project_urls"] is None and plain["home_page"] is None


# --- the fake GitHub's read-only side ------------------------------------------------------------


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    fake = FakeGitHub().start()
    fake.add_repo("octo/open", private=False, files={".github/workflows/a.yml": "on: push\n", "README": "hi"},
                  default_branch="trunk")
    fake.add_repo("octo/closed", private=True, files={"README": "secret"})
    fake.add_token("tok", repos={"octo/closed"})
    yield fake
    fake.stop()


def test_repositories_and_contents(gh):
    with httpx.Client(base_url=gh.url) as anonymous:
        repo = anonymous.get("/repos/octo/open").json()
        assert (repo["full_name"], repo["default_branch"], repo["private"]) == ("octo/open", "trunk", False)
        assert anonymous.get("/repos/octo/closed").status_code == 404
        listing = anonymous.get("/repos/octo/open/contents/.github", params={"ref": "trunk"}).json()
        assert listing == [{"type": "dir", "name": "workflows", "path": ".github/workflows", "size": 0}]
        file = anonymous.get("/repos/octo/open/contents/.github/workflows/a.yml").json()
        assert file["encoding"] == "base64" and base64.b64decode(file["content"]) == b"on: push\n"
        assert anonymous.get("/repos/octo/open/contents/README", params={"ref": "main"}).status_code == 404
        assert anonymous.get("/repos/octo/open/contents/missing").status_code == 404
        assert anonymous.post("/repos/octo/open/issues", json={}).status_code == 401
    with httpx.Client(base_url=gh.url, headers={"Authorization": "Bearer tok"}) as token:
        assert token.get("/repos/octo/closed/contents/README").status_code == 200
        assert token.get("/repos/octo/open").status_code == 404  # this token reaches octo/closed only
    with httpx.Client(base_url=gh.url, headers={"Authorization": "Bearer wrong"}) as wrong:
        assert wrong.get("/repos/octo/open").status_code == 401


def test_renamed_repository_answers_301(gh):
    repo = gh.rename_repo("octo/open", "octo/opened")
    with httpx.Client(base_url=gh.url) as client:
        moved = client.get("/repos/octo/open")
        assert moved.status_code == 301 and moved.headers["location"] == f"{gh.url}/repositories/{repo.id}"
        assert client.get(moved.headers["location"]).json()["full_name"] == "octo/opened"
        assert client.get("/repos/octo/opened/contents/README").status_code == 200


def test_rate_limit_headers_and_window(gh):
    now = [1_800_000_000.0]
    gh.clock = lambda: now[0]
    gh.anonymous_rate_limit = 2
    with httpx.Client(base_url=gh.url) as client:
        first = client.get("/repos/octo/open")
        assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == ("2", "1")
        assert first.headers["x-ratelimit-reset"] == str(int(now[0]) + 3600)
        client.get("/repos/octo/open")
        spent = client.get("/repos/octo/open")
        assert spent.status_code == 403 and "rate limit exceeded" in spent.json()["message"]
        assert spent.headers["x-ratelimit-remaining"] == "0"
        assert gh.rate_remaining() == 0 and gh.rate_remaining("tok") == 5000
        now[0] += 3600
        assert client.get("/repos/octo/open").status_code == 200
