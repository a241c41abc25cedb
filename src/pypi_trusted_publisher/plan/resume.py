"""``add --config FILE --resume``: a batch file registered over as many runs as PyPI's daily limit needs.

Each run skips what earlier runs registered, registers the rest until PyPI answers
429 (or a login problem makes every further attempt fail the same way), then stops
posting, records the progress next to the batch file and says how many are left
and when the limit allows more. The progress is saved after every registration, so
an interrupted run loses nothing either.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..core.errors import Stopped, Terminated, UsageError
from ..core.indexes import Index
from ..core.models import Registration, Result
from ..credentials.values import Credentials
from ..engine.options import EngineOptions
from ..inputs.config_file import DAILY_REGISTRATIONS, check_plan
from ..transports.github import clock_time
from .state import DONE, FAILED, LEFT, Progress, iso

# Reasons that every further attempt in this run would meet too: stop instead of trying them all.
STOPS_THE_RUN = frozenset(
    {
        "rate-limited",
        "locked-out",
        "new-ip",
        "wrong-password",
        "unknown-user",
        "username-is-email",
        "password-breached",
        "login-failed",
        "totp-invalid",
        "missing-totp",
        "bad-totp-secret",
        "missing-credentials",
        "two-factor-expired",
        "passkey-refused",
        "no-2fa",
        "unverified-email",
        "logged-out",
    }
)


@dataclass(frozen=True)
class ResumeRequest:
    """A resolved batch file to register; ``credentials`` is asked only when something is left to register."""

    config: str  # the batch file, as the user named it
    registrations: list[Registration]
    engine: EngineOptions
    credentials: Callable[[Index], Credentials]
    notes: list[str]
    as_json: bool = False

    @property
    def command(self) -> str:
        """The command that continues this batch, to print when a run stops early."""
        index = self.registrations[0].index.url if self.registrations else ""
        where = f" --index {index}" if index else ""
        return f"pypi-trusted-publisher add --config {self.config}{where} --resume"


def run_resumable(request: ResumeRequest, out: TextIO, *, clock: Callable[[], float] = time.time) -> int:
    """Register what is left; UsageError before any request, RegistrationFailed when the login cannot start."""
    registrations = request.registrations
    indexes = sorted({r.index.url for r in registrations})
    if len(indexes) != 1:
        raise UsageError("--resume works on one index at a time: pass one --index")
    check_plan(registrations, resumable=True)
    progress = Progress.load(Path(request.config), indexes[0], registrations)
    for note in request.notes:
        print(note, file=sys.stderr)
    todo = progress.todo()
    done_before = len(registrations) - len(todo)
    if done_before:
        print(f"{done_before} of {len(registrations)} done in earlier runs ({progress.path}).", file=sys.stderr)
    if todo and progress.not_before is not None and clock() < progress.not_before:
        print(f"PyPI's limit allows more registrations after {clock_time(progress.not_before)}; nothing was tried "
              "now (a login would be spent for nothing).", file=sys.stderr)
        return _finish(request, out, progress, [], clock)
    if len(todo) > DAILY_REGISTRATIONS:
        runs = math.ceil(len(todo) / DAILY_REGISTRATIONS)
        print(f"{len(todo)} registrations left: PyPI allows {DAILY_REGISTRATIONS} a day per account and per IP, so "
              f"this will take {runs} runs, a day apart; each continues where the last stopped.", file=sys.stderr)
    results = _register(request, progress, todo, clock)
    return _finish(request, out, progress, results, clock)


def _register(
    request: ResumeRequest, progress: Progress, todo: list[Registration], clock: Callable[[], float]
) -> list[Result]:
    """Register in order until the limit (or a login problem) stops the run; save after each one."""
    from ..engine.engine import engine

    if not todo:
        return []
    credentials = request.credentials(todo[0].index)
    results: list[Result] = []
    try:
        with engine(todo[0].index, credentials, request.engine) as eng:
            eng.check_pending_room(todo)
            for registration in todo:
                interrupted = progress.interrupted(registration)
                progress.start(registration, clock())
                result = eng.register(registration)
                if interrupted and result.status.value == "exists":
                    print(f"{registration.normalized_project}: the run that stopped while registering it got "
                          "through: PyPI lists the publisher, so nothing was posted again.", file=sys.stderr)
                results.append(result)
                stops = result.reason in STOPS_THE_RUN
                status = DONE if result.status.ok else LEFT if stops else FAILED
                progress.record(registration, result, status, clock())
                if result.reason == "rate-limited":
                    wait = result.retry_after
                    progress.not_before = clock() + wait if wait is not None else None
                progress.save(clock())
                if stops:
                    break
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM as Terminated (commands/__init__.py)
        progress.save(clock())
        counts = progress.counts()
        what = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(f"{what}: {counts[DONE]} of {len(progress.registrations)} done, progress saved in {progress.path}; "
              f"resume with: {request.command}", file=sys.stderr)
        raise Stopped(143 if isinstance(exc, Terminated) else 130) from None
    return results


def _finish(
    request: ResumeRequest, out: TextIO, progress: Progress, results: list[Result], clock: Callable[[], float]
) -> int:
    from ..render.results import json_line, summary_table, text

    counts = progress.counts()
    left = counts[LEFT] + counts[FAILED]
    after = progress.not_before if progress.not_before is not None and progress.not_before > clock() else None
    if request.as_json:
        for result in results:
            print(json_line(result), file=out)
        summary = {
            "status": "complete" if not left else "incomplete",
            "plan": request.config,
            "state": str(progress.path),
            **counts,
            "not_before": iso(after) if after is not None else None,
        }
        print(json.dumps(summary, separators=(",", ":")), file=out)
    else:
        if results:
            print("\n\n".join(text(r) for r in results), file=out)
            print("\n" + summary_table(results), file=out)
        print(_progress_line(progress, counts, after), file=out)
    return 0 if not left else 1


def _progress_line(progress: Progress, counts: dict[str, int], after: float | None) -> str:
    total = sum(counts.values())
    line = f"{counts[DONE]} of {total} done, {counts[FAILED]} failed, {counts[LEFT]} left."
    if not counts[FAILED] and not counts[LEFT]:
        return line + f" Every publisher of {progress.path.name.removesuffix('.state.json')} is registered."
    if after is not None:
        line += f" PyPI's limit allows more after {clock_time(after)}; run the same command again then."
    else:
        line += " Run the same command again to continue."
    return line + f" Progress: {progress.path}."
