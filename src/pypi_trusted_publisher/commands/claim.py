"""``pypi-trusted-publisher claim``: in the publishing job, exchange its OIDC token once with the index.

A pending publisher becomes the project at once (``claimed``); a normal one proves it matches (``proven``). What the
job lacks (no CI, no ``id-token: write``) is said before any request, with exit 2.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from ..core.errors import UsageError
from .common import Subcommands, add_index_argument, usage_failure

if TYPE_CHECKING:
    from ..core.publishers import Publisher
    from ..inputs.context import RepoContext


def add_parser(commands: Subcommands) -> None:
    claim = commands.add_parser(
        "claim",
        help="in the publishing CI job: exchange its OIDC token once, so a pending name is taken now (or a "
        "publisher proven)",
    )
    add_index_argument(claim)
    claim.add_argument("--project", help="the publisher's project (default: [project].name in pyproject.toml)")
    claim.add_argument(
        "--organization", default="", help="the organization a pending publisher's project goes to (for the report)"
    )
    claim.add_argument(
        "--workflow", help="the workflow file the publisher names (GitHub; a refusal then names expected vs. actual)"
    )
    claim.add_argument("--environment", help="the environment the publisher names (GitHub; with --workflow)")
    claim.add_argument(
        "--id-token-variable", default="PYPI_ID_TOKEN", metavar="NAME",
        help="GitLab CI: the variable of the job's id_tokens: entry (default: PYPI_ID_TOKEN)",
    )  # fmt: skip
    claim.add_argument(
        "--timeout", default="15",
        help="the most one network request may take, in seconds; 1 to 300 (default: 15)",
    )
    claim.add_argument("--json", action="store_true", help="print one JSON line")
    claim.set_defaults(run=run)


@dataclass(frozen=True)
class ClaimArguments:
    index: str
    project: str | None
    organization: str
    workflow: str | None
    environment: str | None
    id_token_variable: str
    timeout: float
    as_json: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ClaimArguments:
        return cls(args.index, args.project, args.organization.strip(), args.workflow, args.environment,
                   args.id_token_variable.strip(), args.timeout, args.json)  # fmt: skip


def expected_publisher(given: ClaimArguments, project: str, context: RepoContext) -> Publisher | None:
    """The GitHub publisher --workflow (and --environment) describe, for a sharper refusal; None without them."""
    if given.workflow is None:
        return None
    from ..inputs.options import Options, resolve

    options = Options(index=given.index, project=project, workflow=given.workflow, environment=given.environment)
    return resolve(options, context).registration.publisher


def run(args: argparse.Namespace, out: TextIO) -> int:
    import os

    from ..core.indexes import resolve_index
    from ..engine.claim import ClaimRequest, claim
    from ..engine.options import EngineOptions
    from ..inputs.context import RepoContext
    from ..render.results import claim_line, claim_text

    given = ClaimArguments.from_args(args)
    try:
        index = resolve_index(given.index)
        project = given.project or RepoContext().pyproject_name()
        if not project:
            raise UsageError("claim needs --project NAME (or a pyproject.toml with [project].name)", field="project")
        expected = expected_publisher(given, project, RepoContext())
        request = ClaimRequest(index, project, given.organization, publisher=expected,
                               id_token_variable=given.id_token_variable)  # fmt: skip
        result = claim(request, dict(os.environ), EngineOptions(timeout=given.timeout))
    except UsageError as exc:
        return usage_failure(exc, given.as_json, out)
    print(claim_line(result) if given.as_json else claim_text(result), file=out)
    return result.exit_code
