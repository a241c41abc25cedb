"""What ``action.yml`` runs: inputs in, registration (and check), outputs and summary out.

Order matters: every secret input is masked before anything else is printed,
so no later line (ours, httpx's or a traceback) can show one. Exit codes: 0
success, 1 failure (0 with ``fail-on-error: false``), 2 invalid input.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from .. import preflight
from ..core.errors import UsageError
from ..core.indexes import Index
from ..core.models import ClaimResult, ClaimStatus, Registration, Result, Status, Target
from ..core.publishers import Publisher, to_dict
from ..core.validation import normalize
from ..core.waits import one_line
from ..core.wording import capitalized, sentences
from ..engine import engine
from ..engine.options import EngineOptions
from ..inputs.config_file import check_plan
from ..inputs.context import RepoContext
from ..inputs.options import Resolved, resolve
from ..render import results as render
from ..transports.github import GitHubApi
from ..transports.web.confirm import NoConfirmation
from . import summary
from .confirmation import CI_ADVICE, IssueConfirmation
from .runner import Runner
from .settings import CREDENTIAL_NAMES, ActionSettings, parse, secret_values

OUTPUTS = (
    "status", "project", "pending", "publisher", "manage-url", "manual-url",
    "message", "reason", "check", "json", "results", "login", "claim", "claimed-project",
)  # fmt: skip
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
TITLE = "PyPI trusted publisher"
WAITER = one_line(lambda line: print(line, flush=True))  # a pause gets one line in the job's log


def mask_secrets(runner: Runner, env: Mapping[str, str]) -> None:
    """``::add-mask::`` every secret input, in the canonical form act also obeys."""
    for value in secret_values(env):
        runner.mask(value)


def write_outputs(runner: Runner, values: Mapping[str, str]) -> None:
    """Every declared output, empty when it has no value, so later steps see stable keys."""
    runner.set_outputs({name: values.get(name, "") for name in OUTPUTS})


def usage_failure(runner: Runner, error: UsageError) -> int:
    runner.error(error.message, title=f"{TITLE}: invalid input")
    write_outputs(
        runner,
        {
            "status": "failed",
            "reason": "invalid-input",
            "message": error.message,
            "check": "skipped",
            "json": render.failure_line("invalid-input", error.message, field=error.field),
        },
    )
    runner.append_summary(summary.usage_markdown(error))
    return EXIT_USAGE


def registration_outputs(registration: Registration, pending: bool | None) -> dict[str, str]:
    return {
        "project": registration.normalized_project,
        "pending": {True: "true", False: "false", None: ""}[pending],  # empty: not known
        "publisher": json.dumps(to_dict(registration.publisher), separators=(",", ":")),
    }


def result_outputs(result: Result, check: str) -> dict[str, str]:
    return {
        **registration_outputs(result.registration, result.pending),
        "status": result.status.value,
        "manage-url": result.manage_url,
        "manual-url": result.manual_url,
        "message": result.message,
        "reason": result.reason,
        "check": check,
        "json": render.json_line(result),
        "results": json.dumps([result.to_dict()], separators=(",", ":")),
    }


def run_check(runner: Runner, resolved: Resolved, context: RepoContext, pending: bool | None) -> preflight.Report:
    """The preflight check of the publishing setup; its annotations go to the log."""
    registration = resolved.registration
    report = preflight.check_publisher(
        registration.publisher,
        index=registration.index,
        project=registration.project,
        pending=pending is True,
        context=context,
    )
    for note in preflight.render_annotations(report):
        runner.annotate(note.severity, note.message, title=note.title, file=note.file, line=note.line)
    return report


def check_only(runner: Runner, resolved: Resolved, context: RepoContext, settings: ActionSettings) -> int:
    registration = resolved.registration
    pending = registration.target is Target.PENDING
    report = run_check(runner, resolved, context, pending)
    failed = report.has_errors
    status = "failed" if failed else "checked"
    message = (
        "The check found problems that would make the first trusted upload fail."
        if failed
        else "The check found nothing that would make the first trusted upload fail."
    )
    runner.annotate("error" if failed else "notice", message, title=f"{TITLE}: check")
    line = render.shaped_line(
        status=status,
        index=registration.index.url,
        project=registration.normalized_project,
        pending=pending,
        organization=registration.organization or None,
        publisher=to_dict(registration.publisher),
        message=message,
        reason="check-failed" if failed else None,
        mode="check",
        check=preflight.render_json(report),
    )
    write_outputs(
        runner,
        {
            **registration_outputs(registration, pending),
            "status": status,
            "message": message,
            "reason": "check-failed" if failed else "",
            "check": "failed" if failed else "passed",
            "json": line,
        },
    )
    headline = "❌ failed" if failed else "✅ passed"
    runner.append_summary(f"## {TITLE}: check {headline}\n\n{message}\n\n{preflight.render_markdown(report)}")
    return EXIT_FAILED if failed and settings.fail_on_error else EXIT_OK


def confirmer_for(runner: Runner, env: Mapping[str, str], settings: ActionSettings) -> IssueConfirmation | None:
    if settings.confirmation is None or settings.dry_run:
        return None
    api = GitHubApi(
        env.get("GITHUB_API_URL") or "https://api.github.com",
        settings.confirmation_token,
        graphql=env.get("GITHUB_GRAPHQL_URL", ""),
        timeout=settings.timeout,
    )
    return IssueConfirmation(
        api, settings.confirmation, mask=runner.mask, log=runner.echo, warn=lambda text: runner.warning(text)
    )


def annotate(runner: Runner, result: Result) -> None:
    title = f"{TITLE}: {result.status.value}"
    if result.status.ok:
        where = "" if result.status is Status.DRY_RUN else f" Manage: {result.manage_url}"
        runner.notice(result.message + where, title=title)
    else:
        runner.error(f"{result.message} Register by hand: {result.manual_url}", title=title)


def register(
    runner: Runner, env: Mapping[str, str], registrations: list[Registration], settings: ActionSettings
) -> engine.Batch:
    """Register (or plan) every registration: one login per index, the confirmation channel, the key removal."""
    if settings.dry_run:
        return engine.Batch([engine.plan(registration) for registration in registrations])
    provider = confirmer_for(runner, env, settings)
    try:
        options = EngineOptions(
            method=settings.method,
            timeout=settings.timeout,
            confirmer=provider if provider is not None else NoConfirmation(CI_ADVICE),
            waiter=WAITER,
            credential_names=CREDENTIAL_NAMES,
        )
        batch = engine.run_batch(registrations, settings.credentials, options, remove_passkey=settings.remove_passkey)
        if provider is not None:
            provider.finish(min(batch.results, key=lambda r: r.status.ok))
    finally:
        if provider is not None:
            provider.api.close()
    if provider is not None:
        batch = replace(batch, notes=provider.notes)
    return batch


def report_login(runner: Runner, login: engine.Login, settings: ActionSettings) -> bool:
    """Annotate how the run logged in; False when a requested key removal did not happen."""
    if settings.remove_passkey and not login.passkey_removed:
        runner.error(
            sentences(
                f"The security key was not removed from the account: {login.problem}",
                "Remove it with 'pypi-trusted-publisher passkey remove --label <label>' or on the account page, "
                "and delete the secret.",
            ),
            title=f"{TITLE}: remove-passkey",
        )
        return False
    if login.passkey_removed:
        runner.notice(
            "The security key was removed from the account: the pypi-passkey secret is dead now.", title=TITLE
        )
    return True


def claim(
    runner: Runner,
    env: Mapping[str, str],
    index: Index,
    project: str,
    organization: str,
    settings: ActionSettings,
    exists: bool | None,
    publisher: Publisher | None = None,
    registrant: str = "",
) -> ClaimResult:
    """One exchange of this job's OIDC token (engine/claim.py); both tokens are masked as they arrive."""
    from ..engine.claim import ClaimRequest
    from ..engine.claim import claim as exchange

    request = ClaimRequest(index, project, organization, registrant, exists=exists, publisher=publisher)
    result = exchange(request, env, EngineOptions(timeout=settings.timeout), mask=runner.mask)
    with runner.no_commands():
        runner.echo(render.claim_text(result))
    if result.status is ClaimStatus.FAILED:
        runner.error(sentences(result.message, result.fix), title=f"{TITLE}: claim failed")
    else:
        runner.notice(result.message, title=f"{TITLE}: {result.status.value}")
    return result


