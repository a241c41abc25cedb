"""An account of 12 projects on the fakes, for ``plan`` tests and the benchmark.

dana owns 10 projects and maintains 2. Three have publishers already (one identical to
what the workflow calls for), two upload with a password, one has no release, and two
come from one monorepo whose workflow publishes each with its own environment. One
project's URL names a repository that was renamed since, and one repository is read from
a local clone only (GitHub answers 404 for it: it is private).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from fake_github import FakeGitHub
from fake_warehouse import DEFAULT_USERNAME, FakePublisher, FakeWarehouse

OWNER = "octo-org"
EXPECTED = {
    "alpha": "ready",
    "beta": "ready",
    "gamma": "registered",
    "delta": "ready",
    "epsilon": "ready",
    "zeta": "needs-work",
    "eta": "needs-work",
    "theta": "no-repository",
    "mono-core": "ready",
    "mono-cli": "ready",
    "kappa": "not-owner",
    "lambda": "not-owner",
}
# The publishers `add --config plan.toml` must register: (project, repository, workflow, environment).
READY = {
    "alpha": ("alpha", "release.yml", "pypi"),
    "beta": ("beta", "release.yml", "pypi"),
    "delta": ("delta", "release.yml", "pypi"),
    "epsilon": ("epsilon", "release.yml", "pypi"),
    "mono-core": ("mono", "publish.yml", "pypi-core"),
    "mono-cli": ("mono", "publish.yml", "pypi-cli"),
}

CI = """name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: python -m pytest
"""


def release(upload_url: str, project: str, *, password: bool = False) -> str:
    """PyPA's guide workflow: build, then a publish job in environment `pypi` with `id-token: write`.

    With ``password``, the pre-trusted-publishing version: an API token, no environment, no permission.
    """
    trusted = f"""    environment:
      name: pypi
      url: https://pypi.org/p/{project}
    permissions:
      id-token: write
"""
    token = "          password: ${{ secrets.PYPI_API_TOKEN }}\n"
    return f"""name: release
on:
  push:
    tags: ["v*"]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pipx run build
      - uses: actions/upload-artifact@v4
        with: {{name: dist, path: dist/}}
  publish:
    needs: build
    runs-on: ubuntu-latest
{"" if password else trusted}    steps:
      - uses: actions/download-artifact@v4
        with: {{name: dist, path: dist/}}
      - uses: pypa/gh-action-pypi-publish@release/v1
        with:
          repository-url: {upload_url}
{token if password else ""}"""


def twine_release(upload_url: str) -> str:
    """An old-style workflow: twine with an API token in TWINE_PASSWORD."""
    return f"""name: upload
on:
  release:
    types: [published]
jobs:
  upload:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pipx run build
      - run: twine upload --repository-url {upload_url} dist/*
        env:
          TWINE_USERNAME: __token__
          TWINE_PASSWORD: ${{{{ secrets.PYPI_TOKEN }}}}
"""


def monorepo(upload_url: str) -> str:
    """One workflow, one job and one environment per package (docs/protocol/publish-time.md#pending-lifecycle)."""
    jobs = ""
    for package in ("core", "cli"):
        jobs += f"""  publish-{package}:
    runs-on: ubuntu-latest
    environment:
      name: pypi-{package}
      url: https://pypi.org/p/mono-{package}
    permissions:
      id-token: write
    steps:
      - uses: actions/checkout@v4
      - run: pipx run build packages/{package}
      - uses: pypa/gh-action-pypi-publish@release/v1
        with:
          repository-url: {upload_url}
          packages-dir: packages/{package}/dist/
"""
    return f"""name: publish
on:
  push:
    tags: ["*"]
jobs:
{jobs}"""


def pyproject(name: str) -> str:
    return f'[project]\nname = "{name}"\nversion = "1.0"\n'


def repository_files(upload_url: str, project: str, **kwargs: bool) -> dict[str, str]:
    return {
        ".github/workflows/ci.yml": CI,
        ".github/workflows/release.yml": release(upload_url, project, **kwargs),
        "pyproject.toml": pyproject(project),
        "README.md": f"# {project}\n",
    }


def clone(folder: Path, origin: str, files: dict[str, str]) -> Path:
    """A git checkout with ``origin`` and the files (not committed: the analysis reads the work tree)."""
    folder.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run(["git", "-C", str(folder), "remote", "add", "origin", origin], check=True)
    for path, text in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return folder


def build(wh: FakeWarehouse, github: FakeGitHub, checkouts: Path) -> None:
    """The 12 projects on the fake Warehouse, their repositories on the fake GitHub, beta's clone."""
    upload = f"{wh.url}/legacy/"
    wh.github_owners = {OWNER: 1001}
    me = DEFAULT_USERNAME
    url = f"https://github.com/{OWNER}"

    def released(name: str, **kwargs: object) -> None:
        wh.add_project(name, owners=[me], has_releases=True, **kwargs)  # type: ignore[arg-type]

    released("alpha", project_urls={"Source": f"{url}/alpha-old", "Documentation": "https://alpha.example"})
    github.add_repo(f"{OWNER}/alpha-old", private=False, files=repository_files(upload, "alpha"))
    github.rename_repo(f"{OWNER}/alpha-old", f"{OWNER}/alpha")

    released("beta", home_page=f"{url}/beta")
    github.add_repo(f"{OWNER}/beta", private=True, files=repository_files(upload, "beta"))
    clone(checkouts / "beta", f"git@github.com:{OWNER}/beta.git", repository_files(upload, "beta"))

    for name in ("gamma", "delta", "epsilon"):
        released(name, project_urls={"Repository": f"{url}/{name}.git", "Issues": f"{url}/{name}/issues"})
        github.add_repo(f"{OWNER}/{name}", private=False, files=repository_files(upload, name),
                        default_branch="trunk" if name == "delta" else "main")
    wh.add_publisher("gamma", FakePublisher.github(OWNER, "gamma", "release.yml", "pypi"))
    wh.add_publisher("delta", FakePublisher.github(OWNER, "delta", "publish.yml", "pypi"))
    wh.add_publisher("epsilon", FakePublisher.google("ci@epsilon.iam.gserviceaccount.com"))

    released("zeta", project_urls={"Source Code": f"{url}/zeta"})
    github.add_repo(f"{OWNER}/zeta", private=False, files=repository_files(upload, "zeta", password=True))
    released("eta", project_urls={"Homepage": f"{url}/eta"})
    github.add_repo(f"{OWNER}/eta", private=False, files={
        ".github/workflows/upload.yml": twine_release(upload), "pyproject.toml": pyproject("eta")})

    wh.add_project("theta", owners=[me])  # no release: the JSON API answers 404

    for name in ("mono-core", "mono-cli"):
        released(name, project_urls={"Source": f"{url}/mono"})
    github.add_repo(f"{OWNER}/mono", private=False, files={
        ".github/workflows/ci.yml": CI, ".github/workflows/publish.yml": monorepo(upload),
        "packages/core/pyproject.toml": pyproject("mono-core"), "packages/cli/pyproject.toml": pyproject("mono-cli")})

    for name in ("kappa", "lambda"):
        wh.add_project(name, owners=["someone-else"], maintainers=[me], has_releases=True,
                       project_urls={"Source": f"{url}/{name}"})
