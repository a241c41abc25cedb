"""The runner's channels (``action/runner.py``): workflow commands in their canonical form, outputs and summary.

``::add-mask::value``, never ``::add-mask ::value``: GitHub's runner accepts the form with a space; act does not parse
it, so under act a value "masked" that way is printed as it is (tests/test_action_act.py shows it end to end).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pypi_trusted_publisher.action import entrypoint
from pypi_trusted_publisher.action.runner import Runner, annotation, command
from pypi_trusted_publisher.action.settings import env_name

SRC = Path(__file__).resolve().parents[1] / "src" / "pypi_trusted_publisher"


def test_secret_inputs_are_masked_in_the_canonical_form(capsys: pytest.CaptureFixture[str]) -> None:
    env = {env_name("pypi-password"): "hunter2 hunter2", env_name("api-token"): "pypi-Ag%0Aa"}
    entrypoint.mask_secrets(Runner(), env)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "::add-mask::hunter2 hunter2",
        "::add-mask::hunter2hunter2",  # the same without whitespace
        "::add-mask::pypi-Ag%250Aa",  # % escaped, so the runner decodes the value itself
    ]


def test_a_secret_found_later_is_masked_the_same_way(capsys: pytest.CaptureFixture[str]) -> None:
    runner = Runner()
    runner.mask("eyJ1IjoiZGFuYSJ9.Zx1Y2A.sig")
    runner.mask("s3cret:with:colons")
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["::add-mask::eyJ1IjoiZGFuYSJ9.Zx1Y2A.sig", "::add-mask::s3cret:with:colons"]


def test_command_escapes_message_and_properties() -> None:
    assert command("add-mask", "a\nb") == "::add-mask::a%0Ab"
    assert command("error", "50% done\r\n", title="A: b, c") == "::error title=A%3A b%2C c::50%25 done%0D%0A"
    assert annotation("warning", "m", title="t", line=3) == "::warning title=t::m"  # a line only with a file
    assert annotation("error", "m", title="t", file="a,b", line=3) == "::error file=a%2Cb,line=3,title=t::m"


def test_outputs_and_summary_go_to_the_paths_given_never_to_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "process-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(elsewhere))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(elsewhere))
    runner = Runner.from_env({"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "sum")})
    runner.set_outputs({"status": "registered", "message": "two\nlines"})
    runner.append_summary("## done")
    Runner().set_outputs({"status": "x"})  # outside a runner: nowhere
    Runner().append_summary("x")
    out = (tmp_path / "out").read_text()
    assert out.startswith("status<<ghadelimiter_") and "\ntwo\nlines\n" in out
    assert (tmp_path / "sum").read_text() == "## done\n"
    assert not elsewhere.exists()
    assert capsys.readouterr().out == ""


def test_no_commands_block_stops_and_resumes_with_one_token(capsys: pytest.CaptureFixture[str]) -> None:
    runner = Runner()
    with pytest.raises(RuntimeError), runner.no_commands():
        runner.echo("::error::from the index")
        raise RuntimeError
    first, data, last = capsys.readouterr().out.splitlines()
    token = first.removeprefix("::stop-commands::")
    assert len(token) == 32 and data == "::error::from the index" and last == f"::{token}::"


def test_one_module_writes_workflow_commands() -> None:
    """Only action/runner.py spells a workflow command or opens the runner's files; nothing uses a helper library."""
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not any(name.startswith(("github_action_utils", "actions_toolkit")) for name in imported), path
        if path.name != "runner.py":
            literals = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            spelled = [v for v in literals if v.startswith("::") or "GITHUB_OUTPUT" in v or "%0A" in v]
            assert not spelled, (path, spelled)
