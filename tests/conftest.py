"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fake_github import GITHUB_TOKEN, REPO, FakeGitHub
from fake_warehouse import FakeWarehouse


@pytest.fixture
def warehouse() -> Iterator[FakeWarehouse]:
    """A running fake Warehouse with the default user (``fake_warehouse.DEFAULT_*``)."""
    with FakeWarehouse() as wh:
        wh.add_default_user()
        yield wh


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    """A running fake GitHub API: a private ``REPO`` where "maintainer" can write, reached with ``GITHUB_TOKEN``."""
    fake = FakeGitHub()
    fake.add_repo(REPO, private=True, collaborators={"maintainer": "write"})
    fake.add_token(GITHUB_TOKEN, repos={REPO})
    fake.start()
    yield fake
    fake.stop()
