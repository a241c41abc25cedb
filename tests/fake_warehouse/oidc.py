"""Warehouse's OIDC token exchange, for the fake: ``GET /_/oidc/audience`` and ``POST /_/oidc/mint-token``.

A CI job trades its OIDC token for a short-lived ``pypi-`` token; a pending publisher that matches
creates its project on the way (docs/protocol/publish-time.md#mint-token). The rules, their order and
the messages are Warehouse's (``warehouse/oidc/views.py``, ``services.py``, ``models/github.py``,
``models/gitlab.py``, ``models/_core.py``, ``packaging/services.py``), written down in
docs/protocol/publish-time.md. The signature is checked with PyJWT against keys fetched over HTTP
from the issuer's OpenID configuration (``FakeWarehouse.oidc_issuers``); the time claims are
checked here, against the fake's clock, because PyJWT reads the wall clock.

GitHub and GitLab tokens are matched; Google and ActiveState issuers are recognised (so their
admin flags answer ``not-enabled``) but their claim matching is not modelled.
"""

from __future__ import annotations

import json
import re
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import templates as t
from .server import (
    _PROJECT_NAME_RE,
    _STDLIB_NAMES,
    FakeWarehouse,
    PendingPublisherRecord,
    PublisherRecord,
    normalize_name,
    ultranormalize_name,
)

# The built-in issuers and Warehouse's service names for them (``OIDC_ISSUER_SERVICE_NAMES``).
ISSUERS = {
    "https://token.actions.githubusercontent.com": "github",
    "https://gitlab.com": "gitlab",
    "https://accounts.google.com": "google",
    "https://platform.activestate.com/api/v1/oauth/oidc": "activestate",
}
LEEWAY = 30  # seconds of clock skew allowed on exp, nbf and iat
TOKEN_SECONDS = 900  # lifetime of a minted token
KEYSET_COOLDOWN = 60  # no new fetch of an issuer's keys within this long of the last good one
JTI_MARGIN = 5  # a used jti is remembered until exp + LEEWAY + JTI_MARGIN
FETCH_TIMEOUT = 5
PYDANTIC_DOCS = "https://errors.pydantic.dev/2.13/v"
MSG_FAILED = "Token request failed"

# The workflow file in job_workflow_ref (a file name ending .yml/.yaml, right before "@"), and the
# pipeline path in ci_config_ref_uri (everything after "//" up to "@", ending .yml/.yaml).
_GITHUB_WORKFLOW_RE = re.compile(r"[^/]+\.ya?ml(?=@)")
_GITLAB_PIPELINE_RE = re.compile(r"(?<=//).*[^/]\.ya?ml(?=@)")
_GITHUB_REQUIRED = (
    "repository",
    "repository_owner",
    "repository_owner_id",
    "job_workflow_ref",
    "jti",
    "event_name",
    "ref",
    "sha",
)
_GITLAB_REQUIRED = ("sub", "project_path", "ci_config_ref_uri", "jti", "ref_path", "sha")


@dataclass(frozen=True)
class MintedToken:
    """A ``pypi-`` token the fake minted: for the publisher's projects, from ``not_before`` to ``expires``."""

    token: str
    publisher_id: str
    projects: tuple[str, ...]
    not_before: int
    expires: int
    issuer: str
    claims: Mapping[str, Any]

    def valid_for(self, project: str, now: float) -> bool:
        """Whether an upload to ``project`` at ``now`` would be accepted with this token."""
        names = {normalize_name(p) for p in self.projects}
        return normalize_name(project) in names and self.not_before <= now < self.expires


@dataclass(frozen=True)
class Exchange:
    """One request to mint-token, and what came of it.

    ``status``: 200, 422, or 500 (and 5xx/422 from ``fail_mint_token``); ``code``: "" on success, else the
    error code; ``project_created`` with ``owner`` (the registrant, its Owner) or ``organization`` (its
    owner) when a pending publisher was claimed; ``publisher_id`` and ``token`` when a token was minted.
    """

    at: float
    client_ip: str
    status: int
    code: str = ""
    description: str = ""
    issuer: str | None = None
    project_created: str | None = None
    owner: str | None = None
    organization: str | None = None
    publisher_id: str | None = None
    token: str | None = None