def claim_after(
    runner: Runner, env: Mapping[str, str], result: Result, settings: ActionSettings
) -> ClaimResult | None:
    """``claim: true``: the exchange after a registration that worked, in a job that can have a token."""
    from ..engine.claim import ci_service

    if not settings.claim:
        return None
    registration = result.registration
    why = ""
    if settings.dry_run:
        why = "dry-run is true, so nothing was exchanged"
    elif not result.status.ok:
        why = "the registration did not succeed"
    else:
        try:
            ci_service(env)
        except UsageError as exc:
            why = exc.message
    if why:
        runner.warning(f"claim: true was skipped: {why}.", title=f"{TITLE}: claim skipped")
        message = capitalized(sentences(f"Not claimed: {why}"))
        return ClaimResult(ClaimStatus.SKIPPED, registration.index, registration.normalized_project, message)
    exists = None if result.pending is None else not result.pending
    return claim(runner, env, registration.index, registration.project, registration.organization, settings, exists,
                 registration.publisher, settings.credentials.username)  # fmt: skip


def claim_outputs(result: ClaimResult | None) -> dict[str, str]:
    if result is None:
        return {"claim": "skipped"}
    return {"claim": result.status.value,
            "claimed-project": result.project if result.status is ClaimStatus.CLAIMED else ""}  # fmt: skip


