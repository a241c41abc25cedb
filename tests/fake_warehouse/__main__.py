"""Run the fake Warehouse on its own: ``python -m tests.fake_warehouse --port 8000``.

Useful for benchmarks and manual runs of the CLI: it serves until interrupted and prints
the URL and the default account's credentials.
"""

from __future__ import annotations

import argparse
import contextlib
import threading

from .server import FakeWarehouse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_warehouse")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument("--token-api", action="store_true", help="serve the /danger-api/ routes")
    args = parser.parse_args(argv)
    wh = FakeWarehouse(port=args.port)
    user = wh.add_default_user()
    wh.token_api = args.token_api
    with wh:
        print(f"Fake Warehouse listening on {wh.url}")
        print(f"username:    {user.username}")
        print(f"password:    {user.password}")
        print(f"TOTP secret: {user.totp_secret}")
        print(f"email:       {user.email}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
