"""action.yml, the workflows and the requirements agree with the entrypoint and the rules.

Rules checked here: every input reaches the entrypoint through ``env:`` and
only there, every output is written by the entrypoint, no ``run:`` contains an
expression, every third-party action is pinned by a full commit SHA with a
version comment, and every runtime requirement is hash-pinned.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pypi_trusted_publisher.action.entrypoint import OUTPUTS
from pypi_trusted_publisher.action.settings import INPUTS, SECRET_INPUTS, env_name

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml")) + sorted((ROOT / "examples").glob("*.yml"))
USES_RE = re.compile(r"^\s*(?:-\s*)?uses:\s*(\S+?)(?:\s+#\s*(\S.*))?$", re.MULTILINE)
SHA_RE = re.compile(r"^[0-9a-f]{40}$")


def steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return document["runs"]["steps"]
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def entry_step() -> dict[str, Any]:
    [step] = [s for s in ACTION["runs"]["steps"] if "pypi_trusted_publisher.action" in s.get("run", "")]
    return step


def test_every_input_is_mapped_into_env_exactly_once() -> None:
    env = entry_step()["env"]
    assert set(ACTION["inputs"]) == set(INPUTS)
    for name in INPUTS:
        assert env[env_name(name)] == f"${{{{ inputs.{name} }}}}", name
    mapped = {k for k, v in env.items() if "inputs." in str(v)}
    assert mapped == {env_name(n) for n in INPUTS}


def test_inputs_have_descriptions_defaults_and_none_is_required() -> None:
    for name, spec in ACTION["inputs"].items():
        assert spec.get("description"), name
        assert "default" in spec, name
        assert spec.get("required", False) is False, name
    assert ACTION["inputs"]["confirmation-token"]["default"] == "${{ github.token }}"
    for name in SECRET_INPUTS[:3]:
        assert ACTION["inputs"][name]["default"] == ""


def test_every_output_is_declared_with_a_value_from_the_entrypoint() -> None:
    step_id = entry_step()["id"]
    assert set(ACTION["outputs"]) == set(OUTPUTS)
    for name, spec in ACTION["outputs"].items():
        assert spec["description"]
        assert spec["value"] == f"${{{{ steps.{step_id}.outputs.{name} }}}}"


def test_composite_with_branding_and_setup_python_isolated() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert ACTION["branding"]["icon"] and ACTION["branding"]["color"]
    setup = ACTION["runs"]["steps"][0]
    assert setup["uses"].startswith("actions/setup-python@")
    assert str(setup["with"]["update-environment"]).lower() == "false"
    install = ACTION["runs"]["steps"][1]
    assert "--require-hashes --no-deps --only-binary :all:" in install["run"]
    assert '-r "$GITHUB_ACTION_PATH/requirements/action.txt"' in install["run"]
    assert "$RUNNER_TEMP" in install["run"] and "Scripts/python.exe" in install["run"]
    assert '"$BASE_PYTHON" -m venv --without-pip' in install["run"] and '-m pip --python "$python"' in install["run"]
    assert all(s.get("shell") == "bash" for s in ACTION["runs"]["steps"] if "run" in s)


def test_a_failed_install_is_reported_by_the_entry_step() -> None:
    install, entry = ACTION["runs"]["steps"][1], entry_step()
    assert install["continue-on-error"] is True and "if" not in entry
    assert entry["env"]["ACTION_PYTHON"] == f"${{{{ steps.{install['id']}.outputs.python }}}}"
    assert "-m pypi_trusted_publisher.action.install_failed" in entry["run"]


@pytest.mark.parametrize("path", [ROOT / "action.yml", *WORKFLOWS], ids=lambda p: p.name)
def test_no_expression_inside_run(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for step in steps(document):
        assert "${{" not in step.get("run", ""), (path.name, step.get("name"))


@pytest.mark.parametrize("path", [ROOT / "action.yml", *WORKFLOWS], ids=lambda p: p.name)
def test_actions_pinned_by_sha_with_a_version_comment(path: Path) -> None:
    for ref, comment in USES_RE.findall(path.read_text(encoding="utf-8")):
        if ref.startswith(("./", "$/")):  # this repository itself
            continue
        sha = ref.partition("@")[2]
        assert SHA_RE.match(sha), f"{path.name}: {ref} is not pinned by a full commit SHA"
        assert comment.startswith("v"), f"{path.name}: {ref} has no version comment"


def test_workflows_start_with_no_permissions_and_checkout_without_credentials() -> None:
    assert WORKFLOWS
    for path in WORKFLOWS:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert document.get("permissions") == {}, path.name
        for job in document["jobs"].values():
            assert "permissions" in job, path.name
        for step in steps(document):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, path.name


def test_requirements_are_hash_pinned() -> None:
    text = (ROOT / "requirements" / "action.txt").read_text(encoding="utf-8")
    requirements = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, re.MULTILINE)
    names = {name.lower() for name, _ in requirements}
    assert {"httpx", "pyotp", "selectolax", "pyyaml", "fido2", "cryptography"} <= names
    assert "github-action-utils" not in names  # the action writes workflow commands itself (action/runner.py)
    assert "hatchling" not in names  # the package runs from the action's src/: no build back-end
    for block in re.split(r"\n(?=[A-Za-z])", text.split("\n\n", 1)[-1]):
        if "==" in block:
            assert "--hash=sha256:" in block, block.splitlines()[0]


def test_the_action_guide_documents_every_input_and_output() -> None:
    text = (ROOT / "docs" / "action.md").read_text(encoding="utf-8")
    for name in (*INPUTS, *OUTPUTS):
        assert f"`{name}`" in text, name


def test_requirements_cover_the_runtime_dependencies() -> None:
    """``--no-deps`` installs nothing else: every runtime dependency must be pinned here."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    text = (ROOT / "requirements" / "action.txt").read_text(encoding="utf-8")
    pinned = {canonicalize_name(n): v for n, v in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, re.MULTILINE)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = [*project["project"]["dependencies"], *project["project"]["optional-dependencies"]["action"]]
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is missing from requirements/action.txt"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (name, pinned[name])


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_requirements_are_closed_under_dependencies(platform: str) -> None:
    """What each pinned distribution needs on the action's Python (3.12) on each runner OS is pinned too.

    Read from the installed distributions' metadata (the test extras install them all).
    """
    from importlib.metadata import distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    text = (ROOT / "requirements" / "action.txt").read_text(encoding="utf-8")
    pinned = {canonicalize_name(n) for n in re.findall(r"^([A-Za-z0-9_.-]+)==\S+ \\$", text, re.MULTILINE)}
    marker_env = {"python_version": "3.12", "python_full_version": "3.12.0", "sys_platform": platform,
                  "platform_python_implementation": "CPython", "implementation_name": "cpython", "extra": ""}
    for name in sorted(pinned):
        for line in distribution(name).requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(marker_env):
                assert canonicalize_name(requirement.name) in pinned, f"{name} needs {requirement.name}"
