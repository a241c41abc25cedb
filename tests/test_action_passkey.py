"""The action's security-key inputs: pypi-passkey (masked, checked) and remove-passkey (the login output, a failed
removal fails the step). The engine is stubbed as in test_action_entrypoint; the real flow runs under act."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pypi_trusted_publisher.core.models import Status
from pypi_trusted_publisher.credentials.passkey import Passkey
from pypi_trusted_publisher.engine import engine
from test_action_entrypoint import SECRETS, Runner, assert_masked_first, run, runner, stub_register, with_status

__all__ = ["runner"]  # the fixture, shared with test_action_entrypoint

KEY = Passkey.generate("https://pypi.org", "ci-bootstrap")
PASSKEY = KEY.encode().reveal()


def stub_login(monkeypatch: pytest.MonkeyPatch, login: engine.Login, status: Status = Status.REGISTERED) -> list:
    calls = stub_register(monkeypatch, with_status(status, "Done."))
    stubbed = engine.run_batch

    def run_batch(*args, **kwargs) -> engine.Batch:
        return dataclasses.replace(stubbed(*args, **kwargs), login=login)

    monkeypatch.setattr(engine, "run_batch", run_batch)
    return calls


def assert_key_hidden(lines: list[str], runner: Runner) -> None:
    masks = [line for line in lines if line.startswith("::add-mask")]
    for part in (PASSKEY, *KEY.secrets()):
        assert f"::add-mask::{part}" in masks, part[:8]
    rest = "\n".join(lines[len(masks) :]) + runner.files()
    for part in (PASSKEY, *KEY.secrets(), PASSKEY[len("pypi-passkey:1:") :][:24]):
        assert part not in rest, f"the key leaked: {part[:8]}…"


def test_the_key_reaches_the_engine_and_the_removal_is_reported(runner, capsys, monkeypatch):
    calls = stub_login(monkeypatch, engine.Login("security-key", passkey_removed=True))
    code, lines = run(runner.inputs(pypi_passkey=PASSKEY, remove_passkey="true", check="false"), capsys)
    assert code == 0
    credentials = calls[0]["credentials"]
    assert credentials.passkey is not None and credentials.passkey.credential_id == KEY.credential_id
    assert calls[0]["remove_passkey"] is True
    outputs = runner.outputs()
    assert outputs["login"] == "security-key-removed" and outputs["status"] == "registered"
    assert "removed from the account at the end" in runner.summary()
    assert any(line.startswith("::notice") and "secret is dead" in line for line in lines)
    assert_key_hidden(lines, runner)
    assert_masked_first(lines, runner.files())


def test_a_removal_that_did_not_happen_fails_the_step(runner, capsys, monkeypatch):
    stub_login(monkeypatch, engine.Login("security-key", problem="Cannot remove last 2FA method"))
    code, lines = run(runner.inputs(pypi_passkey=PASSKEY, remove_passkey="true", check="false"), capsys)
    assert code == 1
    outputs = runner.outputs()
    assert outputs["status"] == "registered" and outputs["login"] == "security-key"
    [error] = [line for line in lines if line.startswith("::error")]
    assert "was not removed" in error and "Cannot remove last 2FA method" in error
    assert "not removed" in runner.summary()
    assert_key_hidden(lines, runner)


def test_without_removal_the_login_output_names_the_factor(runner, capsys, monkeypatch):
    stub_login(monkeypatch, engine.Login("totp"))
    code, _ = run(runner.inputs(check="false"), capsys)
    assert code == 0 and runner.outputs()["login"] == "totp"


@pytest.mark.parametrize(
    ("inputs", "field", "message"),
    [
        ({"remove_passkey": "true"}, "remove-passkey", "needs the key in pypi-passkey"),
        ({"pypi_passkey": PASSKEY[:-20]}, "pypi-passkey", "truncated or damaged"),
        ({"pypi_passkey": "hunter2"}, "pypi-passkey", "is not a passkey string"),
        ({"pypi_passkey": Passkey.generate("https://test.pypi.org", "t").encode().reveal()}, "pypi-passkey",
         "belongs to https://test.pypi.org"),
        ({"pypi_passkey": PASSKEY, "remove_passkey": "sure"}, "remove-passkey", "true or false"),
    ],
)
def test_bad_key_inputs_are_invalid_input_before_any_request(runner, capsys, monkeypatch, inputs, field, message):
    calls = stub_register(monkeypatch, with_status(Status.REGISTERED, "unexpected"))
    code, lines = run(runner.inputs(**inputs), capsys)
    assert code == 2 and not calls
    outputs = runner.outputs()
    assert outputs["reason"] == "invalid-input" and message in outputs["message"]
    assert json.loads(outputs["json"])["field"] == field
    assert field in outputs["message"]
    rest = "\n".join(line for line in lines if not line.startswith("::add-mask")) + runner.files()
    assert PASSKEY not in rest and KEY.secrets()[0] not in rest
    for secret in SECRETS:
        assert secret not in rest
