"""Run the fake Warehouse on its own, for manual runs of the CLI and for benchmarks.

    python -m tests.fake_warehouse --port 8000 --project my-pkg
    python -m tests.fake_warehouse --config fake.toml

It serves until interrupted, after printing its URL, the default account's credentials,
what it knows (GitHub owners, users, projects) and a command to try. ``--config`` reads a
small TOML file::

    github_owners = ["octo-org"]     # leave out: any valid login is a GitHub owner
    [[user]]                         # more accounts; password and totp_secret optional
    username = "erin"
    password = "pw-erin"
    [[organization]]
    name = "octo-org"
    owners = ["erin"]
    [[project]]                      # owners, maintainers, has_releases and organization optional
    name = "my-pkg"
    owners = ["dana"]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import tomllib
from pathlib import Path
from typing import Any

from .server import DEFAULT_USERNAME, FakeWarehouse

TABLES = {
    "user": {"username", "password", "totp_secret", "email"},
    "organization": {"name", "owners"},
    "project": {"name", "owners", "maintainers", "has_releases", "organization"},
}


def load_config(path: str) -> dict[str, Any]:
    """The config file, checked: a wrong key is named rather than ignored."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"--config {path}: {exc}") from None
    for key, value in data.items():
        if key == "github_owners":
            continue
        if key not in TABLES or not isinstance(value, list):
            raise ValueError(f"--config {path}: unknown entry {key!r} (use github_owners, [[user]], "
                             "[[organization]], [[project]])")
        for table in value:
            unknown = set(table) - TABLES[key]
            if unknown or not table.get("username" if key == "user" else "name"):
                raise ValueError(f"--config {path}: [[{key}]] {table}: unknown or missing keys "
                                 f"{', '.join(sorted(unknown)) or '(a name)'}")
    return data


def configure(wh: FakeWarehouse, args: argparse.Namespace, config: dict[str, Any]) -> list[str]:
    """Apply the flags and the config; return what to print about them."""
    said = []
    for user in config.get("user", []):
        made = wh.add_user(user["username"], password=user.get("password") or f"pw-{user['username']}",
                           totp_secret=user.get("totp_secret"), email=user.get("email"))
        said.append(f"user {made.username}: password {made.password}, TOTP secret {made.totp_secret}")
    for org in config.get("organization", []):
        wh.add_organization(org["name"], owners=org.get("owners", []))
        said.append(f"organization {org['name']} (owned by {', '.join(org.get('owners', [])) or 'nobody'})")
    projects = [{"name": name, "owners": [DEFAULT_USERNAME]} for name in args.project]
    for project in projects + config.get("project", []):
        wh.add_project(project["name"], owners=project.get("owners", []),
                       maintainers=project.get("maintainers", []),
                       has_releases=project.get("has_releases", False),
                       organization=project.get("organization") or None)
        roles = [f"owned by {', '.join(project.get('owners', [])) or 'nobody'}"]
        if project.get("maintainers"):
            roles.append(f"maintained by {', '.join(project['maintainers'])}")
        said.append(f"project {project['name']} ({'; '.join(roles)})")
    owners = [*args.github_owner, *config.get("github_owners", [])]
    wh.github_owners = {login: 1000 + n for n, login in enumerate(owners)}
    wh.any_github_owner = not owners
    said.insert(0, "GitHub owners: " + (", ".join(owners) if owners else
                                        "any valid login (except ones starting with 'nosuch')"))
    return said


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_warehouse", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument("--token-api", action="store_true", help="serve the /danger-api/ routes")
    parser.add_argument("--project", action="append", default=[],
                        help=f"an existing project owned by {DEFAULT_USERNAME}; repeatable")
    parser.add_argument("--github-owner", action="append", default=[],
                        help="a GitHub login the fake knows; repeatable (default: any valid login)")
    parser.add_argument("--config", help="a TOML file with more users, organizations, projects and owners")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config) if args.config else {}
    except ValueError as exc:
        parser.error(str(exc))
    wh = FakeWarehouse(port=args.port)
    user = wh.add_default_user()
    wh.token_api = args.token_api
    said = configure(wh, args, config)
    with wh:
        project = args.project[0] if args.project else "my-new-pkg"
        print(f"Fake Warehouse listening on {wh.url}")
        print(f"username:    {user.username}")
        print(f"password:    {user.password}")
        print(f"TOTP secret: {user.totp_secret}")
        print(f"email:       {user.email}")
        print(f"Logins of {user.username} from 127.0.0.1 need no e-mailed confirmation link (a known IP).")
        print(*said, sep="\n")
        print("Try, from another terminal (plain http:// is accepted on 127.0.0.1 only):")
        print(f"  PYPI_USERNAME={user.username} PYPI_PASSWORD={user.password} PYPI_TOTP_SECRET={user.totp_secret} \\")
        print(f"  pypi-trusted-publisher add --index {wh.url} --project {project} "
              "--owner octo-org --repo my-repo --workflow release.yml")
        print("Press Ctrl-C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
