"""Action inputs, read from the ``INPUT_*`` variables that ``action.yml`` maps in ``env:``.

A composite action gets no ``INPUT_*`` variables for free, so every input is
mapped by hand; :data:`INPUTS` lists them and a test checks ``action.yml``
against it. An empty input means "use the default", as in the CLI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ..core.errors import UsageError
from ..core.models import Target
from ..core.secret import Secret
from ..core.validation import TIMEOUT_LIMITS, number_in_range
from ..credentials.passkey import Passkey
from ..credentials.values import Credentials
from ..inputs.options import Options
from .confirmation import ConfirmationSettings

PUBLISHER_INPUTS = (
    "project", "provider", "owner", "repository", "workflow", "environment",
    "namespace", "gitlab-project", "workflow-path", "issuer-url", "email", "sub",
    "activestate-organization", "activestate-project", "actor",
    "index", "target", "organization",
)  # fmt: skip
ACCESS_INPUTS = (
    "pypi-username", "pypi-password", "pypi-totp-secret", "pypi-passkey", "remove-passkey", "api-token", "method",
    "timeout",
)  # fmt: skip
BEHAVIOUR_INPUTS = ("mode", "dry-run", "check", "claim", "fail-on-error")
CONFIRMATION_INPUTS = (
    "confirmation", "confirmation-repository", "confirmation-issue", "confirmation-token",
    "confirmation-timeout", "confirmation-poll-interval", "allow-public-confirmation",
)  # fmt: skip
INPUTS = PUBLISHER_INPUTS + ACCESS_INPUTS + BEHAVIOUR_INPUTS + CONFIRMATION_INPUTS
SECRET_INPUTS = ("pypi-password", "pypi-totp-secret", "pypi-passkey", "api-token", "confirmation-token")
# What messages call each credential (the engine's default is the CLI's environment variables).
CREDENTIAL_NAMES = {"username": "pypi-username", "password": "pypi-password", "api_token": "api-token"}

TARGETS = {"auto": Target.AUTO, "pending": Target.PENDING, "existing": Target.PROJECT}
REPOSITORY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")
TRUE = ("true", "True", "TRUE")
FALSE = ("false", "False", "FALSE")


def env_name(name: str) -> str:
    """``pypi-totp-secret`` → ``INPUT_PYPI_TOTP_SECRET``."""
    return "INPUT_" + name.upper().replace("-", "_")


@dataclass(frozen=True)
class ActionSettings:
    options: Options
    credentials: Credentials
    # One Options per (index, project) when the inputs list several; else just ``options``.
    batch: tuple[Options, ...] = ()
    mode: str = "add"
    method: str = "auto"
    dry_run: bool = False
    timeout: float = 15.0
    check: bool = True
    # After a successful registration, exchange the job's OIDC token once (engine/claim.py).
    claim: bool = False
    fail_on_error: bool = True
    confirmation: ConfirmationSettings | None = None
    confirmation_token: Secret = field(default_factory=lambda: Secret(""))
    # Remove the security key from the account at the end, so the secret that carries it is dead afterwards.
    remove_passkey: bool = False


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def raw(self, name: str) -> str:
        return self.env.get(env_name(name), "")

    def text(self, name: str) -> str | None:
        """The trimmed value, or None when empty (the default applies)."""
        return self.raw(name).strip() or None

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = (self.text(name) or default).lower()
        if value not in choices:
            raise UsageError(f"{name} must be one of {', '.join(choices)}, got {value!r}", field=name)
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name).strip()
        if not value:
            return default
        if value in TRUE or value in FALSE:
            return value in TRUE
        raise UsageError(f"{name} must be true or false, got {value!r}", field=name)

    def number(self, name: str, default: float, low: float, high: float) -> float:
        value = self.text(name)
        return default if value is None else number_in_range(name, value, low, high)


def event_private(env: Mapping[str, str]) -> bool | None:
    """``repository.private`` from the event payload, or None when it does not say."""
    path = env.get("GITHUB_EVENT_PATH", "")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            payload = json.load(f)
    except (OSError, ValueError):
        return None
    repository = payload.get("repository") if isinstance(payload, dict) else None
    value = repository.get("private") if isinstance(repository, dict) else None
    return value if isinstance(value, bool) else None


def run_url(env: Mapping[str, str]) -> str:
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repo, run = env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
    return f"{server}/{repo}/actions/runs/{run}" if repo and run else ""


def _confirmation(read: _Reader, env: Mapping[str, str]) -> ConfirmationSettings | None:
    if read.choice("confirmation", ("issue", "none"), "issue") == "none":
        return None
    own = env.get("GITHUB_REPOSITORY", "")
    repository = read.text("confirmation-repository") or own
    if not repository:
        return None  # not on a runner: nowhere to ask
    if not REPOSITORY_RE.match(repository):
        raise UsageError(
            f"confirmation-repository must look like owner/name, got {repository!r}",
            field="confirmation-repository",
        )
    issue_text = read.text("confirmation-issue")
    if issue_text is not None and not (issue_text.isdigit() and int(issue_text) > 0):
        raise UsageError(f"confirmation-issue must be an issue number, got {issue_text!r}", field="confirmation-issue")
    return ConfirmationSettings(
        repository=repository,
        own_repository=own,
        issue=int(issue_text) if issue_text else None,
        timeout=read.number("confirmation-timeout", 10, 0.5, 350) * 60,
        poll_interval=read.number("confirmation-poll-interval", 10, 2, 300),
        allow_public=read.boolean("allow-public-confirmation", False),
        event_private=event_private(env),
        run_url=run_url(env),
    )


def several(value: str | None) -> list[str]:
    """``index`` and ``project`` take several values: one per line, or comma-separated.

    Not on spaces: a name with a space is one invalid name, reported as such.
    """
    return [item.strip() for item in re.split(r"[\r\n,]+", value or "") if item.strip()]


def parse(env: Mapping[str, str]) -> ActionSettings:
    """Every input, checked; raises UsageError naming the input."""
    read = _Reader(env)
    environment = read.raw("environment").strip()
    indexes = several(read.text("index")) or ["pypi"]
    projects: list[str | None] = [*several(read.text("project"))] or [None]
    options = Options(
        provider=read.choice("provider", ("github", "gitlab", "google", "activestate"), "github"),
        index=indexes[0],
        project=projects[0],
        target=TARGETS[read.choice("target", tuple(TARGETS), "auto")],
        organization=read.text("organization") or "",
        owner=read.text("owner"),
        repository=read.text("repository"),
        workflow=read.text("workflow"),
        environment=environment or None,
        namespace=read.text("namespace"),
        gitlab_project=read.text("gitlab-project"),
        workflow_path=read.text("workflow-path"),
        issuer_url=read.text("issuer-url"),
        email=read.text("email"),
        sub=read.text("sub"),
        activestate_org=read.text("activestate-organization"),
        activestate_project=read.text("activestate-project"),
        actor=read.text("actor"),
    )
    passkey = read.text("pypi-passkey")
    credentials = Credentials(
        username=read.text("pypi-username") or "",
        password=Secret(read.raw("pypi-password")),
        totp_secret=Secret(read.raw("pypi-totp-secret").strip()),
        api_token=Secret(read.raw("api-token").strip()),
        passkey=Passkey.decode(passkey, source="pypi-passkey") if passkey else None,
    )
    remove_passkey = read.boolean("remove-passkey", False)
    if remove_passkey and credentials.passkey is None:
        raise UsageError("remove-passkey: true needs the key in pypi-passkey", field="remove-passkey")
    batch = tuple(replace(options, index=index, project=project) for index in indexes for project in projects)
    return ActionSettings(
        options=options,
        credentials=credentials,
        batch=batch,
        mode=read.choice("mode", ("add", "check", "claim"), "add"),
        method=read.choice("method", ("auto", "api", "web", "link"), "auto"),
        dry_run=read.boolean("dry-run", False),
        timeout=read.number("timeout", 15, *TIMEOUT_LIMITS),
        check=read.boolean("check", True),
        claim=read.boolean("claim", False),
        fail_on_error=read.boolean("fail-on-error", True),
        confirmation=_confirmation(read, env),
        confirmation_token=Secret(read.raw("confirmation-token").strip()),
        remove_passkey=remove_passkey,
    )


def secret_values(env: Mapping[str, str]) -> list[str]:
    """What to mask: each secret input as given, trimmed, per line and without whitespace."""
    values: list[str] = []
    for name in SECRET_INPUTS:
        raw = env.get(env_name(name), "")
        compact = "".join(raw.split())
        values += [raw, raw.strip(), compact, *(line.strip() for line in raw.splitlines())]
        if name == "pypi-totp-secret":
            values.append(compact.upper())  # the form the engine derives codes from
        if name == "pypi-passkey" and compact:
            values += _passkey_parts(compact)
    return list(dict.fromkeys(v for v in values if v))


def _passkey_parts(text: str) -> list[str]:
    """The private key and credential id inside a passkey string, which no output may show either."""
    try:
        return Passkey.decode(text).secrets()
    except UsageError:
        return []
