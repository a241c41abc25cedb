"""Shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from clocks import FileClock
from fake_github import GITHUB_TOKEN, REPO, FakeGitHub
from fake_warehouse import DEFAULT_USERNAME, FakeWarehouse
from silent_server import Silent


@pytest.fixture(autouse=True, scope="session")
def no_personal_credentials(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test, and no CLI it starts, reads the developer's keyring or ~/.pypirc.

    Tests that want either give their own: a HOME with a .pypirc, or PYTHON_KEYRING_BACKEND
    naming the file keyring in ``file_keyring.py``.
    """
    saved = {name: os.environ.get(name) for name in ("HOME", "PYTHON_KEYRING_BACKEND")}
    os.environ["HOME"] = str(tmp_path_factory.mktemp("home"))
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def warehouse() -> Iterator[FakeWarehouse]:
    """A running fake Warehouse with the default user (``fake_warehouse.DEFAULT_*``)."""
    with FakeWarehouse() as wh:
        wh.add_default_user()
        yield wh


@pytest.fixture
def file_clock(tmp_path: Path) -> FileClock:
    """A clock CLI subprocesses share with the test (see ``clocked_cli.py``); sleeping moves it."""
    return FileClock(tmp_path / "clock")


@pytest.fixture
def wh(warehouse: FakeWarehouse, file_clock: FileClock) -> FakeWarehouse:
    """The fake on the shared clock, the default user owning ``my-pkg`` (released), ``octo-org`` known to GitHub."""
    warehouse.clock = file_clock
    warehouse.add_project("my-pkg", owners=[DEFAULT_USERNAME], has_releases=True)
    warehouse.github_owners = {"octo-org": 1001}
    return warehouse


@pytest.fixture
def silent() -> Iterator[Silent]:
    """A port on 127.0.0.1 that accepts connections and never answers them."""
    server = Silent()
    yield server
    server.close()


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    """A running fake GitHub API: a private ``REPO`` where "maintainer" can write, reached with ``GITHUB_TOKEN``."""
    fake = FakeGitHub()
    fake.add_repo(REPO, private=True, collaborators={"maintainer": "write"})
    fake.add_token(GITHUB_TOKEN, repos={REPO})
    fake.start()
    yield fake
    fake.stop()
