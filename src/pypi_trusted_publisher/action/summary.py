"""The Markdown job summary: what happened, where to manage it, and what to do next.

Built only from the :class:`~pypi_trusted_publisher.core.models.Result` and the
check's own Markdown, never from inputs, so no secret (not even the PyPI
username) can reach it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..core.errors import UsageError
from ..core.models import ClaimResult, ClaimStatus, Result, Status
from ..core.publishers import GitHubPublisher

if TYPE_CHECKING:
    from ..engine.engine import Login

HEADLINE = {
    Status.REGISTERED: "✅ registered",
    Status.EXISTS: "✅ already registered",
    Status.DRY_RUN: "🔍 dry run",
    Status.NEEDS_CONFIRMATION: "⚠️ needs confirmation",
    Status.FAILED: "❌ failed",
    Status.REMOVED: "✅ removed",
}
PUBLISH_ACTION = "pypa/gh-action-pypi-publish"
USING_A_PUBLISHER = "https://docs.pypi.org/trusted-publishers/using-a-publisher/"


def cell(text: str) -> str:
    """Text safe inside a table cell and a code span."""
    return " ".join(text.replace("|", "\\|").replace("`", "'").split())


METHODS = {
    "web": "web session (login)",
    "api": "token API",
    "link": "manual link only",
    "dry-run": "dry run (no network)",
}


def _table(result: Result) -> list[str]:
    reg = result.registration
    rows = [("Index", reg.index.url)]
    rows.append(("Pending project" if result.pending else "Project", f"`{cell(reg.normalized_project)}`"))
    if reg.organization:
        rows.append(("PyPI organization", f"`{cell(reg.organization)}`"))
    rows.append(("Publisher", reg.publisher.title))
    for name, value in reg.publisher.form_fields().items():
        rows.append((name, f"`{cell(value)}`" if value else "(any)"))
    rows.append(("Method", METHODS.get(result.method, result.method)))
    if result.status in (Status.REGISTERED, Status.EXISTS, Status.REMOVED):
        rows.append(("Manage", result.manage_url))
    return ["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]


def _release_snippet(result: Result, publisher: GitHubPublisher) -> list[str]:
    index = result.registration.index
    lines = [
        "```yaml",
        f"# .github/workflows/{publisher.workflow_filename}",
        "jobs:",
        "  pypi-publish:",
        "    runs-on: ubuntu-latest",
    ]
    if publisher.environment:
        lines.append(f"    environment: {publisher.environment}")
    lines += [
        "    permissions:",
        "      id-token: write  # the OIDC token PyPI trusts; nothing else is needed",
        "    steps:",
        "      # … download the built distributions into dist/ …",
        f"      - uses: {PUBLISH_ACTION}@release/v1  # pin it to a full commit SHA",
    ]
    if index.name == "testpypi":
        lines += ["        with:", "          repository-url: https://test.pypi.org/legacy/"]
    return [*lines, "```"]


def _next_steps(result: Result) -> list[str]:
    publisher = result.registration.publisher
    lines = ["### Next steps", ""]
    if result.status is Status.DRY_RUN:
        lines.append("1. Run again without `dry-run` to register it.")
    if isinstance(publisher, GitHubPublisher):
        lines.append(
            f"1. The first release is uploaded by `.github/workflows/{publisher.workflow_filename}` in "
            f"`{cell(publisher.owner)}/{cell(publisher.repository)}` with `{PUBLISH_ACTION}`; its publish "
            "job needs `id-token: write`"
            + (f" and `environment: {cell(publisher.environment)}`:" if publisher.environment else ":")
        )
        lines += ["", *(f"   {line}" for line in _release_snippet(result, publisher)), ""]
        if publisher.environment:
            lines.append(
                f"1. Create the `{cell(publisher.environment)}` environment (Settings → Environments) "
                "and protect it with required reviewers or tag rules."
            )
        else:
            lines.append("1. Consider an environment: without one, any job in that workflow can publish.")
    else:
        lines.append(f"1. Publish from {publisher.title} as described in {USING_A_PUBLISHER}.")
        lines.append("1. Keep the publishing job's identity exactly as registered above.")
    if result.pending:
        lines.append(
            "1. The first trusted upload creates the project. Until then the name is not reserved, and "
            "the pending publisher expires after 30 days."
        )
    if result.status is not Status.DRY_RUN:
        lines.append(
            "1. Delete the PyPI password, TOTP secret and API token from this repository's secrets once "
            "you are done: releases need none of them."
        )
    return lines


NEW_IP_OPTIONS = (
    "Log in with a security key (the `pypi-passkey` input): PyPI trusts a security-key login from a new IP "
    "address without an e-mail.",
    "Run `pypi-trusted-publisher add` on your own machine: PyPI already knows its IP address, and a "
    "terminal can take the link if it asks.",
    "Let the action ask for the link in an issue (`confirmation: issue`, the default) with "
    "`permissions: {issues: write}`, in a private repository or through `confirmation-repository`.",
    "Run this job on a self-hosted runner with a stable IP address and confirm that address once.",
)


def _failure(result: Result) -> list[str]:
    lines = ["### What went wrong", ""]
    if result.reason:
        lines.append(f"**Reason:** `{cell(result.reason)}`")
        lines.append("")
    if result.reason == "new-ip":
        lines += ["A runner's IP address is new to PyPI at every job. Ways forward:", ""]
        lines += [*(f"- {option}" for option in NEW_IP_OPTIONS), ""]
    lines.append(f"**Register by hand:** [open the {result.registration.index.host} page]({result.manual_url})")
    if result.manual_steps:
        lines += ["", *(f"1. {step}" for step in result.manual_steps)]
    else:
        lines.append("— the form is prefilled: check the fields and press **Add**.")
    return lines


def login_line(login: Login | None) -> list[str]:
    """Which second factor the run used, and what became of the security key."""
    if login is None or not login.second_factor:
        return []
    factor = {"security-key": "security key", "totp": "TOTP code"}.get(login.second_factor, login.second_factor)
    if login.passkey_removed:
        factor += ", removed from the account at the end: the `pypi-passkey` secret is dead now"
    elif login.problem:
        factor += f" — ⚠️ **not removed**: {cell(login.problem)}"
    return [f"**Login:** {factor}.", ""]


CLAIM_HEADLINE = {
    ClaimStatus.CLAIMED: "✅ claimed",
    ClaimStatus.PROVEN: "✅ proven",
    ClaimStatus.FAILED: "❌ claim failed",
    ClaimStatus.SKIPPED: "⏭️ claim skipped",
}


def claim_line(claim: ClaimResult | None) -> list[str]:
    """One line: what the token exchange did (or why it did not happen), and the fix when it failed."""
    if claim is None:
        return []
    fix = f" **Fix:** {cell(claim.fix)}" if claim.fix else ""
    return [f"**Claim:** {CLAIM_HEADLINE[claim.status]}: {cell(claim.message)}{fix}", ""]


def claim_markdown(claim: ClaimResult) -> str:
    """The summary for ``mode: claim``."""
    lines = [f"## PyPI trusted publisher: {CLAIM_HEADLINE[claim.status]}", "", *claim_line(claim)]
    if claim.claims:
        lines += ["This job's token (for debugging; `aud` is the index's audience):", ""]
        lines += [f"* `{name}`: `{cell(value)}`" for name, value in claim.claims.items()]
    return "\n".join(lines) + "\n"


def result_markdown(
    result: Result,
    *,
    notes: Sequence[str] = (),
    check: str = "",
    login: Login | None = None,
    claim: ClaimResult | None = None,
) -> str:
    """The summary for an ``add`` run (any status)."""
    lines = [f"## PyPI trusted publisher: {HEADLINE[result.status]}", "", result.message, "", *_table(result), ""]
    lines += login_line(login)
    lines += claim_line(claim)
    if result.status is Status.REMOVED:
        pass  # nothing follows a removal
    elif result.status.ok:
        lines += _next_steps(result)
    else:
        lines += _failure(result)
    if notes:
        lines += ["", "### Confirmation", "", *(f"- {note}" for note in notes)]
    if check:
        lines += ["", check]
    return "\n".join(lines) + "\n"


def usage_markdown(error: UsageError) -> str:
    where = f" (input `{cell(error.field)}`)" if error.field else ""
    return (
        "## PyPI trusted publisher: ❌ invalid input\n\n"
        f"{error.message}{where}\n\nNothing was sent to the index. Fix the input and run the workflow again.\n"
    )


def batch_markdown(results: Sequence[Result], *, login: Login | None = None) -> str:
    """The summary for several registrations: a table, then how to finish each failure."""
    lines = ["## PyPI trusted publisher: several registrations", "", *login_line(login),
             "| project | index | status | manage / manual |", "|---|---|---|---|"]
    for r in results:
        reg = r.registration
        link = r.manage_url if r.status.ok else r.manual_url
        status = r.status.value + (f" ({cell(r.reason)})" if r.reason else "")
        lines.append(f"| `{cell(reg.normalized_project)}` | {cell(reg.index.host)} | {status} | {cell(link)} |")
    failed = [r for r in results if not r.status.ok]
    for r in failed:
        lines += ["", f"### `{cell(r.registration.normalized_project)}` on {cell(r.registration.index.host)}", "",
                  r.message, *_failure(r)]
    return "\n".join(lines) + "\n"
