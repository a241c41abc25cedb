"""Fuzzed inputs: every value a user types is accepted where Warehouse would accept it, or refused with exit 2 and a
message naming it, before any network call and never with a traceback.

The oracle is Warehouse's own rules as docs/protocol/validation.md writes them down, re-stated here independently of
``core/validation.py``: the tool may be stricter only where that page says so (non-ASCII, and the final newline
that Warehouse's ``re.match(...$)`` lets through). The runs are ``add --dry-run`` through the CLI's ``main``,
in-process, so a refusal is exactly what a user sees.
"""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pypi_trusted_publisher.commands import main

PROFILE = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
# What users type, and what trips validators: separators, quotes, whitespace, control and non-ASCII characters.
ALPHABET = st.sampled_from([*"aZ09-_./ $,{}'\"`;\\+@:\t\n\x00é", "ı", "\u200b"])
VALUES = st.text(ALPHABET, max_size=24)
GITHUB = ["--owner", "octo", "--repo", "demo", "--workflow", "release.yml", "--environment", "pypi"]


def run(*args: str) -> tuple[int, dict[str, object] | None, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["add", "--dry-run", "--no-check", "--json", "--index", "https://pypi.org", *args])
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue(), err.getvalue()
    return code, (lines[0] if lines else None), err.getvalue()


def ascii_full(pattern: str, value: str, flags: int = 0) -> bool:
    return value.isascii() and re.fullmatch(pattern, value, flags) is not None


def with_value(option: str, value: str, base: list[str]) -> list[str]:
    """``base`` with ``option`` given as ``--option=value``, the spelling argparse takes for a value starting "-"."""
    at = base.index(option)
    return [*base[:at], f"{option}={value}", *base[at + 2:]]


# Warehouse's rules per option: (option, the field the refusal names, accepted?) — validation.md#github, #gitlab, …
def github_owner(v: str) -> bool:
    return ascii_full(r"[a-zA-Z0-9][a-zA-Z0-9-]*", v)


def github_repository(v: str) -> bool:
    return ascii_full(r"[a-zA-Z0-9\-_.]+", v)


def github_workflow(v: str) -> bool:
    v = v.strip()
    return bool(v) and v.isascii() and v.endswith((".yml", ".yaml")) and "/" not in v


def github_environment(v: str) -> bool | None:
    """None where the tool may be stricter than Warehouse (validation.md says so): whitespace only, which Warehouse's
    Optional() reads as "any environment" and the tool refuses rather than widen the publisher silently."""
    if v == "" or v == "*":
        return True  # empty: any environment (the tool's documented `''`/`*`)
    if v.strip() == "":
        return None
    # No ASCII requirement here: Warehouse's rule is a list of refused characters, so "é" is a valid environment.
    return len(v) <= 255 and v == v.strip(" ") and re.search(r"[\x00-\x1F\x7F'\"`,;\\]", v) is None


CASES = [
    ("--owner", "owner", github_owner),
    ("--repo", "repository", github_repository),
    ("--workflow", "workflow_filename", github_workflow),
    ("--environment", "environment", github_environment),
]


