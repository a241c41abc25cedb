"""Benchmarks: request counts per registration, start-up costs and the test suite's time, in one run.

    python benchmarks/run.py            # from the repository root, with the test extras installed
    python benchmarks/run.py --quick    # without the two slow figures (action under act, test suite)

Request counts come from the fake Warehouse's request log (real HTTP on
127.0.0.1), so they are exact, not timings; ``plan``'s come from the fake
Warehouse's and the fake GitHub's logs for the 12-project account of the tests. Start-up times are medians of
repeated subprocess runs, reported as ratios to ``python -c pass`` measured in
the same run, so a slow or busy machine shifts both sides alike. The action's
start-up is timed under act (as tests/test_action_act.py runs it, wheels from
the offline wheelhouse): from the action step's start to the entrypoint's first
line, as act prints them. The test suite's time is pytest's own figure.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "tests"))  # plan_scenario imports the fakes as the tests do

from tests import act_workflow  # noqa: E402
from tests.fake_oidc import FakeOIDC, github_claims  # noqa: E402
from tests.fake_warehouse import FakeWarehouse  # noqa: E402
from tests.passkeys import seed_key  # noqa: E402

import plan_scenario  # noqa: E402
from pypi_trusted_publisher.core.indexes import resolve_index  # noqa: E402
from pypi_trusted_publisher.core.models import Registration, Status, Target  # noqa: E402
from pypi_trusted_publisher.core.publishers import GitHubPublisher  # noqa: E402
from pypi_trusted_publisher.core.secret import Secret  # noqa: E402
from pypi_trusted_publisher.credentials.values import Credentials  # noqa: E402
from pypi_trusted_publisher.engine.claim import ClaimRequest, claim  # noqa: E402
from pypi_trusted_publisher.engine.engine import Engine  # noqa: E402
from pypi_trusted_publisher.engine.options import EngineOptions  # noqa: E402

PASSWORD = "bench-password"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
RUNS = 21
ACT_RUNS = 3
ACT_WORKFLOW = act_workflow.JOB + """\
      - uses: ./
        with:
          project: bench
          owner: octo
          repository: bench
          workflow: release.yml
          pypi-password: ${{ vars.PYPI_PASSWORD }}
          dry-run: "true"
          check: "false"
"""


def warehouse() -> FakeWarehouse:
    wh = FakeWarehouse()
    wh.add_user("dana", password=PASSWORD, totp_secret=SECRET, email="dana@example.com")
    for n in range(12):
        wh.add_project(f"owned-{n}", owners=("dana",))
    wh.github_owners = {"octo-org": 1001}
    wh.start()
    return wh


def registration(wh: FakeWarehouse, project: str, target: Target) -> Registration:
    return Registration(
        resolve_index(wh.url), project, GitHubPublisher("octo-org", project, "release.yml", "pypi"), target
    )


def counted(wh: FakeWarehouse, projects: list[str], target: Target, credentials: Credentials | None = None
            ) -> list[int]:
    """Requests for each registration of ``projects`` in one session."""
    credentials = credentials or Credentials("dana", Secret(PASSWORD), Secret(SECRET))
    engine = Engine(resolve_index(wh.url), credentials, EngineOptions(timeout=10))
    counts = []
    try:
        for project in projects:
            before = len(wh.requests)
            result = engine.register(registration(wh, project, target))
            if result.status is not Status.REGISTERED:
                raise SystemExit(f"benchmark registration failed: {result.message}")
            counts.append(len(wh.requests) - before)
    finally:
        engine.close()
    return counts


def with_key(wh: FakeWarehouse) -> Credentials:
    """The account on an IP PyPI has never seen, logging in with a security key (no TOTP, no e-mailed link)."""
    wh.users["dana"].confirmed_ips.clear()
    return Credentials("dana", Secret(PASSWORD), passkey=seed_key(wh, "dana"))


def register_and_claim() -> tuple[int, int, int, int]:
    """The bootstrap: a pending registration (TOTP, fresh login), then the claim in the publishing job, then a
    second claim (proven); Warehouse requests of each, and the token service's of each claim."""
    wh = warehouse()
    try:
        with FakeOIDC() as idp:
            wh.oidc_issuers = idp.discovery()
            idp.job_claims = github_claims("octo-org", "new-claim", "release.yml", environment="pypi")
            registered = counted(wh, ["new-claim"], Target.PENDING)[0]
            env = {"GITHUB_ACTIONS": "true", **idp.actions_env()}
            counts = []
            # In the registering step (claim: true), whether the project existed is known; a second job
            # (mode: claim) asks the simple index first.
            for exists, expected in ((False, "claimed"), (None, "proven")):
                before, tokens = len(wh.requests), sum(1 for r in idp.requests if r.path == "/token")
                request = ClaimRequest(resolve_index(wh.url), "new-claim", exists=exists)
                result = claim(request, env, EngineOptions(timeout=10))
                if result.status.value != expected:
                    raise SystemExit(f"benchmark claim was {result.status.value}: {result.message}")
                counts.append((len(wh.requests) - before, sum(1 for r in idp.requests if r.path == "/token") - tokens))
    finally:
        wh.stop()
    (claimed, token_requests), (proven, _) = counts
    return registered, claimed, token_requests, proven


