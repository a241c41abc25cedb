"""The report of a failed install, which action.yml runs with setup-python's interpreter and no dependencies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pypi_trusted_publisher.action.install_failed import report
from pypi_trusted_publisher.action.settings import env_name
from test_action_entrypoint import read_outputs

SRC = Path(__file__).resolve().parents[1] / "src"


def runner_files(tmp_path: Path, **inputs: str) -> dict[str, str]:
    (tmp_path / "output").write_text("", encoding="utf-8")
    (tmp_path / "summary").write_text("", encoding="utf-8")
    env = {"GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    return env | {env_name(name.replace("_", "-")): value for name, value in inputs.items()}


def test_outputs_error_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = runner_files(tmp_path, index="testpypi\npypi", pypi_password="hunter2")
    assert report(env) == 1
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("::error title=PyPI trusted publisher%3A install failed::")
    assert "https://test.pypi.org/manage/account/publishing/" in line
    outputs = read_outputs(tmp_path / "output")
    assert outputs["status"] == "failed" and outputs["reason"] == "install-failed"
    assert outputs["check"] == "skipped" and outputs["login"] == "none"
    assert "nothing was registered" in outputs["message"]
    assert outputs["manual-url"] == "https://test.pypi.org/manage/account/publishing/"
    assert json.loads(outputs["json"]) == json.loads(outputs["results"])[0]
    declared = yaml.safe_load((Path(__file__).parents[1] / "action.yml").read_text(encoding="utf-8"))["outputs"]
    assert set(outputs) == set(declared)  # every output a later job may read is set, also here
    assert json.loads(outputs["json"])["reason"] == "install-failed"
    summary = (tmp_path / "summary").read_text(encoding="utf-8")
    assert "install failed" in summary and outputs["manual-url"] in summary
    assert "hunter2" not in summary + json.dumps(outputs)


def test_fail_on_error_false_succeeds_and_an_invalid_index_gives_no_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report(runner_files(tmp_path, index="ftp://example.org", fail_on_error="false")) == 0
    assert "::notice " in capsys.readouterr().out
    outputs = read_outputs(tmp_path / "output")
    assert outputs["status"] == "failed" and outputs["manual-url"] == ""


def test_runs_with_the_standard_library_alone(tmp_path: Path) -> None:
    """``-S``: no site-packages, as in setup-python's interpreter before the install."""
    env = runner_files(tmp_path) | {"PYTHONPATH": str(SRC)}
    proc = subprocess.run(
        [sys.executable, "-S", "-P", "-m", "pypi_trusted_publisher.action.install_failed"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    assert read_outputs(tmp_path / "output")["manual-url"] == "https://pypi.org/manage/account/publishing/"