@dataclass
class _Keyset:
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    cooldown_until: float = 0.0


@dataclass
class _MintFault:
    status: int
    code: str
    description: str
    times: int


@dataclass
class State:
    """What Warehouse keeps outside its database: cached keysets (Redis), used jtis (Redis), and faults."""

    keysets: dict[str, _Keyset] = field(default_factory=dict)
    used_jtis: dict[tuple[str, str], float] = field(default_factory=dict)
    faults: list[_MintFault] = field(default_factory=list)


class _Refused(Exception):
    def __init__(self, code: str, description: str) -> None:
        super().__init__(code, description)
        self.code, self.description = code, description


class _NoPublisher(Exception):
    """``InvalidPublisherError``: its text is the reason in "no corresponding publisher (…)"."""


class _Reused(Exception):
    """``ReusedTokenError``: the jti was already used."""


class ServerError(Exception):
    """A case where Warehouse itself fails with a 500 (an uncaught exception)."""


def audience(wh: FakeWarehouse) -> tuple[int, dict[str, str]]:
    """``oidc_audience`` (docs/protocol/publish-time.md#audience)."""
    if wh.oidc_disabled:
        return 403, {"message": "Trusted publishing functionality not enabled"}
    return 200, {"audience": wh.oidc_audience}


def add_fault(wh: FakeWarehouse, status: int, code: str, description: str, times: int) -> None:
    wh._oidc.faults.append(_MintFault(status, code, description, times))


def mint_token(wh: FakeWarehouse, body: bytes, now: float, client_ip: str) -> tuple[int, Any]:
    """``mint_token_from_oidc``: status and JSON payload, the exchange recorded in ``wh.exchanges``.

    Raises ServerError where Warehouse answers 500; what was recorded so far stays recorded.
    """
    run = _Run(wh, now, client_ip)
    fault = next(iter(wh._oidc.faults), None)
    if fault is not None:
        fault.times -= 1
        if fault.times <= 0:
            wh._oidc.faults.remove(fault)
        run.outcome.update(status=fault.status, code=fault.code, description=fault.description)
        wh.exchanges.append(Exchange(**run.outcome))
        if fault.status != 422:
            return fault.status, {"message": "Internal Server Error"}
        return 422, _errors(fault.code, fault.description)
    try:
        payload = run.exchange(body)
        run.outcome.update(status=200)
        return 200, payload
    except _Refused as refused:
        run.outcome.update(status=422, code=refused.code, description=refused.description)
        return 422, _errors(refused.code, refused.description)
    except ServerError as error:
        run.outcome.update(status=500, description=str(error))
        raise
    finally:
        wh.exchanges.append(Exchange(**run.outcome))


def _errors(code: str, description: str) -> dict[str, Any]:
    return {"message": MSG_FAILED, "errors": [{"code": code, "description": description}]}


def _pydantic(location: str, message: str, kind: str, value: Any) -> str:
    """The text of a pydantic ``ValidationError`` for ``TokenPayload`` (the shape; values abbreviated)."""
    shown = repr(value)
    shown = shown if len(shown) <= 50 else f"{shown[:24]}...{shown[-24:]}"
    where = f"{location}\n" if location else ""
    return (
        f"1 validation error for TokenPayload\n{where}  {message} [type={kind}, input_value={shown}, "
        f"input_type={type(value).__name__}]\n    For further information visit {PYDANTIC_DOCS}/{kind}"
    )


def _token_from_body(body: bytes) -> str:
    """``TokenPayload.model_validate_json``: a JSON object with a string ``token`` (other keys ignored)."""
    try:
        data = json.loads(body)
    except ValueError:
        raise _Refused(
            "invalid-payload", _pydantic("", "Invalid JSON: expected value at line 1 column 1", "json_invalid", body)
        ) from None
    if not isinstance(data, dict):
        raise _Refused("invalid-payload", _pydantic("", "Input should be an object", "model_type", data))
    if "token" not in data:
        raise _Refused("invalid-payload", _pydantic("token", "Field required", "missing", data))
    if not isinstance(data["token"], str):
        raise _Refused(
            "invalid-payload", _pydantic("token", "Input should be a valid string", "string_type", data["token"])
        )
    return data["token"]


