"""The CLI in a real pseudo-terminal: prompts without echo, and the pasted confirm link."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import sys
import time
from pathlib import Path

import pyotp
import pytest

from clocks import FileClock
from fake_warehouse import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, FakeWarehouse

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")

SCRIPT = ["-m", "pypi_trusted_publisher"]
LAUNCHER = Path(__file__).with_name("clocked_cli.py")


class Terminal:
    """A child process whose controlling terminal we type into and read from."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, script: list[str] = SCRIPT) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child
            os.chdir(cwd)
            os.execve(sys.executable, [sys.executable, *script, *args], env)
        self.screen = ""

    def expect(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} never appeared; screen:\n{self.screen}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    self.screen += os.read(self.fd, 4096).decode(errors="replace")
                except OSError:
                    break
        return self.screen

    def type(self, line: str) -> None:
        os.write(self.fd, (line + "\n").encode())

    def wait(self) -> int:
        try:
            while True:
                self.screen += os.read(self.fd, 4096).decode(errors="replace")
        except OSError:
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def test_prompts_and_pasted_confirmation_link(warehouse: FakeWarehouse, tmp_path: Path) -> None:
    warehouse.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    warehouse.github_owners = {"octo-org": 1}
    warehouse.users[DEFAULT_USERNAME].confirmed_ips.clear()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYPI_", "GITHUB_"))}
    env["PYPI_TOTP_SECRET"] = DEFAULT_TOTP_SECRET
    term = Terminal(
        ["add", "--index", warehouse.url, "--project", "my-pkg", "--owner", "octo-org", "--repo", "my-pkg",
         "--workflow", "release.yml", "--json", "--no-check"],
        env,
        tmp_path,
    )
    term.expect("PyPI username for 127.0.0.1")
    term.type(DEFAULT_USERNAME)
    term.expect("PyPI password for 127.0.0.1")
    term.type(DEFAULT_PASSWORD)
    term.expect("Confirmation link:")
    assert warehouse.outbox, "PyPI sent no e-mail"
    link = warehouse.outbox[-1].confirm_url
    term.type(link)
    code = term.wait()
    assert code == 0, term.screen
    assert DEFAULT_PASSWORD not in term.screen and link.split("token=")[1] not in term.screen  # no echo
    result = json.loads(next(line for line in term.screen.splitlines() if line.startswith('{"status"')))
    assert result["status"] == "registered"
    assert "127.0.0.1" in warehouse.users[DEFAULT_USERNAME].confirmed_ips


def test_remove_asks_then_removes(warehouse: FakeWarehouse, tmp_path: Path) -> None:
    from fake_warehouse import FakePublisher

    warehouse.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    warehouse.add_publisher("my-pkg", FakePublisher.github("octo-org", "my-pkg", "release.yml", "pypi"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYPI_", "GITHUB_"))}
    env |= {"PYPI_USERNAME": DEFAULT_USERNAME, "PYPI_PASSWORD": DEFAULT_PASSWORD}
    env["PYPI_TOTP_SECRET"] = DEFAULT_TOTP_SECRET
    term = Terminal(
        ["remove", "--index", warehouse.url, "--project", "my-pkg", "--owner", "octo-org", "--repo", "my-pkg",
         "--workflow", "release.yml", "--environment", "pypi"],
        env,
        tmp_path,
    )
    prompt = term.expect("Remove this publisher? [y/N]")
    assert "publisher GitHub" in prompt and "via" not in prompt
    term.type("y")
    code = term.wait()
    assert code == 0, term.screen
    assert "✓ removed: Removed the publisher" in term.screen and "internal error" not in term.screen
    assert warehouse.projects["my-pkg"].publishers == []


def test_a_wait_counts_down_in_the_terminal(warehouse: FakeWarehouse, file_clock: FileClock, tmp_path: Path) -> None:
    """Issue 15.18: the wait for the next code counts down on one line of the terminal, then says what it was."""
    warehouse.clock = file_clock
    warehouse.add_project("my-pkg", owners=[DEFAULT_USERNAME])
    # The previous command logged in with this step's code.
    warehouse.users[DEFAULT_USERNAME].last_totp_value = pyotp.TOTP(DEFAULT_TOTP_SECRET).at(file_clock())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYPI_", "GITHUB_"))}
    env.update(PYPI_USERNAME=DEFAULT_USERNAME, PYPI_PASSWORD=DEFAULT_PASSWORD, PYPI_TOTP_SECRET=DEFAULT_TOTP_SECRET)
    term = Terminal(
        ["list", "--index", warehouse.url, "--project", "my-pkg"], env, tmp_path, [str(LAUNCHER), str(file_clock.path)]
    )
    assert term.wait() == 0, term.screen
    ticks = [int(n) for n in re.findall(r"Waiting for the next code: (\d+) s", term.screen)]
    assert ticks == list(range(21, 0, -1))  # 20.75 s: the fraction first, then every second
    assert "\rWaited 21 s for the next code.\x1b[K\r\n" in term.screen
    why = "PyPI refused the two-factor code: it is wrong, or a login in the last 30 s already used it"
    assert term.screen.count(why) == 1
