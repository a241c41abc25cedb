"""``pypi-trusted-publisher login|logout``: log in once on a workstation, the way twine users keep credentials.

``login`` takes the username and password (options, environment, ~/.pypirc's username, prompts; never the keyring
it is about to fill), proves them by logging in, and only then stores them in the OS keyring
(:mod:`credentials.keyring_store`): the password, a security key when one is given (then no code is asked again on
this machine), the TOTP secret only when asked for. Nothing goes to a plain file. ``logout`` removes the entries;
it needs no network, since the tool keeps no session between runs.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..core.errors import RegistrationFailed, UsageError
from ..core.wording import capitalized
from .common import Access, Subcommands, add_access_arguments, add_index_argument, interactive

if TYPE_CHECKING:
    from ..core.indexes import Index
    from ..credentials.keyring_store import KeyringStore
    from ..credentials.values import Credentials

EXIT_OK, EXIT_FAILED = 0, 1
SHOWN = {"password": "password", "passkey": "security key", "totp-secret": "TOTP secret"}
TOTP_WARNING = (
    "warning: the TOTP secret now sits in the keyring next to the password; whoever can read one can read both, "
    "so on this machine they are one factor, not two"
)


def add_parser(commands: Subcommands) -> None:
    """The ``login`` and ``logout`` commands."""
    login = commands.add_parser("login", help="check your PyPI login and keep it in the OS keyring")
    add_index_argument(login)
    login.add_argument(
        "--passkey-file", metavar="FILE",
        help="a security key written by 'passkey add --output FILE': log in with it and keep it (no codes after)",
    )  # fmt: skip
    login.add_argument(
        "--store-totp-secret", action="store_true",
        help="also keep the TOTP secret (PYPI_TOTP_SECRET, or asked for): it then sits next to the password",
    )  # fmt: skip
    add_access_arguments(login)
    login.set_defaults(run=run_login)
    logout = commands.add_parser("logout", help="remove what 'login' stored in the OS keyring for an index")
    add_index_argument(logout)
    logout.add_argument("--json", action="store_true", help="print JSON")
    logout.set_defaults(run=run_logout)


@dataclass(frozen=True)
class LoginRequest:
    index: str
    access: Access
    passkey_file: str | None = None
    store_totp_secret: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> LoginRequest:
        return cls(args.index, Access.from_args(args), args.passkey_file, args.store_totp_secret)


def run_login(args: argparse.Namespace, out: TextIO) -> int:
    from ..core.indexes import resolve_index
    from ..credentials.keyring_store import KeyringUnavailable
    from ..credentials.sources import describe, gather
    from ..engine.engine import engine
    from .common import engine_options

    request = LoginRequest.from_args(args)
    access = request.access
    index = resolve_index(request.index)
    store = _keyring(index, access.as_json, out)
    if store is None:
        return EXIT_FAILED
    credentials = gather(
        index, dict(os.environ), username=access.username, totp_code=access.totp_code.reveal(), method="web",
        interactive=interactive(), open_keyring=_not_read,
    )  # fmt: skip
    credentials = _second_factor(request, credentials, index)
    if access.verbose:
        print(describe(credentials, index), file=sys.stderr)
    try:
        with engine(index, credentials, engine_options(access)) as eng:
            eng.login()
            second_factor = eng.session.second_factor
    except RegistrationFailed as exc:
        return _fail(access.as_json, out, exc.reason, f"Nothing was stored: {exc.message}", index)
    values = {"password": credentials.password.reveal()}
    if credentials.passkey is not None:
        values["passkey"] = credentials.passkey.encode().reveal()
    if request.store_totp_secret:
        values["totp-secret"] = credentials.totp_secret.reveal()
    try:
        store.store(credentials.username, values)
    except KeyringUnavailable as exc:
        return _fail(access.as_json, out, "no-keyring", f"Logged in, but nothing was stored: {exc}", index)
    if request.store_totp_secret:
        print(TOTP_WARNING, file=sys.stderr)
    stored = [kind for kind in SHOWN if kind in values]
    if access.as_json:
        _json(out, status="logged-in", index=index.url, username=credentials.username,
              second_factor=second_factor or "none", stored=stored, keyring=store.name)  # fmt: skip
    else:
        print(
            f"Logged in to {index.host} as {credentials.username} ({_factor(second_factor)}). "
            f"The keyring ({store.name}) now holds the {_and(SHOWN[k] for k in stored)} for {index.host}; "
            "commands on that index use them without asking. 'pypi-trusted-publisher logout"
            f"{_index_flag(index)}' removes them.",
            file=out,
        )
    return EXIT_OK


def run_logout(args: argparse.Namespace, out: TextIO) -> int:
    from ..core.indexes import resolve_index
    from ..credentials.keyring_store import KeyringUnavailable

    index, as_json = resolve_index(args.index), bool(args.json)
    store = _keyring(index, as_json, out)
    if store is None:
        return EXIT_FAILED
    try:
        username, removed = store.forget()
    except KeyringUnavailable as exc:
        return _fail(as_json, out, "no-keyring", capitalized(str(exc)), index)
    if as_json:
        _json(out, status="logged-out", index=index.url, username=username or None, removed=removed)
    elif not username:
        print(f"Nothing was stored for {index.host}.", file=out)
    else:
        note = (
            " The security key is still enrolled on the account: 'pypi-trusted-publisher passkey remove --label …' "
            "removes it there."
            if "passkey" in removed
            else ""
        )
        print(f"Removed {username}'s {_and(SHOWN[k] for k in removed) or 'entry'} for {index.host} from the "
              f"keyring.{note}", file=out)  # fmt: skip
    return EXIT_OK


def _keyring(index: Index, as_json: bool, out: TextIO) -> KeyringStore | None:
    """The keyring, or one line saying why there is none (and None)."""
    from ..credentials.keyring_store import KeyringStore, KeyringUnavailable

    try:
        return KeyringStore.open(index, os.environ)
    except KeyringUnavailable as exc:
        _fail(as_json, out, "no-keyring", f"{capitalized(str(exc))}. Environment variables still work.", index)
        return None


def _not_read(index: Index, env: object) -> KeyringStore:
    """``login`` stores; what it stores comes from the user, never from what is already there."""
    from ..credentials.keyring_store import KeyringUnavailable

    raise KeyringUnavailable("login takes what you give it, not what is stored")


def _second_factor(request: LoginRequest, credentials: Credentials, index: Index) -> Credentials:
    """The key from ``--passkey-file``, and the TOTP secret to store when asked (checked before any network)."""
    if request.passkey_file:
        from ..credentials.passkey import Passkey

        path = Path(request.passkey_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--passkey-file {path}: {exc.strerror or type(exc).__name__}",
                             field="passkey-file") from None  # fmt: skip
        key = Passkey.decode(text, source=f"--passkey-file {path}")
        key.check_index(index.url, source=f"--passkey-file {path}")
        credentials = replace(credentials, passkey=key, sources={**credentials.sources, "passkey": str(path)})
    if request.store_totp_secret:
        from ..core.secret import Secret

        secret = credentials.totp_secret.reveal()
        if not secret:
            if not interactive():
                raise UsageError("--store-totp-secret needs PYPI_TOTP_SECRET (or a terminal to ask in)",
                                 field="totp-secret")  # fmt: skip
            secret = "".join(getpass.getpass("TOTP secret, base32 (hidden): ").split())
        if not _base32(secret):
            raise UsageError("the TOTP secret is not base32 (PyPI's are 32 letters and digits 2-7)",
                             field="totp-secret")  # fmt: skip
        sources = {**credentials.sources, "totp_secret": credentials.sources.get("totp_secret", "prompt")}
        credentials = replace(credentials, totp_secret=Secret(secret), sources=sources)
    return credentials


def _base32(secret: str) -> bool:
    import base64
    import binascii

    text = secret.replace(" ", "").upper()
    try:
        return bool(text) and bool(base64.b32decode(text + "=" * (-len(text) % 8)))
    except (binascii.Error, ValueError):
        return False


def _fail(as_json: bool, out: TextIO, reason: str, message: str, index: Index) -> int:
    if as_json:
        _json(out, status="failed", index=index.url, reason=reason, message=message)
    print(f"error: {message}", file=sys.stderr)
    return EXIT_FAILED


def _json(out: TextIO, **values: object) -> None:
    print(json.dumps(values, ensure_ascii=False, separators=(",", ":")), file=out)


def _factor(second_factor: str) -> str:
    return {"security-key": "with the security key", "totp": "with a TOTP code"}.get(
        second_factor, "PyPI asked for no second factor"
    )


def _and(words: object) -> str:
    items = list(words)  # type: ignore[call-overload]
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + (items[-1] if items else "")


def _index_flag(index: Index) -> str:
    return "" if index.name == "pypi" else f" --index {index.name}"
