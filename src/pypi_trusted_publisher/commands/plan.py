"""``pypi-trusted-publisher plan``: every project of an account or organization, and the batch file to register them.

Bad input (an index, a checkouts folder, GITHUB_API_URL, where to write) is refused
before any network call. A plan is always written once the projects page was read,
whatever failed for single projects; each of those says why in its verdict.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..core.errors import RegistrationFailed, UsageError
from .common import (
    EXIT_OK,
    Access,
    Subcommands,
    add_access_arguments,
    add_index_argument,
    remote_failure,
    usage_failure,
)

if TYPE_CHECKING:
    from ..plan.sources import Checkouts


def add_parser(commands: Subcommands) -> None:
    plan = commands.add_parser(
        "plan",
        help="find every project of your account, and plan (and write the batch file for) its trusted publishers",
    )
    add_index_argument(plan)
    plan.add_argument(
        "--organization", default="", help="plan an organization's projects instead of your account's"
    )
    plan.add_argument(
        "--output", default="plan.toml", metavar="FILE", help="the batch file to write (default: plan.toml)"
    )
    plan.add_argument(
        "--checkouts", metavar="DIR",
        help="a folder of git clones, read instead of GitHub's API (a folder named like the repository, or any "
        "clone whose origin is it)",
    )
    add_access_arguments(plan)
    plan.set_defaults(run=run)


@dataclass(frozen=True)
class PlanRequest:
    index: str
    organization: str
    output: str
    checkouts: str | None
    access: Access

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PlanRequest:
        return cls(args.index, args.organization.strip(), args.output, args.checkouts, Access.from_args(args))


def run(args: argparse.Namespace, out: TextIO) -> int:
    request = PlanRequest.from_args(args)
    try:
        return _plan(request, out)
    except UsageError as exc:
        return usage_failure(exc, request.access.as_json, out)
    except RegistrationFailed as exc:
        return remote_failure(exc, request.access.as_json, out)


def register_command(output: Path, index_url: str) -> str:
    """The ``add`` command that registers a written plan, resumably."""
    import shlex

    index = [] if index_url == "https://pypi.org" else ["--index", index_url]
    return shlex.join(["pypi-trusted-publisher", "add", "--config", str(output), *index, "--resume"])


def _plan(request: PlanRequest, out: TextIO) -> int:
    import sys
    import tempfile

    from ..core.indexes import resolve_index
    from ..engine.engine import engine
    from ..plan.batch_file import render_batch
    from ..plan.planner import Planner
    from ..plan.report import render_json, render_text
    from ..plan.sources import SourceReader
    from ..plan.state import state_path
    from ..transports.github import GitHubApi, api_token, api_url
    from .common import credentials_for, engine_options

    access = request.access
    if access.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds", field="timeout")
    index = resolve_index(request.index)
    checkouts = _checkouts(request.checkouts)
    output = _output(request.output)
    env = dict(os.environ)
    base_url, token = api_url(env), api_token(env)
    credentials = credentials_for(access, index)
    api = GitHubApi(base_url, token, timeout=access.timeout)
    try:
        with engine(index, credentials, engine_options(access)) as eng, tempfile.TemporaryDirectory() as workdir:
            reader = SourceReader(api, Path(workdir), checkouts)
            plan = Planner(eng, reader, organization=request.organization).run()
    finally:
        api.close()
    command = register_command(output, index.url)
    output.write_text(render_batch(plan, command, time.time()), encoding="utf-8")
    stale = state_path(output)
    if stale.exists():
        stale.unlink()  # the new plan already knows what the last one registered
        print(f"Removed {stale}: it tracked the previous plan in {output}.", file=sys.stderr)
    if access.as_json:
        print(json.dumps(render_json(plan, str(output), command), ensure_ascii=False, separators=(",", ":")), file=out)
    else:
        print(render_text(plan, str(output), command), file=out)
    return EXIT_OK


def _checkouts(value: str | None) -> Checkouts | None:
    from ..plan.sources import Checkouts

    if value is None:
        return None
    root = Path(value).expanduser()
    if not root.is_dir():
        raise UsageError(f"--checkouts {value}: not a folder", field="checkouts")
    return Checkouts(root)


def _output(value: str) -> Path:
    path = Path(value).expanduser()
    if path.is_dir():
        raise UsageError(f"--output {value} is a folder; name the file to write", field="output")
    if not path.parent.is_dir():
        raise UsageError(f"--output {value}: the folder {path.parent} does not exist", field="output")
    return path