def faulty_batch(size: int = 100, every: int = 10) -> dict[str, float]:
    """``add --config --resume`` over ``size`` owned projects, one fault every ``every`` requests (a 503, a dropped
    connection, a 429 with Retry-After, in turn), run again until complete, as a user would: runs, requests per
    project, wall time, and the end state checked exactly (each project its one publisher, none posted twice)."""
    import json

    from clocks import FileClock
    from fake_warehouse import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, FakePublisher
    from fake_warehouse import FakeWarehouse as BatchWarehouse

    faults = [
        {"status": 503},
        {"status": 0, "drop_connection": True},
        {"status": 429, "headers": {"Retry-After": "60"}},
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wh = BatchWarehouse()
        wh.clock = clock = FileClock(folder / "clock")
        wh.add_default_user()
        wh.github_owners = {"octo-org": 1001}
        wh.registration_limit = 10 * size  # the benchmark measures faults, not PyPI's daily limit
        projects = [f"bulk-{n:03}" for n in range(size)]
        for project in projects:
            wh.add_project(project, owners=[DEFAULT_USERNAME])
        (folder / "plan.toml").write_text("".join(
            f'[[publisher]]\nproject = "{p}"\nexisting = true\nowner = "octo-org"\nrepository = "{p}"\n'
            'workflow = "release.yml"\nenvironment = "pypi"\n\n' for p in projects), encoding="utf-8")  # fmt: skip
        injected = [0]

        def every_nth(record: object) -> None:
            if len(wh.requests) % every == 0:
                fault = faults[injected[0] % len(faults)]
                injected[0] += 1
                wh.fail_next("*", "/", **fault)  # type: ignore[arg-type]

        wh.after_request = every_nth
        wh.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYPI_", "GITHUB_"))}
        env.update(PYPI_USERNAME=DEFAULT_USERNAME, PYPI_PASSWORD=DEFAULT_PASSWORD,
                   PYPI_TOTP_SECRET=DEFAULT_TOTP_SECRET)  # fmt: skip
        command = [sys.executable, str(ROOT / "tests" / "clocked_cli.py"), str(clock.path), "add", "--config",
                   "plan.toml", "--index", wh.url, "--resume", "--json", "--timeout", "30"]  # fmt: skip
        runs, summary, start = 0, {}, time.perf_counter()
        try:
            while summary.get("status") != "complete" and runs < 20:
                runs += 1
                proc = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
                lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
                summary = lines[-1] if lines else {}
                clock.advance(3600)  # as after the wait a 429 asks for
            seconds = time.perf_counter() - start
        finally:
            wh.stop()
        # The POSTs the fake handled (an injected fault answers in its place: that POST never took effect).
        posts = [r.path for r in wh.requests
                 if r.method == "POST" and "/settings/publishing/" in r.path and 0 < r.status < 400]  # fmt: skip
        for project in projects:
            listed = [r.publisher for r in wh.projects[project].publishers]
            if listed != [FakePublisher.github("octo-org", project, "release.yml", "pypi")]:
                raise SystemExit(f"benchmark batch: {project} holds {listed}")
        doubled = [p for p in projects if sum(1 for path in posts if f"/{p}/" in path) > 1]
        return {"runs": runs, "requests": len(wh.requests), "per_project": len(wh.requests) / size,
                "seconds": seconds, "faults": injected[0], "doubled": len(doubled), "complete": summary.get("done", 0)}


def back_to_back(runs: int = 3) -> list[float]:
    """Seconds of consecutive ``add`` runs of the installed CLI with PYPI_PASSKEY (no wait for a fresh code)."""
    wh = warehouse()
    try:
        key = with_key(wh).passkey
        assert key is not None
        env = {**os.environ, "PYPI_USERNAME": "dana", "PYPI_PASSWORD": PASSWORD, "PYPI_PASSKEY": key.encode().reveal()}
        env.pop("PYPI_TOTP_SECRET", None)
        samples = []
        for n in range(runs):
            command = [sys.executable, "-m", "pypi_trusted_publisher", "add", "--index", wh.url, "--pending",
                       "--project", f"back-to-back-{n}", "--owner", "octo-org", "--repo", f"repo-{n}",
                       "--workflow", "release.yml", "--environment", "pypi", "--no-check", "--json"]
            start = time.perf_counter()
            proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            samples.append(time.perf_counter() - start)
            if proc.returncode != 0:
                raise SystemExit(f"back-to-back run failed: {proc.stdout}{proc.stderr}")
    finally:
        wh.stop()
    return samples


def plan_requests() -> tuple[int, int, int, int]:
    """PyPI and GitHub requests of one ``plan`` of the 12-project account, and its projects and repositories."""
    from fake_github import FakeGitHub
    from fake_warehouse import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME
    from fake_warehouse import FakeWarehouse as ScenarioWarehouse
    from pypi_trusted_publisher.plan.planner import Planner
    from pypi_trusted_publisher.plan.sources import Checkouts, SourceReader
    from pypi_trusted_publisher.transports.github import GitHubApi

    wh, github = ScenarioWarehouse(), FakeGitHub()
    wh.add_default_user()
    wh.start()
    github.start()
    credentials = Credentials(DEFAULT_USERNAME, Secret(DEFAULT_PASSWORD), Secret(DEFAULT_TOTP_SECRET))
    index = resolve_index(wh.url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            plan_scenario.build(wh, github, Path(tmp) / "checkouts")
            engine = Engine(index, credentials, EngineOptions(timeout=10))
            api = GitHubApi(github.url)
            try:
                reader = SourceReader(api, Path(tmp) / "work", Checkouts(Path(tmp) / "checkouts"))
                plan = Planner(engine, reader).run()
            finally:
                for client in (engine, api):
                    client.close()
        repositories = {p.repository for p in plan.projects if p.repository and not p.source.startswith("checkout")}
        return len(wh.requests), len(github.requests), len(plan.projects), len(repositories)
    finally:
        wh.stop()
        github.stop()


def median_seconds(command: list[str], env: dict[str, str], cwd: str | None = None) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def action_distributions() -> int:
    names = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", (ROOT / "requirements" / "action.txt").read_text(),
                       flags=re.MULTILINE)
    return len(set(names))  # this package itself runs from the action's src/


def action_startup() -> list[float]:
    """Seconds from act's start of the action step to the entrypoint's first line (its ::add-mask::), per run."""
    import yaml

    entry = next(step["name"] for step in yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]
                 if "pypi_trusted_publisher.action" in step.get("run", ""))
    samples = []
    for _ in range(ACT_RUNS):
        with tempfile.TemporaryDirectory() as tmp:
            command, env = act_workflow.act_command(Path(tmp), ACT_WORKFLOW, "--var", f"PYPI_PASSWORD={PASSWORD}")
            start, entered, seconds = 0.0, False, None
            with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as act:
                assert act.stdout is not None
                for line in act.stdout:  # read to the end: act must not block on a full pipe
                    now = time.perf_counter()
                    if not start:
                        start = now if "⭐ Run Main ./" in line else 0.0
                    elif not entered:
                        entered = f"⭐ Run Main {entry}" in line
                    elif seconds is None:
                        seconds = now - start
            if seconds is None or act.returncode != 0:
                raise SystemExit(f"act did not run the action (exit {act.returncode})")
            samples.append(seconds)
    return samples


