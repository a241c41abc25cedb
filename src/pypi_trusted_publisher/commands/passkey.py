"""``pypi-trusted-publisher passkey add|list|remove``: a software security key for unattended logins.

``add`` logs in the usual way (password and TOTP; this one login may need the e-mailed link), enrols a new key on the
account and hands the key over where the user said (:mod:`passkey_store`). With ``PYPI_PASSKEY`` set, later logins use
the key instead of a TOTP code: no wait for a fresh code and no e-mailed link on a new IP.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from ..core.errors import RegistrationFailed, UsageError
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    Access,
    Subcommands,
    add_access_arguments,
    add_index_argument,
    remote_failure,
    usage_failure,
)

if TYPE_CHECKING:
    from ..core.indexes import Index
    from ..credentials.values import Credentials
    from ..engine.engine import Engine


def add_parser(commands: Subcommands) -> None:
    """The ``passkey`` command and its three subcommands."""
    passkey = commands.add_parser("passkey", help="a software security key for logins without TOTP or e-mail")
    actions = passkey.add_subparsers(dest="passkey_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="enrol a new security key and store it where you say")
    add.add_argument("--label", help="its name on the account (default: pypi-trusted-publisher-<date>)")
    where = add.add_mutually_exclusive_group()
    where.add_argument("--output", metavar="FILE", help="write the key to a new file (mode 0600, never overwritten)")
    where.add_argument(
        "--github-secret", metavar="OWNER/REPO", help="store the key as a GitHub Actions secret through the gh CLI"
    )
    where.add_argument(
        "--keyring", action="store_true",
        help="keep the key in the OS keyring with the password, as 'login' does: this machine then logs in with it",
    )  # fmt: skip
    add.add_argument("--github-environment", metavar="ENV", help="with --github-secret: an environment's secret")
    add.add_argument("--secret-name", help="with --github-secret: the secret's name (default: PYPI_PASSKEY)")
    listing = actions.add_parser("list", help="the security devices on the account")
    remove = actions.add_parser("remove", help="remove a security device from the account")
    remove.add_argument("--label", required=True, help="the device's name on the account")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    for parser in (add, listing, remove):
        add_index_argument(parser)
        add_access_arguments(parser)
    passkey.set_defaults(run=run)


@dataclass(frozen=True)
class PasskeyRequest:
    action: str  # add, list or remove
    index: str
    access: Access
    label: str | None = None
    output: str | None = None
    github_secret: str | None = None
    github_environment: str | None = None
    secret_name: str | None = None
    keyring: bool = False
    yes: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PasskeyRequest:
        return cls(
            args.passkey_command, args.index, Access.from_args(args), getattr(args, "label", None),
            getattr(args, "output", None), getattr(args, "github_secret", None),
            getattr(args, "github_environment", None), getattr(args, "secret_name", None),
            getattr(args, "keyring", False), getattr(args, "yes", False),
        )  # fmt: skip


def run(args: argparse.Namespace, out: TextIO) -> int:
    request = PasskeyRequest.from_args(args)
    actions = {"add": _add, "list": _list, "remove": _remove}
    try:
        return actions[request.action](request, out)
    except UsageError as exc:
        return usage_failure(exc, request.access.as_json, out)
    except RegistrationFailed as exc:
        return remote_failure(exc, request.access.as_json, out)


def _open_engine(request: PasskeyRequest) -> tuple[Index, Credentials, AbstractContextManager[Engine]]:
    """The index and an engine for it, with the usual credentials (a given PYPI_PASSKEY must belong there)."""
    from ..core.indexes import resolve_index
    from ..engine.engine import engine
    from .common import credentials_for, engine_options

    index = resolve_index(request.index)
    credentials = credentials_for(request.access, index)
    return index, credentials, engine(index, credentials, engine_options(request.access))


def _say(request: PasskeyRequest, out: TextIO, payload: dict[str, object], text: str, *, to: TextIO | None = None
         ) -> None:
    if request.access.as_json:
        print(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), file=out)
    else:
        print(text, file=to or out)


def _add(request: PasskeyRequest, out: TextIO) -> int:
    from ..core.indexes import resolve_index
    from ..credentials import passkey_store
    from ..credentials.passkey import Passkey, validate_label

    label = validate_label(request.label or time.strftime("pypi-trusted-publisher-%Y%m%d-%H%M%S"))
    store = passkey_store.choose(
        output=request.output,
        github_secret=request.github_secret,
        github_environment=request.github_environment,
        secret_name=request.secret_name,
        as_json=request.access.as_json,
        keyring=resolve_index(request.index) if request.keyring else None,
        out=out,
    )
    try:
        index, credentials, opened = _open_engine(request)
        if isinstance(store, passkey_store.KeyringKeyStore):
            store.credentials = credentials
        with opened as eng:
            key = Passkey.generate(index.url, label)
            try:
                eng.devices().enrol(key)
            except RegistrationFailed:
                raise  # PyPI refused it, or a verified failure: nothing is on the account
            except BaseException:
                _take_back(eng, index, label, only_if_listed=True)  # interrupted mid-enrolment: it may be there
                raise
            try:
                store.put(key.encode())
            except passkey_store.StoreFailed as exc:
                problem = _take_back(eng, index, label, say=False)
                raise RegistrationFailed(
                    "store-failed",
                    f"The key could not be stored ({exc}); "
                    + (problem or "it was removed from the account again."),
                ) from None
            except BaseException:  # Ctrl-C during the hand-over, or a bug: no key may stay whose private half is gone
                _take_back(eng, index, label)
                raise
    except BaseException:
        store.abandon()
        raise
    where = store.describe()
    shown = {
        "file": f"written to {where.get('path')} (mode 0600)",
        "github-secret": f"stored as GitHub secret {where.get('name')} in {where.get('repository')}"
        + (f" (environment {where['environment']})" if where.get("environment") else ""),
        "keyring": f"kept in the keyring ({where.get('keyring')}) with the password",
        "stdout": "printed on standard output",
    }[where["kind"]]
    use = (
        "Commands on this machine now log in with it: no TOTP code, no e-mail. 'pypi-trusted-publisher logout' "
        "forgets it here."
        if where["kind"] == "keyring"
        else "Use it as PYPI_PASSKEY with PYPI_USERNAME and PYPI_PASSWORD: logins from any IP, no TOTP code, no e-mail."
    )
    _say(
        request,
        out,
        {"status": "added", "index": index.url, "label": label, "stored": where},
        f"✓ security key {label!r} added to the account on {index.host}, {shown}.\n"
        f"  {use}\n"
        "  PyPI e-mails the account when a key is added or removed.\n"
        f"  Remove it: pypi-trusted-publisher passkey remove --label {label!r}",
        to=sys.stderr if where["kind"] == "stdout" else None,
    )
    return EXIT_OK


def _take_back(eng: Engine, index: Index, label: str, *, only_if_listed: bool = False, say: bool = True) -> str:
    """Remove a key just enrolled whose private half will be lost; "" when done, else the one line to act on.

    ``say`` prints that line on stderr (the run is ending with another exception); a removal that itself fails or is
    interrupted never hides the exception that brought us here.
    """
    try:
        devices = eng.devices()
        if not only_if_listed or label in devices.labels():
            devices.remove(label)
        return ""
    except BaseException as exc:
        why = exc.message if isinstance(exc, RegistrationFailed) else type(exc).__name__
        problem = (
            f"the new security key {label!r} is still on the account on {index.host} and nothing holds its "
            f"private half: remove it by hand on the account page ({why.rstrip('.')})."
        )
        if say:
            from ..core.wording import capitalized

            print(f"error: {capitalized(problem)}", file=sys.stderr)
        return problem


def _list(request: PasskeyRequest, out: TextIO) -> int:
    index, _, opened = _open_engine(request)
    with opened as eng:
        labels = eng.devices().labels()
    noun = "security device" if len(labels) == 1 else "security devices"
    text = f"{len(labels)} {noun} on the account on {index.host}" + (":" if labels else ".")
    _say(request, out, {"status": "ok", "index": index.url, "security_devices": labels},
         "\n".join([text, *(f"  {label}" for label in labels)]))
    return EXIT_OK


def _remove(request: PasskeyRequest, out: TextIO) -> int:
    from ..credentials.passkey import validate_label
    from .common import confirmed, interactive

    label = validate_label(request.label or "")
    if not request.yes:
        if not interactive():
            raise UsageError("passkey remove asks for confirmation: pass --yes when not in a terminal")
        if not confirmed(f"Remove the security device {label!r}?"):
            print("Nothing removed.", file=sys.stderr)
            return EXIT_FAILED
    index, _, opened = _open_engine(request)
    with opened as eng:
        eng.devices().remove(label)
    _say(request, out, {"status": "removed", "index": index.url, "label": label},
         f"✓ removed the security device {label!r} from the account on {index.host}.")
    return EXIT_OK
