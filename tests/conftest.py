"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fake_warehouse import FakeWarehouse


@pytest.fixture
def warehouse() -> Iterator[FakeWarehouse]:
    """A running fake Warehouse with the default user (``fake_warehouse.DEFAULT_*``)."""
    with FakeWarehouse() as wh:
        wh.add_default_user()
        yield wh