def expected_publisher(settings: ActionSettings, context: RepoContext) -> Publisher | None:
    """The publisher a ``mode: claim`` job should match, when its inputs name a workflow: a refusal then says what
    was expected against what this job is. Without a workflow input the job itself would be the "expectation"."""
    if settings.options.workflow is None:
        return None
    try:
        return resolve(settings.options, context).registration.publisher
    except UsageError:
        return None


def claim_only(runner: Runner, env: Mapping[str, str], settings: ActionSettings, context: RepoContext) -> int:
    """``mode: claim``: in the registered workflow's publishing job, only the exchange (no publisher inputs)."""
    from ..core.indexes import resolve_index
    from ..engine.claim import ci_service

    options = settings.options
    try:
        project = options.project or context.pyproject_name()
        if not project:
            raise UsageError("mode: claim needs the project input (or a pyproject.toml in the workspace)",
                             field="project")  # fmt: skip
        registration_index = resolve_index(options.index)
        ci_service(env)
    except UsageError as exc:
        return usage_failure(runner, exc)
    if settings.dry_run:
        runner.notice("dry-run is true, so the job's token was not exchanged.", title=f"{TITLE}: claim skipped")
        result = ClaimResult(ClaimStatus.SKIPPED, registration_index, normalize(project),
                             "Not claimed: dry-run is true, so the job's token was not exchanged.")  # fmt: skip
    else:
        result = claim(runner, env, registration_index, project, options.organization, settings, None,
                       expected_publisher(settings, context))  # fmt: skip
    line = render.claim_line(result)
    write_outputs(
        runner,
        {
            "status": result.status.value,
            "project": result.project,
            "message": result.message,
            "reason": result.reason,
            "check": "skipped",
            "json": line,
            "results": f"[{line}]",
            "login": "none",
            **claim_outputs(result),
        },
    )
    runner.append_summary(summary.claim_markdown(result))
    if result.exit_code and not settings.fail_on_error:
        runner.notice("fail-on-error is false, so this step succeeds; read the claim output.", title=TITLE)
        return EXIT_OK
    return result.exit_code


