"""How an engine behaves, as one typed value the front ends fill: transport order, time, and the user's channels."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core.waits import Sleep, Waiter, quietly
from ..transports.web.confirm import ConfirmationProvider, NoConfirmation

if TYPE_CHECKING:
    import httpx

METHODS = ("auto", "api", "web", "link")
# How the user names each credential: the CLI reads environment variables, the action its inputs.
ENV_NAMES = {"username": "PYPI_USERNAME", "password": "PYPI_PASSWORD", "api_token": "PYPI_API_TOKEN"}


@dataclass(frozen=True)
class EngineOptions:
    """``clock`` and ``sleep`` are one pair (tests move a fake clock by sleeping); ``waiter`` shows the pauses
    worth telling the user about; ``transport`` replaces the network (tests only)."""

    method: str = "auto"
    timeout: float = 15.0
    confirmer: ConfirmationProvider = field(default_factory=NoConfirmation)
    totp_prompt: Callable[[], str] | None = None
    waiter: Waiter = quietly
    credential_names: Mapping[str, str] = field(default_factory=lambda: dict(ENV_NAMES))
    clock: Callable[[], float] = time.time
    sleep: Sleep = time.sleep
    transport: httpx.BaseTransport | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method {self.method!r} is not one of {', '.join(METHODS)}")