def _first(rows: Iterable[Any]) -> Any:
    return next(iter(rows), None)


class _Run:
    """One exchange, step by step in Warehouse's order."""

    def __init__(self, wh: FakeWarehouse, now: float, client_ip: str) -> None:
        self.wh = wh
        self.now = now
        self.client_ip = client_ip
        self.outcome: dict[str, Any] = {"at": now, "client_ip": client_ip, "status": 500}

    # -- the view ---------------------------------------------------------------------------

    def exchange(self, body: bytes) -> dict[str, Any]:
        import jwt

        token = _token_from_body(body)
        try:
            issuer = jwt.decode(token, options={"verify_signature": False})["iss"]
        except Exception:
            raise _Refused("invalid-payload", "malformed JWT") from None
        service = ISSUERS.get(issuer) if isinstance(issuer, str) else None
        if service is None:
            raise _Refused("invalid-payload", "unknown trusted publishing issuer")
        self.outcome["issuer"] = issuer
        if self.wh.oidc_disabled or service in self.wh.disabled_providers:
            raise _Refused("not-enabled", f"{service} trusted publishing functionality not enabled")
        claims = self.verify(token, issuer)
        if claims is None:
            raise _Refused("invalid-token", "malformed or invalid token")
        try:
            pending = self.find(service, claims, pending=True)
        except _NoPublisher:
            pending = None
        except _Reused:
            raise ServerError("ReusedTokenError while looking up a pending publisher") from None
        if pending is not None:
            assert isinstance(pending, PendingPublisherRecord)
            self.claim_pending(pending)
        try:
            publisher = self.find(service, claims, pending=False)
        except _Reused:
            raise _Refused("invalid-reuse-token", "invalid token: already used") from None
        except _NoPublisher as reason:
            raise _Refused("invalid-publisher", f"valid token, but no corresponding publisher ({reason})") from None
        assert isinstance(publisher, PublisherRecord)
        jti = claims.get("jti")
        if jti and not self.store_jti(issuer, jti, int(claims["exp"])):
            raise _Refused("invalid-reuse-token", "invalid token: already used")
        return self.mint(publisher, issuer, claims)

    def mint(self, publisher: PublisherRecord, issuer: str, claims: Mapping[str, Any]) -> dict[str, Any]:
        projects = [p for p in self.wh.projects.values() if any(r is publisher for r in p.publishers)]
        not_before = int(self.now)
        expires = not_before + TOKEN_SECONDS
        token = "pypi-" + secrets.token_urlsafe(96)
        self.wh.minted.append(
            MintedToken(token, publisher.id, tuple(p.name for p in projects), not_before, expires, issuer, dict(claims))
        )
        self.outcome.update(publisher_id=publisher.id, token=token)
        environment = claims.get("environment")
        if (
            len(projects) == 1
            and publisher.publisher.kind in ("github", "gitlab")
            and publisher.publisher["environment"] == ""
            and environment
        ):
            project = projects[0]
            for owner in dict.fromkeys(project.owners):
                self.wh._mail(
                    owner,
                    f"[{t.SITE_NAME}] Trusted Publisher for project {project.name} can be made more secure",
                    t.environment_ignored_email(project.name, environment),
                    self.now,
                )
        return {"success": True, "token": token, "expires": expires}

    # -- the signature and the standard claims (``verify_jwt_signature``) ------------------------

    def verify(self, token: str, issuer: str) -> dict[str, Any] | None:
        import jwt

        try:
            kid = jwt.get_unverified_header(token).get("kid")
            if kid is None:
                return None
            key = self.key(issuer, kid)
            if key is None:
                return None
            claims = jwt.decode(
                token,
                key=jwt.PyJWK(key),
                algorithms=["RS256"],
                # Time claims are checked below, against the fake's clock.
                options={
                    "verify_signature": True,
                    "require": ["iss", "iat", "exp", "aud"],
                    "verify_iss": True,
                    "verify_aud": True,
                    "strict_aud": True,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
                issuer=issuer,
                audience=self.wh.oidc_audience,
            )
        except jwt.PyJWTError:
            return None
        return claims if self.times_ok(claims) else None

    def times_ok(self, claims: Mapping[str, Any]) -> bool:
        """PyJWT's checks with ``leeway=30``: ``iat`` not in the future, ``nbf`` reached, ``exp`` not passed."""
        try:
            iat = int(claims["iat"])
            nbf = int(claims["nbf"]) if "nbf" in claims else None
            exp = int(claims["exp"])
        except (ValueError, TypeError, OverflowError):
            return False
        if iat > self.now + LEEWAY:
            return False
        if nbf is not None and nbf > self.now + LEEWAY:
            return False
        return exp > self.now - LEEWAY

    def key(self, issuer: str, kid: str) -> dict[str, Any] | None:
        """The JWK named ``kid``: from the cache, else after one fetch of the issuer's keys (no more than one a
        minute once a fetch succeeded)."""
        keyset = self.wh._oidc.keysets.setdefault(issuer, _Keyset())
        if kid not in keyset.keys and keyset.cooldown_until <= self.now:
            keys = self.fetch_keys(issuer)
            if keys:
                keyset.keys = {key["kid"]: key for key in keys}
                keyset.cooldown_until = self.now + KEYSET_COOLDOWN
        return keyset.keys.get(kid)

    def fetch_keys(self, issuer: str) -> list[dict[str, Any]] | None:
        """``_refresh_keyset``: the OpenID configuration, then its ``jwks_uri``; None when either answers an error,
        has no ``jwks_uri`` or no keys. An issuer the fake has no address for is answered like an error."""
        configuration_url = self.wh.oidc_issuers.get(issuer)
        configuration = self.get_json(configuration_url) if configuration_url else None
        jwks_uri = configuration.get("jwks_uri") if isinstance(configuration, dict) else None
        jwks = self.get_json(jwks_uri) if isinstance(jwks_uri, str) else None
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        return keys or None

    @staticmethod
    def get_json(url: str) -> Any:
        """``requests.get(url, timeout=5)``: an error status gives None; no answer, or one that is not JSON, is
        an exception Warehouse does not catch."""
        try:
            with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:
                body = response.read()
        except urllib.error.HTTPError:
            return None
        except (urllib.error.URLError, OSError) as error:
            raise ServerError(f"fetching {url}: {error}") from None
        try:
            return json.loads(body)
        except ValueError:
            raise ServerError(f"{url} did not answer JSON") from None

    # -- used jtis (``jwt_identifier_exists``, ``store_jwt_identifier``) --------------------------

    def jti_used(self, issuer: str, jti: str) -> bool:
        until = self.wh._oidc.used_jtis.get((issuer, jti))
        return until is not None and self.now < until

    def store_jti(self, issuer: str, jti: str, exp: int) -> bool:
        if self.jti_used(issuer, jti):
            return False
        self.wh._oidc.used_jtis[(issuer, jti)] = exp + LEEWAY + JTI_MARGIN
        return True

    # -- finding the publisher (``find_publisher``) ----------------------------------------------

    def find(
        self, service: str, claims: Mapping[str, Any], *, pending: bool
    ) -> PublisherRecord | PendingPublisherRecord:
        rows: Sequence[PublisherRecord | PendingPublisherRecord]
        if pending:
            rows = list(self.wh.pending_publishers)
        else:
            rows = list({id(r): r for p in self.wh.projects.values() for r in p.publishers}.values())
        if service == "github":
            return self.github(claims, rows)
        if service == "gitlab":
            return self.gitlab(claims, rows)
        message = f"the fake does not model {service} claim matching"
        self.wh.errors.append(message)
        raise ServerError(message)

    @staticmethod
    def _require(claims: Mapping[str, Any], names: Sequence[str]) -> None:
        # Warehouse walks a set here, so with several claims missing which one it names varies.
        for name in names:
            if claims.get(name) is None:
                raise _NoPublisher(f"Missing claim {name!r}")

    @staticmethod
    def _by_environment(rows: Sequence[Any], environment: Any, *, fold: bool) -> Any:
        """The publisher for the token's environment, else one without an environment, else None."""
        if environment:
            wanted = environment.lower() if fold else environment
            specific = _first(r for r in rows if r.publisher["environment"] == wanted)
            if specific is not None:
                return specific
        return _first(r for r in rows if r.publisher["environment"] == "")

    def github(self, claims: Mapping[str, Any], rows: Sequence[Any]) -> Any:
        """``GitHubPublisher.lookup_by_claims`` then ``verify_claims`` (docs/protocol/publish-time.md#github-lookup)."""
        self._require(claims, _GITHUB_REQUIRED)
        repository, job_workflow_ref = claims["repository"], claims["job_workflow_ref"]
        if not isinstance(repository, str) or "/" not in repository or not isinstance(job_workflow_ref, str):
            raise ServerError(f"repository claim {repository!r} cannot be split into owner and name")
        owner, name = repository.split("/", 1)
        found = _GITHUB_WORKFLOW_RE.search(job_workflow_ref)
        if found is None:
            raise _NoPublisher("Could not job extract workflow filename from OIDC claims")
        matching = [
            r
            for r in rows
            if r.publisher.kind == "github"
            and r.publisher["repository"] == name
            and r.publisher["owner"] == owner
            and r.external_id == claims["repository_owner_id"]
            and r.publisher["workflow_filename"] == found.group(0)
        ]
        chosen = self._by_environment(matching, claims.get("environment"), fold=True)
        if chosen is None:
            raise _NoPublisher("Publisher with matching claims was not found")
        stored = chosen.publisher
        full = f"{stored['owner']}/{stored['repository']}"
        if not (isinstance(repository, str) and repository.lower() == full.lower()):
            raise _NoPublisher("Check failed for required claim 'repository'")
        if claims["repository_owner"] != stored["owner"]:
            raise _NoPublisher("Check failed for required claim 'repository_owner'")
        if claims["repository_owner_id"] != chosen.external_id:
            raise _NoPublisher("Check failed for required claim 'repository_owner_id'")
        self._ref_check(
            "job_workflow_ref",
            f"{full}/.github/workflows/{stored['workflow_filename']}",
            job_workflow_ref,
            ("ref", "sha"),
            claims,
            both=False,
        )
        if self.jti_used(claims["iss"], claims["jti"]):
            raise _Reused
        if claims["event_name"] == "pull_request_target":
            raise _NoPublisher("Publishing from a workflow invoked via 'pull_request_target' is not supported.")
        environment = claims.get("environment")
        if stored["environment"] and not (environment and environment.lower() == stored["environment"].lower()):
            raise _NoPublisher("Check failed for optional claim 'environment'")
        return chosen

    def gitlab(self, claims: Mapping[str, Any], rows: Sequence[Any]) -> Any:
        """``GitLabPublisher.lookup_by_claims`` then ``verify_claims`` (docs/protocol/publish-time.md#gitlab-lookup)."""
        self._require(claims, _GITLAB_REQUIRED)
        project_path, ci_config_ref_uri = claims["project_path"], claims["ci_config_ref_uri"]
        if not isinstance(project_path, str) or "/" not in project_path or not isinstance(ci_config_ref_uri, str):
            raise ServerError(f"project_path claim {project_path!r} cannot be split into namespace and project")
        namespace, project = project_path.rsplit("/", 1)
        found = _GITLAB_PIPELINE_RE.search(ci_config_ref_uri)
        if found is None:
            raise _NoPublisher("Could not extract workflow filename from OIDC claims")
        matching = [
            r
            for r in rows
            if r.publisher.kind == "gitlab"
            and r.publisher["namespace"].lower() == namespace.lower()
            and r.publisher["project"].lower() == project.lower()
            and r.publisher["workflow_filepath"] == found.group(0)
            and r.publisher["issuer_url"] == claims["iss"]
        ]
        chosen = self._by_environment(matching, claims.get("environment"), fold=False)
        if chosen is None:
            raise _NoPublisher("Publisher with matching claims was not found")
        stored = chosen.publisher
        path = f"{stored['namespace']}/{stored['project']}"
        parts = claims["sub"].split(":") if isinstance(claims["sub"], str) else []
        if len(parts) < 2 or not all(parts[:2]) or f"{parts[0]}:{parts[1]}".lower() != f"project_path:{path}".lower():
            raise _NoPublisher("Check failed for required claim 'sub'")
        if project_path.lower() != path.lower():
            raise _NoPublisher("Check failed for required claim 'project_path'")
        host = stored["issuer_url"].removeprefix("https://")
        self._ref_check(
            "ci_config_ref_uri",
            f"{host}/{path}//{stored['workflow_filepath']}",
            ci_config_ref_uri,
            ("ref_path", "sha"),
            claims,
            both=True,
        )
        if self.jti_used(claims["iss"], claims["jti"]):
            raise _Reused
        environment = claims.get("environment")
        if stored["environment"] and environment != stored["environment"]:
            raise _NoPublisher("Check failed for optional claim 'environment'")
        return chosen

    @staticmethod
    def _ref_check(
        name: str, expected_base: str, value: str, refs: tuple[str, str], claims: Mapping[str, Any], *, both: bool
    ) -> None:
        """``<base>@<ref or sha>``: GitHub needs one of ``ref``/``sha`` non-empty, GitLab both."""
        if not value:
            raise _NoPublisher(f"The {name} claim is empty")
        values = [claims.get(ref) for ref in refs]
        if not (all(values) if both else any(values)):
            raise _NoPublisher(f"The {refs[0]} and {refs[1]} claims are empty")
        expected = {f"{expected_base}@{ref}" for ref in values if ref}
        if value not in expected:
            raise _NoPublisher(f"The {name} claim does not match, expecting one of {sorted(expected)!r}, got {value!r}")

    # -- a pending publisher's first use (docs/protocol/publish-time.md#pending-claim) -------------

    def claim_pending(self, pending: PendingPublisherRecord) -> None:
        wh = self.wh
        if wh._find_project(pending.project_name) is not None:
            wh.pending_publishers.remove(pending)
            raise _Refused("invalid-pending-publisher", "valid token, but project already exists")
        self.check_new_project(pending.project_name)
        organization = pending.organization
        project = wh.add_project(
            pending.project_name, owners=[] if organization else [pending.added_by], organization=organization
        )
        self.outcome.update(
            project_created=project.name, owner=None if organization else pending.added_by, organization=organization
        )
        for stale in list(wh.pending_publishers):
            if (
                ultranormalize_name(stale.project_name) == ultranormalize_name(project.name)
                and stale.added_by != pending.added_by
            ):
                wh._mail(
                    stale.added_by,
                    f"[{t.SITE_NAME}] Pending trusted publisher invalidated for {stale.project_name}",
                    t.pending_invalidated_email(stale.project_name),
                    self.now,
                )
                wh.pending_publishers.remove(stale)
        wh.pending_publishers.remove(pending)
        record = wh._attach(project, pending.publisher, pending.external_id)
        assert record is not None  # a new project has no publisher yet
        wh._mail(
            pending.added_by,
            f"[{t.SITE_NAME}] Trusted publisher created project {project.name}",
            t.pending_reified_email(project.name, t.publisher_specifier(record.publisher)),
            self.now,
        )
        user = wh.users.get(pending.added_by)
        if user is not None:
            wh._hits.clear(("register-user", user.id))
        wh._hits.clear(("register-ip", self.client_ip))

    def check_new_project(self, name: str) -> None:
        """``create_project``'s refusals, as ``str()`` of the HTTP exception it raises."""
        wh = self.wh
        help_url = f"{wh.url}/help/"
        if wh.disallow_new_project_registration:
            raise _Refused(
                "invalid-payload",
                "New project registration temporarily disabled. "
                f"See {help_url}#admin-intervention for more information.",
            )
        see = f"See {help_url}#project-name for more information."
        if not _PROJECT_NAME_RE.match(name):
            raise _Refused("invalid-payload", f"The name {name!r} is invalid.")
        if normalize_name(name) in _STDLIB_NAMES:
            raise _Refused(
                "invalid-payload",
                f"The name {name!r} isn't allowed (conflict with Python Standard Library module name). {see}",
            )
        if normalize_name(name) in {normalize_name(n) for n in wh.prohibited_project_names}:
            raise _Refused("invalid-payload", f"The name {name!r} isn't allowed. {see}")
        if any(ultranormalize_name(p.name) == ultranormalize_name(name) for p in wh.projects.values()):
            raise _Refused("invalid-payload", f"The name {name!r} is too similar to an existing project. {see}")
