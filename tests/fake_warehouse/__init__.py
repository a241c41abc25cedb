"""A fake Warehouse (PyPI) that serves the Trusted Publisher web flow for tests.

See ``server.FakeWarehouse``; the markup lives in ``templates``, the publisher records
(``FakePublisher``) in ``records``. Nothing here imports the client package: the fake is the
oracle, so it keeps its own account of Warehouse.
"""

from .records import FakePublisher
from .server import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    DEFAULT_TOTP_SECRET,
    DEFAULT_USERNAME,
    Email,
    FakeWarehouse,
    Organization,
    PendingPublisherRecord,
    Project,
    PublisherRecord,
    RecoveryCode,
    RequestRecord,
    SecurityKey,
    User,
)

__all__ = [
    "DEFAULT_EMAIL",
    "DEFAULT_PASSWORD",
    "DEFAULT_TOTP_SECRET",
    "DEFAULT_USERNAME",
    "Email",
    "FakePublisher",
    "FakeWarehouse",
    "Organization",
    "PendingPublisherRecord",
    "Project",
    "PublisherRecord",
    "RecoveryCode",
    "RequestRecord",
    "SecurityKey",
    "User",
]
