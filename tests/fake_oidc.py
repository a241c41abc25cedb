"""A fake OIDC identity provider on 127.0.0.1: GitHub Actions' issuer and runtime token endpoint, and GitLab's.

Trusted publishing starts with a CI job's OIDC token (docs/protocol/publish-time.md#oidc-tokens). This
service plays both ends of that for tests, over real HTTP, on an injected clock:

- **GitHub's runtime endpoint.** A job with ``id-token: write`` gets ``ACTIONS_ID_TOKEN_REQUEST_URL`` and
  ``ACTIONS_ID_TOKEN_REQUEST_TOKEN``; ``GET <url>&audience=<aud>`` with ``Authorization: bearer <token>``
  answers ``{"value": "<JWT>"}``. ``actions_env()`` gives the two variables; ``job_claims`` is the claim
  set each token carries (``github_claims()`` builds a realistic one). A missing or wrong bearer is a 401.
- **GitLab.** Its jobs get the token in a CI variable (``id_tokens:``), so ``gitlab_token()`` hands one
  to the test directly.
- **The issuers' keys.** Each issuer has its own RSA key; ``/.well-known/openid-configuration`` and
  ``/.well-known/jwks`` (GitHub) and ``/gitlab/.well-known/openid-configuration`` and
  ``/gitlab/oauth/discovery/keys`` (GitLab) publish them. The fake Warehouse finds them through
  ``discovery()``: ``wh.oidc_issuers = oidc.discovery()``.

JWTs are signed RS256 with PyJWT. ``iat``/``nbf``/``exp`` come from ``clock`` (``tests/clocks.py``), the
``jti`` is fresh per token. ``fail_next`` makes the next requests time out, answer HTML, answer 500, or
(the token endpoint) carry a token for another audience. ``requests`` logs every request (method, path
without query, status; 0 for one left unanswered), ``issued`` every token signed.
"""

from __future__ import annotations

import functools
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple, Self
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.com"
# Timings, from the two services' documented example tokens (not measured on a live runner):
# GitHub's tokens live 5 minutes and are valid from 10 minutes before they were issued; GitLab's
# live as long as the job may run (1 hour by default) and are valid from 5 seconds before.
GITHUB_LIFETIME, GITHUB_NOT_BEFORE = 300, 600
GITLAB_LIFETIME, GITLAB_NOT_BEFORE = 3600, 5
FAULTS = ("timeout", "html", "500", "wrong-audience")
# An unknown, missing or malformed runtime bearer token. Not checked against GitHub: the runtime
# service is Azure DevOps' token service, which refuses a bad credential with 401.
UNAUTHORIZED = 401


@functools.cache
def _rsa_key(name: str) -> rsa.RSAPrivateKey:
    """One 2048-bit key per name and process: generating keys is the slow part of a test."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class SigningKey:
    """An RSA key pair with the ``kid`` that names it in a JWKS and in a token's header."""

    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def named(cls, name: str) -> SigningKey:
        return cls(f"fake-{name}-key", _rsa_key(name))

    def jwk(self) -> dict[str, Any]:
        public = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {"kty": public["kty"], "alg": "RS256", "use": "sig", "kid": self.kid, "n": public["n"], "e": public["e"]}


