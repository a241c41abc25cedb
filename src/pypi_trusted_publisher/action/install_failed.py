"""The report when ``action.yml`` could not install the pinned dependencies (no network, a hash mismatch).

The setup-python interpreter runs it with this action's ``src`` on ``PYTHONPATH``:
nothing third-party is installed, so it imports only the standard library and
the package's dependency-free modules (a test holds it to that). It gives what
the entrypoint would on a failure: the outputs (status ``failed``, reason
``install-failed``), an ``::error`` and the job summary, with the index's page
for registering by hand. No input but the index and fail-on-error is read.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping

from ..core.errors import UsageError
from ..core.indexes import resolve_index
from ..transports.links import ACCOUNT_PAGE
from .runner import Runner

REASON = "install-failed"
TITLE = "PyPI trusted publisher"
MESSAGE = (
    "The action could not install its hash-pinned dependencies (pip's messages are in the log above: "
    "no network to the package index, or a hash mismatch); nothing was registered."
)


def manual_url(env: Mapping[str, str]) -> str:
    """The first index's page for a pending publisher; empty when the index input is not valid."""
    first = re.split(r"[,\n]", env.get("INPUT_INDEX", ""))[0].strip()
    try:
        return resolve_index(first).page(ACCOUNT_PAGE)
    except UsageError:
        return ""


def report(env: Mapping[str, str]) -> int:
    url = manual_url(env)
    by_hand = f" Register by hand: {url} (or the project's Publishing settings on the index)." if url else ""
    payload = {"status": "failed", "reason": REASON, "manual_url": url or None, "message": MESSAGE}
    runner = Runner.from_env(env)
    runner.error(MESSAGE + by_hand, title=f"{TITLE}: install failed")
    runner.set_outputs(
        {
            "status": "failed",
            "reason": REASON,
            "message": MESSAGE,
            "manual-url": url,
            "manage-url": "",
            "project": "",
            "pending": "",
            "publisher": "",
            "check": "skipped",
            "login": "none",
            "claim": "skipped",
            "claimed-project": "",
            "json": json.dumps(payload, separators=(",", ":")),
            "results": json.dumps([payload], separators=(",", ":")),
        },
    )
    runner.append_summary(f"## {TITLE}: ❌ install failed\n\n{MESSAGE}{by_hand}\n")
    if env.get("INPUT_FAIL_ON_ERROR", "").strip().lower() == "false":
        runner.notice("fail-on-error is false, so this step succeeds; read the status output.", title=TITLE)
        return 0
    return 1


if __name__ == "__main__":
    raise SystemExit(report(os.environ))
