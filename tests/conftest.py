"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clocks import FileClock
from fake_github import GITHUB_TOKEN, REPO, FakeGitHub
from fake_warehouse import FakeWarehouse
from silent_server import Silent


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
