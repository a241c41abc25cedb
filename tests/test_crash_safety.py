"""A batch run killed anywhere, stopped by a signal, or run twice at once: nothing lost, nothing doubled.

The CLI runs as a subprocess (``add --config plan.toml --resume``) against the fake Warehouse. To kill it at an exact
request boundary, the fake's ``after_request`` hook holds request N after it took effect and before its answer
leaves; the test then SIGKILLs the client and resumes. What the fake holds at the end is the oracle: each of the 10
projects has exactly its one publisher, and no publisher was ever posted twice (docs/protocol/limits.md#resume).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from fake_warehouse import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, FakePublisher, FakeWarehouse

LAUNCHER = Path(__file__).with_name("clocked_cli.py")
PROJECTS = [f"crash-{n}" for n in range(10)]
LOGIN_REQUESTS = 3  # login page, password, TOTP code
PER_PROJECT = 3  # publishing page, POST, read-back
TOTAL = LOGIN_REQUESTS + PER_PROJECT * len(PROJECTS)
# The boundaries the fast run kills at: inside the login, around the first POST, mid-batch, the very last answer.
FAST = {2, LOGIN_REQUESTS + 1, LOGIN_REQUESTS + 2, LOGIN_REQUESTS + 3, LOGIN_REQUESTS + 5 * PER_PROJECT + 2, TOTAL}


def expected(project: str) -> FakePublisher:
    return FakePublisher.github("octo-org", project, "release.yml", "pypi")


@pytest.fixture
def batch(wh: FakeWarehouse, tmp_path: Path) -> Path:
    for project in PROJECTS:
        wh.add_project(project, owners=[DEFAULT_USERNAME])
    config = tmp_path / "plan.toml"
    config.write_text("".join(
        f'[[publisher]]\nproject = "{p}"\nexisting = true\nowner = "octo-org"\nrepository = "{p}"\n'
        'workflow = "release.yml"\nenvironment = "pypi"\n\n' for p in PROJECTS
    ), encoding="utf-8")  # fmt: skip
    return config


def start(wh: FakeWarehouse, config: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYPI_", "GITHUB_"))}
    env.update(PYPI_USERNAME=DEFAULT_USERNAME, PYPI_PASSWORD=DEFAULT_PASSWORD, PYPI_TOTP_SECRET=DEFAULT_TOTP_SECRET)
    command = [sys.executable, str(LAUNCHER), str(wh.clock.path), "add", "--config", config.name, "--index",  # type: ignore[attr-defined]
               wh.url, "--resume", "--json", "--timeout", "5"]  # fmt: skip
    return subprocess.Popen(command, cwd=config.parent, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def finish(proc: subprocess.Popen[str]) -> tuple[int, list[dict[str, Any]], str]:
    out, err = proc.communicate(timeout=120)
    assert "Traceback" not in err, err
    return proc.returncode, [json.loads(line) for line in out.splitlines() if line.strip()], err


def hold_request(wh: FakeWarehouse, number: int) -> tuple[threading.Event, threading.Event]:
    """Hold the ``number``-th request from now, after its effect, until ``release`` is set."""
    reached, release, seen = threading.Event(), threading.Event(), [0]

    def hook(record: Any) -> None:
        seen[0] += 1
        if seen[0] == number:
            reached.set()
            release.wait(30)

    wh.after_request = hook
    return reached, release


def posts_per_project(wh: FakeWarehouse) -> dict[str, int]:
    paths = [r.path for r in wh.requests if r.method == "POST" and "/settings/publishing/" in r.path]
    return {p: sum(1 for path in paths if f"/manage/project/{p}/" in path) for p in PROJECTS}


def assert_exactly_the_batch(wh: FakeWarehouse) -> None:
    for project in PROJECTS:
        assert [r.publisher for r in wh.projects[project].publishers] == [expected(project)], project
    assert set(posts_per_project(wh).values()) == {1}, posts_per_project(wh)  # no publisher posted twice
    assert wh.errors == []


def next_minute(wh: FakeWarehouse) -> None:
    """The next run logs in again at once: the last TOTP code and the last login's second are behind it."""
    wh.clock.advance(60)  # type: ignore[attr-defined]


def test_a_clean_run_makes_the_requests_the_kill_points_assume(wh, batch) -> None:
    code, _, err = finish(start(wh, batch))
    assert code == 0, err
    assert len(wh.requests) == TOTAL, [(r.method, r.path) for r in wh.requests]
    assert_exactly_the_batch(wh)


