"""Workflow commands in their canonical form: ``::add-mask::value``, never ``::add-mask ::value``.

GitHub's runner accepts the form with a space; act does not parse it, so under
act a value "masked" that way is printed as it is (tests/test_action_act.py
shows it end to end).
"""

from __future__ import annotations

import pytest

from pypi_trusted_publisher.action import entrypoint
from pypi_trusted_publisher.action.commands import add_mask, command
from pypi_trusted_publisher.action.settings import env_name


def test_secret_inputs_are_masked_in_the_canonical_form(capsys: pytest.CaptureFixture[str]) -> None:
    env = {env_name("pypi-password"): "hunter2 hunter2", env_name("api-token"): "pypi-Ag%0Aa"}
    entrypoint.mask_secrets(env)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "::add-mask::hunter2 hunter2",
        "::add-mask::hunter2hunter2",  # the same without whitespace
        "::add-mask::pypi-Ag%250Aa",  # % escaped, so the runner decodes the value itself
    ]


def test_a_secret_found_later_is_masked_the_same_way(capsys: pytest.CaptureFixture[str]) -> None:
    entrypoint.mask("eyJ1IjoiZGFuYSJ9.Zx1Y2A.sig")
    add_mask("s3cret:with:colons")
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["::add-mask::eyJ1IjoiZGFuYSJ9.Zx1Y2A.sig", "::add-mask::s3cret:with:colons"]


def test_command_escapes_message_and_properties() -> None:
    assert command("add-mask", "a\nb") == "::add-mask::a%0Ab"
    assert command("error", "50% done\r\n", title="A: b, c") == "::error title=A%3A b%2C c::50%25 done%0D%0A"
