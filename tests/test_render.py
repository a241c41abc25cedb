"""Every result renders in every output mode: text, JSON and the action's job summary."""

from __future__ import annotations

import json

import pytest

from pypi_trusted_publisher.action import summary
from pypi_trusted_publisher.core.indexes import resolve_index
from pypi_trusted_publisher.core.models import Registration, Result, Status, Target
from pypi_trusted_publisher.core.publishers import GitHubPublisher
from pypi_trusted_publisher.render import results as render

REGISTRATION = Registration(
    resolve_index("pypi"), "My_Pkg", GitHubPublisher("octo-org", "my-pkg", "release.yml", "pypi"), Target.AUTO
)


def result(status: Status, pending: bool | None = False, **kwargs: object) -> Result:
    return Result(
        status=status,
        registration=REGISTRATION,
        pending=pending,
        message="What happened.",
        manage_url="https://pypi.org/manage/project/my-pkg/settings/publishing/",
        manual_url="https://pypi.org/manage/project/my-pkg/settings/publishing/?provider=github",
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("status", list(Status))
def test_every_status_renders_everywhere(status: Status) -> None:
    done = result(status)
    assert render.text(done).startswith(f"{render.SYMBOL[status]}: What happened.")
    assert json.loads(render.json_line(done))["status"] == status.value
    assert "What happened." in summary.result_markdown(done)
    assert status.value in summary.batch_markdown([done, done])
    assert status.value in render.summary_table([done, done])


def test_a_removal_shows_where_it_was_managed_not_how_to_add() -> None:
    text = render.text(result(Status.REMOVED))
    assert "manage    https://pypi.org/manage/project/my-pkg/settings/publishing/" in text
    assert "manual" not in text and "Add" not in text
    assert "Next steps" not in summary.result_markdown(result(Status.REMOVED))


def test_listings_count_in_the_singular() -> None:
    from pypi_trusted_publisher.core.models import Place, Row

    place = Place(resolve_index("pypi"), "my-pkg", Target.PROJECT)
    row = Row("1", REGISTRATION.publisher, "my-pkg")
    assert render.rows_table(place, False, [row]).startswith("1 publisher of 'my-pkg' on pypi.org:")
    assert render.rows_table(place, True, [row]).startswith("1 pending publisher on pypi.org:")
    assert render.rows_table(place, True, [row, row]).startswith("2 pending publishers on pypi.org:")


def test_one_shape_for_every_result_line() -> None:
    assert tuple(result(Status.FAILED).to_dict())[: len(render.RESULT_KEYS)] == render.RESULT_KEYS
    line = json.loads(render.failure_line("network", "No answer.", retry_after=3))
    assert tuple(line)[: len(render.RESULT_KEYS)] == render.RESULT_KEYS and line["retry_after"] == 3
