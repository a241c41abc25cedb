"""Rules for an uploading job that hold on GitHub and GitLab alike.

Whichever service runs it, a job must upload to the publisher's index, run in
the publisher's environment and leave passwords and API tokens out.
"""

from __future__ import annotations

from .checker import Checker
from .findings import Where
from .uploads import Job, index_label, upload_url
from .workflows import YamlMap


def relevant(checker: Checker, jobs: list[Job]) -> list[Job]:
    """Jobs that upload to this publisher's index; when there are none, each upload is wrong-index."""
    host = checker.index.host
    relevant = [job for job in jobs if any(u.target in (None, host) for u in job.uploads)]
    if relevant:
        return relevant
    wrong = [(job, upload, target) for job in jobs for upload in job.uploads if (target := upload.target)]
    for job, upload, target in wrong:
        checker.add(
            "error",
            "wrong-index",
            f"Job '{job.name}' uploads to {index_label(target)}, but this publisher is registered on "
            f"{index_label(host)}; each index needs its own publisher.",
            f"Upload to {upload_url(checker.index)} (the `repository-url` input or `--repository-url`), "
            f"or register the publisher on {index_label(target)}.",
            upload.target_where,
        )
    return jobs


def environment(checker: Checker, job: Job, holder: YamlMap | None, file: str, wanted: str, *, exact: bool) -> None:
    """The job's ``environment:`` must name the publisher's environment (GitHub ignores case)."""
    if not wanted:
        return
    raw = holder.get("environment") if holder is not None else None
    where: Where = (file, holder.line_of("environment") if holder is not None else job.line)
    if isinstance(raw, YamlMap):
        where = (file, raw.line_of("name"))
        raw = raw.get("name")
    if not isinstance(raw, str) or not raw.strip():
        checker.add(
            "error",
            "environment-missing",
            f"The publisher requires environment '{wanted}', but job '{job.name}' declares no "
            "`environment:`, so its token carries no environment claim.",
            f"Add `environment: {wanted}` to job '{job.name}'.",
            (job.file, job.line),
        )
        return
    if "${{" in raw or (exact and "$" in raw):
        checker.add(
            "warning",
            "environment-expression",
            f"Job '{job.name}' chooses its environment at run time ({raw}); the publisher requires '{wanted}'.",
            f"Make sure the expression evaluates to '{wanted}' for this index.",
            where,
        )
        return
    same = raw == wanted if exact else raw.lower() == wanted.lower()
    if not same:
        case = " (GitLab compares environment names exactly)" if raw.lower() == wanted.lower() else ""
        checker.add(
            "error",
            "environment-mismatch",
            f"The publisher requires environment '{wanted}', but job '{job.name}' runs in '{raw}'{case}.",
            f"Use `environment: {wanted}` in job '{job.name}', or register the publisher with environment '{raw}'.",
            where,
        )


def secrets(checker: Checker, job: Job) -> None:
    for upload in job.uploads:
        for what, where in upload.secrets:
            checker.add(
                "warning",
                "password-bypass",
                f"Job '{job.name}' gives the upload {what}, so it uploads with that token instead of "
                "through the trusted publisher.",
                f"Remove {what} from the workflow (and delete the old API token).",
                where,
            )