def suite() -> tuple[float, str]:
    """pytest's own time for the whole suite, and its closing counts."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    closing = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-500:]
    found = re.search(r"^=* ?(.*?) in ([0-9.]+)s", closing)
    if found is None:
        raise SystemExit(f"no pytest summary line: {closing}")
    return float(found.group(2)), found.group(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="leave out the action under act and the test suite")
    args = parser.parse_args(argv)
    # Each scenario gets its own warehouse, so every one starts with a fresh login.
    scenarios = {
        "existing": (["owned-0", "owned-1", "owned-2"], Target.PROJECT),
        "auto_project": (["owned-3"], Target.AUTO),
        "pending": (["new-a", "new-b", "new-c"], Target.PENDING),
        "auto_pending": (["new-d"], Target.AUTO),
        "bulk": ([f"owned-{n}" for n in range(2, 12)], Target.PROJECT),
        "passkey": (["new-e"], Target.PENDING),
    }
    counts = {}
    for name, (projects, target) in scenarios.items():
        wh = warehouse()
        try:
            counts[name] = counted(wh, projects, target, with_key(wh) if name == "passkey" else None)
        finally:
            wh.stop()
    existing, auto_project, pending, auto_pending, bulk, passkey = counts.values()
    registered, claimed, claim_tokens, proven = register_and_claim()
    faulty = faulty_batch()
    consecutive = back_to_back()
    plan_pypi, plan_github, plan_projects, plan_repositories = plan_requests()

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=False,
                       stdout=subprocess.DEVNULL)
        bare = median_seconds([sys.executable, "-c", "pass"], env)
        imported = median_seconds([sys.executable, "-c", "import pypi_trusted_publisher.commands"], env)
        dry_run = [sys.executable, "-m", "pypi_trusted_publisher", "add", "--dry-run", "--project", "bench",
                   "--owner", "octo", "--repo", "bench", "--workflow", "release.yml"]
        # In an empty folder (nothing to default from), then in this checkout, where the
        # preflight check that follows `add` parses the three workflow files.
        dry = median_seconds([*dry_run, "--no-check"], {**env, "HOME": tmp}, cwd=tmp)
        dry_checked = median_seconds(dry_run, {**env, "HOME": tmp}, cwd=str(ROOT))

    print("requests per registration (fake Warehouse, real HTTP on 127.0.0.1)")
    print(f"  existing project, fresh login (--existing):       {existing[0]}")
    print(f"  existing project, kind found out (auto):          {auto_project[0]}")
    print(f"  pending publisher, fresh login (--pending):        {pending[0]}")
    print(f"  pending publisher, kind found out (auto):          {auto_pending[0]}")
    print(f"  each further project in the same session:         {existing[1:]} (existing), {pending[1:]} (pending)")
    print(f"  bulk: 10 projects in one session:                 {sum(bulk)} = {bulk[0]} + "
          f"{' + '.join(map(str, bulk[1:]))}")
    print(f"  security key, unseen IP, fresh login (--pending):  {passkey[0]}")
    print(f"register + claim (pending, TOTP; then the claim job): {registered} + {claimed} PyPI requests "
          f"(audience, mint-token, simple-index read-back) + {claim_tokens} to the job's token service; "
          f"target: registration + 3; "
          f"a later claim job (proven; existence asked first): {proven}")
    print(f"100-project batch, a fault every 10 requests ({faulty['faults']:.0f}: 503, dropped connection, 429 in "
          f"turn): {faulty['runs']:.0f} runs, {faulty['requests']:.0f} requests ({faulty['per_project']:.2f} per "
          f"project), {faulty['seconds']:.1f} s; end state exact: {faulty['complete']:.0f} done, every project its "
          f"one publisher, {faulty['doubled']:.0f} posted twice")
    print(f"consecutive CLI runs with PYPI_PASSKEY (seconds):   {', '.join(f'{t:.2f}' for t in consecutive)}")
    print(f"plan of a {plan_projects}-project account (10 owned; {plan_repositories} repositories read through the "
          "GitHub API, 1 from a clone)")
    print(f"  PyPI requests (login, projects page, publishers, JSON API): {plan_pypi} "
          f"({plan_pypi / plan_projects:.1f} per project)")
    print(f"  GitHub API requests (repository, workflows, pyproject):    {plan_github} "
          f"({plan_github / plan_projects:.1f} per project, {plan_github / plan_repositories:.1f} per repository)")
    print(f"start-up (medians of {RUNS} runs)")
    print(f"  python -c pass:                                    {bare * 1000:.1f} ms")
    print(f"  import pypi_trusted_publisher.commands:                 {imported * 1000:.1f} ms "
          f"({imported / bare:.1f}x)")
    print(f"  add --dry-run --no-check:                          {dry * 1000:.1f} ms ({dry / bare:.1f}x)")
    print(f"  add --dry-run, check of this repo's 3 workflows:   {dry_checked * 1000:.1f} ms "
          f"({dry_checked / bare:.1f}x)")
    print(f"runtime distributions the action installs:          {action_distributions()}")
    if args.quick:
        return 0
    if reason := act_workflow.unavailable():
        raise SystemExit(f"cannot time the action under act: {reason}")
    load = os.getloadavg()[0]
    startup = action_startup()
    print(f"action start-up under act, step start to the entrypoint's first line (median of {ACT_RUNS}):")
    print(f"                                                    {statistics.median(startup):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in startup)}; 1-min load average before: {load:.1f})")
    load = os.getloadavg()[0]
    seconds, counts = suite()
    print(f"test suite, python -m pytest (pytest's figure):    {seconds:.1f} s ({counts}; load before: {load:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
