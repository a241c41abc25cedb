"""A test's bridge from the client's publishers to the fake Warehouse's records.

The fake keeps its own ``FakePublisher`` and imports nothing from the client. Where a test has a
client ``Publisher`` in hand (a ``Registration``'s, an expected result), it converts it here, on
the test's side, through the client's public ``kind`` and ``form_fields()``: a field the client
adds or renames makes ``FakePublisher.of`` fail instead of slipping into the oracle.
"""

from __future__ import annotations

from fake_warehouse import FakePublisher
from pypi_trusted_publisher.core.publishers import Publisher


def as_fake(publisher: Publisher) -> FakePublisher:
    """The record the fake stores for a publisher registered with exactly these form values."""
    return FakePublisher.of(publisher.kind, **publisher.form_fields())
