"""Pages that changed shape: the tool says ``page-changed`` and stops, never posts a half-filled form.

The fake Warehouse's ``mutate_page`` hook rewrites one HTML answer on its way out, as a changed Warehouse would send
it: a field dropped or renamed, a form renamed, a second form, the page cut short, bytes that are not UTF-8, 10 MB of
padding. Hypothesis picks the page and the change; a full registration then runs in-process against the fake and
must end in a Result (no exception), with no POST after a page it called changed, and no secret in what it says
(docs/protocol/errors.md#page-changed). Recorded pages from a running Warehouse get the same mutations, parser by
parser, when they are present.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from clocks import Clock
from fake_warehouse import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, FakeWarehouse
from pypi_trusted_publisher.core.indexes import resolve_index
from pypi_trusted_publisher.core.models import Registration, Status, Target
from pypi_trusted_publisher.core.publishers import GitHubPublisher
from pypi_trusted_publisher.core.secret import Secret
from pypi_trusted_publisher.credentials.values import Credentials
from pypi_trusted_publisher.engine.engine import Engine
from pypi_trusted_publisher.engine.options import EngineOptions
from pypi_trusted_publisher.transports.web.pages import Page, PageChanged

LOGIN, PROJECT_PAGE, ACCOUNT_PAGE = "/account/login/", "/manage/project/my-pkg/settings/publishing/", (
    "/manage/account/publishing/"
)
FLASHES = "/_includes/unauthed/flash-messages/"
# The fields each page must have for the tool to fill its POST: dropping or renaming one is a changed page.
RELIED_ON = {
    LOGIN: ("csrf_token", "username", "password"),
    PROJECT_PAGE: ("csrf_token", "owner", "repository", "workflow_filename", "environment"),
    ACCOUNT_PAGE: ("csrf_token", "project_name", "owner", "repository", "workflow_filename", "environment"),
}
PAGES = (LOGIN, PROJECT_PAGE, ACCOUNT_PAGE, FLASHES)
PROFILE = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


@dataclass(frozen=True)
class Mutation:
    kind: str
    name: str = ""
    cut: float = 1.0

    def apply(self, body: bytes) -> bytes:
        if self.kind == "truncate":
            return body[: int(len(body) * self.cut)]
        if self.kind == "not-utf8":
            at = int(len(body) * self.cut)
            return body[:at] + b"\xff\xfe\xc3(\x80" + body[at:]
        if self.kind == "huge":
            return body.replace(b"</body>", b"<div>" + b"x" * (10 * 1024 * 1024) + b"</div></body>")
        tree = HTMLParser(body.decode("utf-8", "replace"))
        if self.kind in ("drop-field", "rename-field"):
            for node in tree.css(f'[name="{self.name}"]'):
                if self.kind == "drop-field":
                    node.decompose()
                else:
                    node.attrs["name"] = f"{self.name}_v2"
        elif self.kind == "rename-forms":
            for form in tree.css("form[id]"):
                form.attrs["id"] = f"{form.attributes['id']}-v2"
        elif self.kind == "second-form":
            form = tree.css_first("form")
            if form is not None and form.parent is not None:
                form.insert_after(HTMLParser(f'<form action="/elsewhere/">{form.html}</form>').body.child)  # type: ignore[union-attr]
        return (tree.html or "").encode()


def mutations() -> st.SearchStrategy[Mutation]:
    names = sorted({name for fields in RELIED_ON.values() for name in fields})
    return st.one_of(
        st.builds(Mutation, st.sampled_from(["drop-field", "rename-field"]), st.sampled_from(names)),
        st.builds(Mutation, st.sampled_from(["rename-forms", "second-form"])),
        st.builds(Mutation, st.sampled_from(["truncate", "not-utf8"]), cut=st.floats(0.0, 0.99)),
        st.just(Mutation("huge")),
    )


def run_with(page: str, mutation: Mutation) -> tuple[Any, FakeWarehouse, int | None]:
    """One registration with ``page`` changed the first time it is served; the result, the fake, and the position of
    the changed answer in its request log (None: that page was never asked for)."""
    clock = Clock()
    changed: list[int] = []
    with FakeWarehouse() as wh:
        wh.clock = clock
        wh.add_default_user()
        wh.add_project("my-pkg", owners=[DEFAULT_USERNAME])
        wh.github_owners = {"octo-org": 1001}

        def mutate(record: Any, body: bytes) -> bytes:
            if changed or record.path.split("?")[0] != page:
                return body
            changed.append(len(wh.requests) - 1)
            return mutation.apply(body)

        wh.mutate_page = mutate
        project, target = ("brand-new", Target.PENDING) if page == ACCOUNT_PAGE else ("my-pkg", Target.PROJECT)
        registration = Registration(resolve_index(wh.url), project,
                                    GitHubPublisher("octo-org", "my-pkg", "release.yml", "pypi"), target)  # fmt: skip
        credentials = Credentials(DEFAULT_USERNAME, Secret(DEFAULT_PASSWORD), Secret(DEFAULT_TOTP_SECRET))
        engine = Engine(registration.index, credentials, EngineOptions(timeout=5, clock=clock, sleep=clock.sleep))
        try:
            result = engine.register(registration)  # any exception fails the test: that is the traceback
        finally:
            engine.close()
        assert wh.errors == []
        return result, wh, changed[0] if changed else None


def assert_stopped_cleanly(result: Any, wh: FakeWarehouse, at: int | None) -> None:
    said = " ".join([result.message, result.manual_url or "", repr(result)])
    for secret in (DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, *wh._sessions):
        assert secret not in said
    if result.reason == "page-changed":
        assert at is not None
        assert [r for r in wh.requests[at + 1:] if r.method == "POST"] == []  # nothing posted after it
        assert "changed (" in result.message and result.manual_url


@PROFILE
@given(page=st.sampled_from(PAGES), mutation=mutations())
def test_any_changed_page_ends_in_a_result_and_nothing_is_posted_after_it(page: str, mutation: Mutation) -> None:
    result, wh, at = run_with(page, mutation)
    assert result.status in (Status.REGISTERED, Status.EXISTS, Status.FAILED)
    assert_stopped_cleanly(result, wh, at)


@PROFILE
@given(page=st.sampled_from(sorted(RELIED_ON)), data=st.data())
def test_a_field_the_post_needs_gone_is_page_changed_before_that_post(page: str, data: st.DataObject) -> None:
    mutation = Mutation(data.draw(st.sampled_from(["drop-field", "rename-field"])),
                        data.draw(st.sampled_from(RELIED_ON[page])))  # fmt: skip
    result, wh, at = run_with(page, mutation)
    assert result.status is Status.FAILED and result.reason == "page-changed", result.message
    assert mutation.name in result.message or "csrf_token" in result.message or "form" in result.message
    assert_stopped_cleanly(result, wh, at)
    publishing_posts = [r for r in wh.requests if r.method == "POST" and "publishing" in r.path]
    assert publishing_posts == []


def test_the_flash_endpoint_gone_is_page_changed(warehouse: FakeWarehouse) -> None:
    """A refused POST is explained from PyPI's flash messages; an endpoint that moved cannot say why: page-changed,
    not a guess, and nothing posted again."""
    warehouse.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    warehouse.github_owners = {}  # the form refuses the owner: a 200 with the form again, then the flashes are read
    warehouse.fail_next("GET", FLASHES, status=404)
    publisher = GitHubPublisher("octo-org", "my-pkg", "release.yml", "pypi")
    registration = Registration(resolve_index(warehouse.url), "my-pkg", publisher, Target.PROJECT)
    credentials = Credentials(DEFAULT_USERNAME, Secret(DEFAULT_PASSWORD), Secret(DEFAULT_TOTP_SECRET))
    engine = Engine(registration.index, credentials, EngineOptions(timeout=5))
    try:
        result = engine.register(registration)
    finally:
        engine.close()
    assert result.reason == "page-changed" and "flash endpoint" in result.message, result.message
    assert sum(1 for r in warehouse.requests if r.method == "POST" and "publishing" in r.path) == 1


RECORDED = ["01-login.html", "30-project-publishing-empty.html", "49-project-publishing-after-activestate.html",
            "29-account-publishing-after-limit.html", "12-manage-projects.html"]  # fmt: skip


@pytest.mark.parametrize("name", RECORDED)
def test_recorded_pages_mutated_raise_page_changed_or_parse(name: str) -> None:
    from recordings import recorded_text

    original = recorded_text(name).encode()
    rng = random.Random(name)
    names = sorted({n for fields in RELIED_ON.values() for n in fields})
    mutations_ = [Mutation("truncate", cut=rng.random()) for _ in range(8)] + [
        Mutation("not-utf8", cut=rng.random()), Mutation("rename-forms"), Mutation("second-form"), Mutation("huge"),
        *(Mutation(kind, field) for kind in ("drop-field", "rename-field") for field in names),
    ]  # fmt: skip
    for mutation in mutations_:
        check_parsers(Page(mutation.apply(original).decode("utf-8", "replace"), name))


def check_parsers(page: Page) -> None:
    """Each parser either reads the page or raises PageChanged with what is missing; nothing else."""
    from pypi_trusted_publisher.transports.web.projects import parse_projects

    reads = [page.csrf_token, lambda: page.publisher_rows(pending=False), lambda: page.publisher_rows(pending=True),
             lambda: parse_projects(page), lambda: page.form_with("csrf_token", "username", "password")]  # fmt: skip
    for read in reads:
        try:
            read()
        except PageChanged as exc:
            assert exc.reason == "page-changed" and exc.detail