def add(
    runner: Runner, env: Mapping[str, str], resolved: Resolved, context: RepoContext, settings: ActionSettings
) -> int:
    batch = register(runner, env, [resolved.registration], settings)
    (result,) = batch.results
    with runner.no_commands():  # the index's messages are data, never workflow commands
        runner.echo(render.text(result))
    annotate(runner, result)
    removed_as_asked = report_login(runner, batch.login, settings)
    claimed = claim_after(runner, env, result, settings)
    check, markdown = "skipped", ""
    if settings.check:
        report = run_check(runner, resolved, context, result.pending)
        check, markdown = ("failed" if report.has_errors else "passed"), preflight.render_markdown(report)
    outputs = result_outputs(result, check) | {"login": batch.login.output} | claim_outputs(claimed)
    if claimed is not None:
        outputs["json"] = render.json_line(result, claim=claimed.to_dict())
    write_outputs(runner, outputs)
    runner.append_summary(
        summary.result_markdown(result, notes=batch.notes, check=markdown, login=batch.login, claim=claimed)
    )
    exit_code = max(result.exit_code, 0 if removed_as_asked else EXIT_FAILED, claimed.exit_code if claimed else 0)
    if exit_code and not settings.fail_on_error:
        runner.notice("fail-on-error is false, so this step succeeds; read the status output.", title=TITLE)
        return EXIT_OK
    return exit_code


def add_many(runner: Runner, env: Mapping[str, str], batch: list[Resolved], settings: ActionSettings) -> int:
    """Several (index, project) pairs: one login per index, a row per registration."""
    done = register(runner, env, [resolved.registration for resolved in batch], settings)
    results = done.results
    with runner.no_commands():
        runner.echo("\n\n".join(render.text(result) for result in results))
        runner.echo("\n" + render.summary_table(results))
    for result in results:
        annotate(runner, result)
    removed_as_asked = report_login(runner, done.login, settings)
    failed = [result for result in results if not result.status.ok]
    first = failed[0] if failed else results[0]
    outputs = result_outputs(first, "skipped")
    outputs["status"] = first.status.value
    outputs["results"] = json.dumps([result.to_dict() for result in results], separators=(",", ":"))
    outputs["login"] = done.login.output
    write_outputs(runner, outputs)
    runner.append_summary(summary.batch_markdown(results, login=done.login))
    if (failed or not removed_as_asked) and not settings.fail_on_error:
        runner.notice("fail-on-error is false, so this step succeeds; read the results output.", title=TITLE)
        return EXIT_OK
    return EXIT_FAILED if failed or not removed_as_asked else EXIT_OK


def run(env: Mapping[str, str], runner: Runner | None = None) -> int:
    runner = runner or Runner.from_env(env)
    mask_secrets(runner, env)
    try:
        settings = parse(env)
        context = RepoContext(cwd=Path(env.get("GITHUB_WORKSPACE") or os.getcwd()), env=env)
        if settings.mode == "claim":
            if len(settings.batch) > 1:
                raise UsageError(
                    "a claim exchanges one job's token for one publisher: give one project and one index", field="mode"
                )
            return claim_only(runner, env, settings, context)
        batch = [resolve(options, context) for options in settings.batch or (settings.options,)]
        check_plan([resolved.registration for resolved in batch])
        if settings.credentials.passkey is not None:
            for item in batch:
                settings.credentials.passkey.check_index(item.registration.index.url, source="pypi-passkey")
        resolved = batch[0]
        if len(batch) > 1 and settings.claim:
            raise UsageError(
                "a claim exchanges one job's token for one publisher: give one project and one index", field="claim"
            )
    except UsageError as exc:
        return usage_failure(runner, exc)
    for block in render.defaults_blocks(batch):
        runner.echo(block)
    for warning in dict.fromkeys(warning for item in batch for warning in item.warnings):
        runner.warning(warning, title=TITLE)
    if len(batch) > 1 and settings.mode == "add" and not settings.claim:
        return add_many(runner, env, batch, settings)
    if settings.mode == "check":
        return check_only(runner, resolved, context, settings)
    return add(runner, env, resolved, context, settings)


def main(env: Mapping[str, str] | None = None) -> int:
    """Run the action against ``env`` (default: this process's environment), which alone says where outputs go."""
    env = dict(os.environ) if env is None else env
    runner = Runner.from_env(env)
    try:
        return run(env, runner)
    except Exception as exc:  # a bug: say so on the run page, with the traceback in the log
        sys.stdout.flush()
        traceback.print_exc()
        sys.stderr.flush()
        runner.error(f"Unexpected {type(exc).__name__}; the traceback is in the log.", title=TITLE)
        return EXIT_FAILED
