"""Responses recorded from a running Warehouse: test data kept outside this repository.

They live in ``$PTP_RECORDED_PAGES`` when set, else in ``../shared/warehouse-pages`` next to the
clone (docs/protocol/README.md#recordings). Tests that read one skip when it is absent, so a
clone of this repository alone still runs the whole suite.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def folder() -> Path:
    configured = os.environ.get("PTP_RECORDED_PAGES")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared" / "warehouse-pages"


def recorded_text(name: str) -> str:
    """The body of recording ``name``, or skip the test when the recordings are not here."""
    path = folder() / name
    if not path.is_file():
        pytest.skip(f"recording {name} not available (docs/protocol/README.md#recordings)")
    return path.read_text(encoding="utf-8")