@pytest.mark.parametrize(("option", "field", "accepted"), CASES, ids=[c[0] for c in CASES])
@PROFILE
@given(value=st.one_of(VALUES, st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,10}(\.yml)?", fullmatch=True)))
def test_github_values(option: str, field: str, accepted, value: str) -> None:
    code, result, _ = run("--project", "demo", *with_value(option, value, GITHUB))
    assert result is not None
    verdict = accepted(value)
    if verdict is None:
        assert code in (0, 2), (value, result)
    elif verdict:
        assert code == 0 and result["status"] == "dry-run", (value, result)
    else:
        assert code == 2 and result["reason"] == "invalid-input", (value, result)
        assert result["field"] in (field, "workflow", "environment", "owner", "repository"), result
        assert str(result["message"]).strip()


def project_name(v: str) -> bool:
    return ascii_full(r"([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])", v, re.IGNORECASE)


@PROFILE
@given(value=st.one_of(VALUES, st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,12}[A-Za-z0-9]", fullmatch=True)))
def test_project_names(value: str) -> None:
    code, result, _ = run("--pending", f"--project={value}", *GITHUB)
    assert result is not None
    if project_name(value) and value.lower() not in STDLIB:
        assert code == 0, (value, result)
    elif not project_name(value.strip()) or not value.strip():
        assert code == 2 and result["field"] == "project", (value, result)


STDLIB = {"os", "sys", "re", "io", "json", "ast", "abc", "csv", "dis", "pdb", "pwd", "ssl", "uu", "nis"}


def gitlab_name(v: str, *, namespace: bool) -> bool:
    pattern = r"[a-zA-Z0-9][a-zA-Z0-9\-_./+]*[a-zA-Z0-9]" if namespace else r"[a-zA-Z0-9][a-zA-Z0-9_.-]*[a-zA-Z0-9]"
    return (ascii_full(pattern, v) and re.search(r"[._-]{2}", v) is None
            and not v.lower().endswith((".git", ".atom")))  # fmt: skip


@PROFILE
@given(namespace=VALUES, project=VALUES)
def test_gitlab_names(namespace: str, project: str) -> None:
    code, result, _ = run("--project", "demo", "--provider", "gitlab", f"--namespace={namespace}",
                          f"--gitlab-project={project}", "--environment", "pypi")  # fmt: skip
    assert result is not None
    if gitlab_name(namespace, namespace=True) and gitlab_name(project, namespace=False):
        assert code == 0, (namespace, project, result)
    else:
        assert code == 2 and result["field"] in ("namespace", "gitlab-project"), result


@PROFILE
@given(value=VALUES)
def test_activestate_projects(value: str) -> None:
    code, result, _ = run("--project", "demo", "--provider", "activestate", "--activestate-org", "org",
                          f"--activestate-project={value}", "--actor", "me")  # fmt: skip
    accepted = ascii_full(r"[.a-zA-Z0-9-]{3,40}", value) and "--" not in value and not value.startswith("-") and not (
        value.endswith("-"))  # fmt: skip
    assert result is not None
    assert (code == 0) if accepted else (code == 2 and "activestate" in str(result["field"])), (value, result)


@PROFILE
@given(url=st.one_of(VALUES, st.builds(lambda host, scheme: f"{scheme}://{host}", VALUES,
                                       st.sampled_from(["http", "https", "ftp", ""]))))  # fmt: skip
def test_index_urls(url: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["add", "--dry-run", "--no-check", "--json", f"--index={url}", "--project", "demo", *GITHUB])
    assert "Traceback" not in err.getvalue() and code in (0, 2)
    if code == 2:
        assert json.loads(out.getvalue().splitlines()[0])["reason"] == "invalid-input"
    else:  # only an https index, or plain http on loopback, is ever contacted
        assert url.strip() in ("", "pypi", "testpypi") or url.strip().startswith("https://")


@PROFILE
@given(text=st.text(max_size=300))
def test_batch_files(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    config = Path(tmp_path_factory.mktemp("batch")) / "publishers.toml"
    config.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["add", "--dry-run", "--no-check", "--json", "--config", str(config)])
    assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue(), err.getvalue()
    assert code in (0, 2)


PYPIRC_LINES = st.sampled_from(["[distutils]", "index-servers =", "    pypi", "[pypi]", "[testpypi]", "[server-login]",
                                "username = __token__", "username = dana", "password = pypi-AgEIcHlwaS5vcmc",
                                "password = hunter2", "repository = http://127.0.0.1:9", "repository = ::", "= x",
                                "%(missing)s", "[pypi", "\x00", "password"])  # fmt: skip


@PROFILE
@given(lines=st.lists(st.one_of(PYPIRC_LINES, st.text(max_size=20)), max_size=8))
def test_pypirc_files(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    """Whatever ~/.pypirc holds, a command that reads credentials ends with a clean failure (the index here does
    not answer), and no password from the file is printed."""
    import os

    home = Path(tmp_path_factory.mktemp("home"))
    (home / ".pypirc").write_text("\n".join(lines), encoding="utf-8", errors="replace")
    saved = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    out, err = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["list", "--project", "demo", "--index", "http://127.0.0.1:9", "--json", "--timeout", "1"])
    finally:
        os.environ["HOME"] = saved or ""
    said = out.getvalue() + err.getvalue()
    assert "Traceback" not in said and "internal error" not in said, said
    assert code in (1, 2)
    assert "hunter2" not in said and "pypi-AgEIcHlwaS5vcmc" not in said


@PROFILE
@given(email=st.one_of(VALUES, st.emails()))
def test_google_emails(email: str) -> None:
    """wtforms' Email(): every address hypothesis calls valid that is ASCII passes; whatever fails names the field."""
    code, result, _ = run("--project", "demo", "--provider", "google", f"--email={email}")
    assert result is not None and code in (0, 2)
    if code == 2:
        assert result["field"] == "email" and result["reason"] == "invalid-input"
    if "@" not in email or not email.strip():
        assert code == 2


@PROFILE
@given(text=st.one_of(st.text(max_size=80), st.builds(lambda body: "pypi-passkey:1:" + body, st.text(max_size=60))))
def test_passkey_strings(text: str) -> None:
    """A damaged PYPI_PASSKEY is bad input (exit 2, field passkey) before any request, and is never echoed."""
    import os

    if "\x00" in text:
        return  # an environment variable cannot hold NUL
    saved = {name: os.environ.get(name) for name in ("PYPI_USERNAME", "PYPI_PASSWORD", "PYPI_PASSKEY")}
    os.environ.update(PYPI_USERNAME="dana", PYPI_PASSWORD="pw", PYPI_PASSKEY=text)
    out, err = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["list", "--project", "demo", "--index", "http://127.0.0.1:9", "--json", "--timeout", "1"])
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    said = out.getvalue() + err.getvalue()
    assert "Traceback" not in said and "internal error" not in said, said
    assert code in (1, 2)
    if text.strip().startswith("pypi-passkey:1:"):  # random data after the prefix never decodes to a key
        assert code == 2 and json.loads(out.getvalue().splitlines()[0])["field"] == "passkey", said
    if len(text.strip()) > 16:
        assert text.strip() not in said