@pytest.mark.parametrize(
    "boundary", [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in range(1, TOTAL + 1)]
)
def test_killed_at_any_request_boundary_then_resumed(wh, batch, boundary) -> None:
    reached, release = hold_request(wh, boundary)
    proc = start(wh, batch)
    try:
        assert reached.wait(60), "the run never reached that request"
        proc.kill()  # SIGKILL: no handler runs, nothing is flushed
        proc.wait(30)
    finally:
        release.set()
        wh.after_request = None
    next_minute(wh)
    code, lines, err = finish(start(wh, batch))
    assert code == 0, err
    assert_exactly_the_batch(wh)
    summary = lines[-1]
    assert summary["status"] == "complete" and summary["done"] == 10 and summary["left"] == summary["failed"] == 0
    statuses = {line["project"]: line["status"] for line in lines[:-1]}
    assert set(statuses.values()) <= {"registered", "exists"}
    state = json.loads(batch.with_name("plan.toml.state.json").read_text(encoding="utf-8"))
    assert [item["status"] for item in state["items"]] == ["done"] * 10


@pytest.mark.parametrize(("signum", "code", "word"), [(signal.SIGINT, 130, "interrupted"),
                                                       (signal.SIGTERM, 143, "terminated")])  # fmt: skip
def test_a_signal_saves_the_progress_and_says_how_to_resume(wh, batch, signum, code, word) -> None:
    reached, release = hold_request(wh, LOGIN_REQUESTS + 2 * PER_PROJECT + 2)  # the third project's POST
    proc = start(wh, batch)
    try:
        assert reached.wait(60)
        proc.send_signal(signum)
    finally:
        release.set()
        wh.after_request = None
    exit_code, _, err = finish(proc)
    assert exit_code == code, err
    (last,) = err.strip().splitlines()[-1:]
    assert last.startswith(f"{word}: 2 of 10 done, progress saved in ")
    assert last.endswith(f"resume with: pypi-trusted-publisher add --config plan.toml --index {wh.url} --resume")
    state = json.loads(batch.with_name("plan.toml.state.json").read_text(encoding="utf-8"))
    statuses = [item["status"] for item in state["items"]]
    assert statuses[:2] == ["done", "done"] and statuses[3:] == ["left"] * 7
    assert statuses[2] in ("done", "in-progress")  # the signal came during the third
    assert not list(batch.parent.glob(".plan.toml.state.json.*.tmp"))

    next_minute(wh)
    exit_code, _, err = finish(start(wh, batch))
    assert exit_code == 0, err
    assert_exactly_the_batch(wh)
    assert "got through: PyPI lists the publisher" in err or statuses[2] == "done"


def test_two_runs_at_once_register_each_publisher_once(wh, tmp_path) -> None:
    """Overlapping batches on one account, started together: each reads the listing before the other's POST may land;
    Warehouse's "already registered" is read back as exists, so every publisher is there once and each run says what
    it did truthfully."""
    for project in PROJECTS:
        wh.add_project(project, owners=[DEFAULT_USERNAME])
    runs = []
    for name, projects in (("a", PROJECTS[:7]), ("b", PROJECTS[3:])):
        folder = tmp_path / name
        folder.mkdir()
        config = folder / "plan.toml"
        config.write_text("".join(
            f'[[publisher]]\nproject = "{p}"\nexisting = true\nowner = "octo-org"\nrepository = "{p}"\n'
            'workflow = "release.yml"\nenvironment = "pypi"\n\n' for p in projects
        ), encoding="utf-8")  # fmt: skip
        runs.append((projects, config))
    # Both runs hold at their first publishing page until the other is there too, so their reads and POSTs interleave.
    arrived = threading.Barrier(2, timeout=30)

    def together(record: Any) -> None:
        if record.method == "GET" and record.path.endswith("/crash-3/settings/publishing/"):
            with contextlib.suppress(threading.BrokenBarrierError):  # the other run finished first
                arrived.wait()

    wh.after_request = together
    procs = [start(wh, config) for _, config in runs]
    results = [finish(proc) for proc in procs]
    wh.after_request = None
    for (projects, _), (code, lines, err) in zip(runs, results, strict=True):
        assert code == 0, err
        statuses = {line["project"]: line["status"] for line in lines[:-1]}
        assert sorted(statuses) == sorted(projects) and set(statuses.values()) <= {"registered", "exists"}
    for project in PROJECTS:
        assert [r.publisher for r in wh.projects[project].publishers] == [expected(project)], project
    registered = [line["project"] for _, lines, _ in results for line in lines[:-1] if line["status"] == "registered"]
    assert sorted(registered) == PROJECTS  # each publisher reported registered by exactly one of the two runs


def test_a_write_that_dies_before_the_rename_leaves_the_old_state(tmp_path, monkeypatch) -> None:
    """A kill between writing and renaming keeps the previous complete file, and no temporary file stays behind."""
    from pypi_trusted_publisher.plan.state import write_atomically

    path = tmp_path / "plan.toml.state.json"
    write_atomically(path, '{"version": 1}\n')

    def dies(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", dies)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, '{"version": 1, "items": []}\n')
    assert path.read_text(encoding="utf-8") == '{"version": 1}\n'
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