class Issuer:
    """One OIDC issuer: its ``iss``, where it publishes its keys on the fake, and the keys (the last signs)."""

    def __init__(self, iss: str, prefix: str, jwks_path: str, key: SigningKey) -> None:
        self.iss = iss
        self.prefix = prefix
        self.jwks_path = jwks_path
        self.keys = [key]

    @property
    def key(self) -> SigningKey:
        return self.keys[-1]

    def rotate(self, key: SigningKey) -> None:
        """Publish ``key`` beside the old ones and sign with it from now on."""
        self.keys.append(key)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.jwk() for key in self.keys]}

    def configuration(self, base: str) -> dict[str, Any]:
        return {
            "issuer": self.iss,
            "jwks_uri": f"{base}{self.jwks_path}",
            "subject_types_supported": ["public", "pairwise"],
            "response_types_supported": ["id_token"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid"],
        }

    def sign(self, claims: Mapping[str, Any], *, key: SigningKey | None = None, kid: str | None = None) -> str:
        """``claims`` signed RS256 by ``key`` (default: the current key), its header naming ``kid``."""
        signer = key or self.key
        return jwt.encode(
            dict(claims), signer.private, algorithm="RS256", headers={"kid": kid or signer.kid, "typ": "JWT"}
        )


def _present(claims: Mapping[str, Any]) -> dict[str, Any]:
    """A claim set without the claims a test set to None (left out of the token)."""
    return {name: value for name, value in claims.items() if value is not None}


def github_claims(
    owner: str = "octo-org",
    repository: str = "my-pkg",
    workflow: str = "release.yml",
    *,
    environment: str | None = "pypi",
    ref: str = "refs/heads/main",
    event_name: str = "push",
    owner_id: str = "1001",
    repository_id: str = "4242",
    **changes: Any,
) -> dict[str, Any]:
    """The claims GitHub puts in a job's token (docs/protocol/publish-time.md#github-claims), without
    ``aud``, ``iat``, ``nbf``, ``exp`` and ``jti``, which each token gets when signed.

    ``job_workflow_ref`` and ``workflow_ref`` name ``<owner>/<repository>/.github/workflows/<workflow>@<ref>``;
    ``changes`` replace or add claims (a reusable workflow: ``job_workflow_ref=`` another file), and a claim
    given as None is left out (``environment=None``: a job without an environment).
    """
    full = f"{owner}/{repository}"
    workflow_ref = f"{full}/.github/workflows/{workflow}@{ref}"
    sha = "a7bd1e6" + "0" * 33
    context = f"environment:{environment}" if environment else f"ref:{ref}"
    claims: dict[str, Any] = {
        "sub": f"repo:{full}:{context}",
        "repository": full,
        "repository_owner": owner,
        "repository_owner_id": owner_id,
        "repository_id": repository_id,
        "repository_visibility": "public",
        "actor": "octocat",
        "actor_id": "583231",
        "run_id": "9876543210",
        "run_number": "42",
        "run_attempt": "1",
        "workflow": "Release",
        "head_ref": "",
        "base_ref": "",
        "event_name": event_name,
        "ref": ref,
        "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
        "ref_protected": "false",
        "sha": sha,
        "workflow_ref": workflow_ref,
        "workflow_sha": sha,
        "job_workflow_ref": workflow_ref,
        "job_workflow_sha": sha,
        "runner_environment": "github-hosted",
        "environment": environment,
        "environment_node_id": "EN_kwDOfake" if environment else None,
        "check_run_id": "31415926535",
        "iss": GITHUB_ISSUER,
    }
    claims.update(changes)
    return _present(claims)


def gitlab_claims(
    namespace: str = "octo-group",
    project: str = "my-pkg",
    ci_config_path: str = ".gitlab-ci.yml",
    *,
    environment: str | None = None,
    ref: str = "main",
    **changes: Any,
) -> dict[str, Any]:
    """The claims of a GitLab ``id_tokens:`` token (docs/protocol/publish-time.md#gitlab-claims), as for
    ``github_claims``: ``ci_config_ref_uri`` is ``gitlab.com/<namespace>/<project>//<path>@refs/heads/<ref>``."""
    path = f"{namespace}/{project}"
    ref_path = f"refs/heads/{ref}"
    sha = "5e1f0c4" + "0" * 33
    claims: dict[str, Any] = {
        "namespace_id": "7001",
        "namespace_path": namespace,
        "project_id": "7002",
        "project_path": path,
        "user_id": "7003",
        "user_login": "octo-user",
        "user_email": "octo-user@example.com",
        "user_access_level": "maintainer",
        "pipeline_id": "7004",
        "pipeline_source": "push",
        "job_id": "7005",
        "ref": ref,
        "ref_type": "branch",
        "ref_path": ref_path,
        "ref_protected": "true",
        "environment": environment,
        "environment_protected": "false" if environment else None,
        "deployment_tier": "production" if environment else None,
        "environment_action": "start" if environment else None,
        "runner_id": 7006,
        "runner_environment": "gitlab-hosted",
        "sha": sha,
        "project_visibility": "public",
        "ci_config_ref_uri": f"gitlab.com/{path}//{ci_config_path}@{ref_path}",
        "ci_config_sha": sha,
        "sub": f"project_path:{path}:ref_type:branch:ref:{ref}",
        "iss": GITLAB_ISSUER,
    }
    claims.update(changes)
    return _present(claims)


class RequestRecord(NamedTuple):
    method: str
    path: str
    status: int


@dataclass(frozen=True)
class IssuedToken:
    """A token the service signed: the JWT and its claims."""

    jwt: str
    claims: Mapping[str, Any]


@dataclass
class _Fault:
    mode: str
    path: str
    times: int | None


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


class FakeOIDC:
    """GitHub's and GitLab's OIDC issuers, and GitHub's runtime token endpoint, on ``http://127.0.0.1:<port>``.

    Knobs (read on every request): ``job_claims`` (what GitHub's endpoint signs), ``request_token`` (the
    runtime bearer it accepts), ``github_lifetime`` / ``gitlab_lifetime`` and the ``…_not_before`` margins,
    ``clock``. ``github`` and ``gitlab`` are the ``Issuer``s (``sign``, ``rotate``, ``keys``).
    """

    def __init__(self, *, clock: Callable[[], float] = time.time, port: int = 0) -> None:
        self.clock = clock
        self.github = Issuer(GITHUB_ISSUER, "", "/.well-known/jwks", SigningKey.named("github"))
        self.gitlab = Issuer(GITLAB_ISSUER, "/gitlab", "/gitlab/oauth/discovery/keys", SigningKey.named("gitlab"))
        self.job_claims: dict[str, Any] = github_claims()
        self.request_token = "fake-runtime-" + secrets.token_urlsafe(16)
        self.github_lifetime, self.github_not_before = GITHUB_LIFETIME, GITHUB_NOT_BEFORE
        self.gitlab_lifetime, self.gitlab_not_before = GITLAB_LIFETIME, GITLAB_NOT_BEFORE
        self.requests: list[RequestRecord] = []
        self.issued: list[IssuedToken] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._port = port
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeOIDC is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Self:
        server = ThreadingHTTPServer(("127.0.0.1", self._port), _handler(self))
        server.daemon_threads = True
        self._server = server
        self._released.clear()
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.005}, name="fake-oidc", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop serving; requests held by a ``timeout`` fault are dropped unanswered."""
        if self._server is None:
            return
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def __enter__(self) -> Self:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests use ---------------------------------------------------------------------

    def actions_env(self) -> dict[str, str]:
        """The two variables a GitHub job with ``id-token: write`` has."""
        return {
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url}/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
        }

    def discovery(self) -> dict[str, str]:
        """Issuer → the URL of its OpenID configuration here, for ``FakeWarehouse.oidc_issuers``."""
        return {
            issuer.iss: f"{self.url}{issuer.prefix}/.well-known/openid-configuration"
            for issuer in (self.github, self.gitlab)
        }

    def github_token(
        self, audience: str = "pypi", *, key: SigningKey | None = None, kid: str | None = None, **changes: Any
    ) -> str:
        """A GitHub token signed here without the HTTP round trip: ``job_claims`` with ``changes`` (None drops
        a claim; ``iat``, ``exp``… may be given too). ``key``: sign with another key (``kid`` stays the issuer's
        unless given), so the signature does not verify."""
        claims = self._timed(self.job_claims, audience, self.github_lifetime, self.github_not_before)
        return self._sign(
            self.github, _present({**claims, **changes}), key, kid or (self.github.key.kid if key else None)
        )

    def gitlab_token(
        self,
        audience: str = "pypi",
        claims: Mapping[str, Any] | None = None,
        *,
        key: SigningKey | None = None,
        kid: str | None = None,
        **changes: Any,
    ) -> str:
        """What a GitLab job finds in its ``id_tokens:`` variable: ``claims`` (default ``gitlab_claims()``) with
        ``changes``, the time claims and a fresh ``jti``, signed by the GitLab issuer's key."""
        base = self._timed(claims or gitlab_claims(), audience, self.gitlab_lifetime, self.gitlab_not_before)
        return self._sign(
            self.gitlab, _present({**base, **changes}), key, kid or (self.gitlab.key.kid if key else None)
        )

    def fail_next(self, mode: str, *, times: int | None = 1, path: str = "/token") -> None:
        """The next ``times`` requests to ``path`` (None: all of them, until ``clear_faults``): ``timeout``
        (never answered while the service runs), ``html`` (a 200 HTML page), ``500``, or, for ``/token``,
        ``wrong-audience`` (a valid token whose ``aud`` is GitHub's default, ``https://github.com/<owner>``)."""
        if mode not in FAULTS:
            raise ValueError(f"unknown fault {mode!r} (one of {', '.join(FAULTS)})")
        with self._lock:
            self._faults.append(_Fault(mode, path, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- internals ---------------------------------------------------------------------------

    def _timed(self, claims: Mapping[str, Any], audience: str, lifetime: int, not_before: int) -> dict[str, Any]:
        now = int(self.clock())
        return {
            "jti": str(uuid.uuid4()),
            "aud": audience,
            **claims,
            "nbf": now - not_before,
            "exp": now + lifetime,
            "iat": now,
        }

    def _sign(self, issuer: Issuer, claims: dict[str, Any], key: SigningKey | None, kid: str | None) -> str:
        token = issuer.sign(claims, key=key, kid=kid)
        with self._lock:
            self.issued.append(IssuedToken(token, claims))
        return token

    def _fault(self, path: str) -> str | None:
        with self._lock:
            fault = next((f for f in self._faults if f.path == path), None)
            if fault is None:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
            return fault.mode

    def _serve(self, method: str, raw_path: str, headers: Mapping[str, str]) -> _Reply | None:
        parts = urlsplit(raw_path)
        fault = self._fault(parts.path)
        if fault == "timeout":
            self._log(method, parts.path, 0)
            self._released.wait()
            return None
        if fault == "html":
            return self._logged(
                method,
                parts.path,
                _Reply(200, b"<!DOCTYPE html><html><body><h1>Sign in</h1></body></html>", "text/html; charset=utf-8"),
            )
        if fault == "500":
            return self._logged(method, parts.path, _Reply(500, b'{"message":"Internal server error"}'))
        return self._logged(
            method,
            parts.path,
            self._route(method, parts.path, parse_qs(parts.query), headers, wrong_audience=fault == "wrong-audience"),
        )

    def _route(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        *,
        wrong_audience: bool,
    ) -> _Reply:
        if method != "GET":
            return _Reply(405, b'{"message":"Method not allowed"}')
        for issuer in (self.github, self.gitlab):
            if path == f"{issuer.prefix}/.well-known/openid-configuration":
                return _json(issuer.configuration(self.url))
            if path == issuer.jwks_path:
                return _json(issuer.jwks())
        if path != "/token":
            return _Reply(404, b'{"message":"Not found"}')
        scheme, _, credential = headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(credential.strip(), self.request_token):
            return _Reply(UNAUTHORIZED, b'{"message":"Unauthorized"}', headers=[("WWW-Authenticate", "Bearer")])
        # Without ?audience= GitHub uses its default audience, the URL of the repository owner.
        default = f"https://github.com/{self.job_claims.get('repository_owner', '')}"
        audience = default if wrong_audience else (query.get("audience") or [default])[0]
        return _json({"value": self.github_token(audience)})

    def _log(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append(RequestRecord(method, path, status))

    def _logged(self, method: str, path: str, reply: _Reply) -> _Reply:
        self._log(method, path, reply.status)
        return reply


def _json(payload: Any) -> _Reply:
    return _Reply(200, json.dumps(payload).encode())


def _handler(fake: FakeOIDC) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            reply = fake._serve(self.command, self.path, dict(self.headers.items()))
            if reply is None:
                self.close_connection = True
                return
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: tests read ``FakeOIDC.requests``."""

    return Handler
