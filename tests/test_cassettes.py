"""Recorded traffic: every action on both backends replays its cassette with no server at all,
and no cassette holds a secret, a usable token, a client assertion or an Authorization header."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
import yaml
from recording import BACKENDS, CASSETTES, SCENARIOS, SCRUBBED, cassette, normalize, replay_config
from recording import run_in_process as run_recorded

from exchange_sandbox import seeds
from exchange_sandbox.store import Store

CASES = [(backend, scenario) for backend in BACKENDS for scenario in SCENARIOS]
JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.([\w-]+)")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replays must not reach any server: opening a socket fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a replayed action tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize(("backend", "scenario"), CASES, ids=[f"{b}-{s.action}" for b, s in CASES])
def test_action_replays_its_cassette(backend, scenario, tmp_path: Path, no_network) -> None:
    expected = json.loads((CASSETTES / backend / f"{scenario.action}.json").read_text())
    config = replay_config(expected["config"], tmp_path)
    with cassette(backend, scenario.action, "none"):
        code, envelope, stderr = run_recorded(scenario.action, config, expected["parameters"])
    assert (code, stderr) == (expected["exit_code"], ""), envelope.get("error")
    assert envelope["meta"]["backend"] == backend
    assert normalize(envelope["data"], scenario.volatile, str(tmp_path)) == expected["data"]


def test_every_action_has_a_cassette_on_each_backend() -> None:
    actions = {p.stem for p in (CASSETTES.parents[1] / "actions").glob("*.py")}
    for backend in BACKENDS:
        recorded = {p.stem for p in (CASSETTES / backend).glob("*.yaml")}
        assert recorded == actions, f"{backend}: missing {sorted(actions - recorded)}"


def _cassette_texts() -> list[tuple[Path, str]]:
    return [(p, p.read_text(encoding="utf-8")) for p in sorted(CASSETTES.rglob("*.yaml"))]


def _demo_secrets(folder: Path) -> list[str]:
    """The demo tenant's client secrets and service-account password (a deterministic seed)."""
    store = Store(folder / "secrets.db")
    try:
        seeds.seed(store, "demo")
        secrets = [app.client_secret for app in store.apps() if app.client_secret]
        return [*secrets, store.get_setting("service_account")["password"]]
    finally:
        store.close()


def test_no_secret_in_any_cassette(tmp_path: Path) -> None:
    secrets = _demo_secrets(tmp_path)
    assert len(secrets) == 4
    for path, text in _cassette_texts():
        for secret in secrets:
            assert secret not in text, f"{path.name} holds a secret"
        document = yaml.safe_load(text)
        for interaction in document["interactions"]:
            headers = {k.lower(): v for k, v in interaction["request"]["headers"].items()}
            assert headers.get("authorization") in (None, [SCRUBBED]), path.name
            body = interaction["request"].get("body") or ""
            for field in ("client_secret", "client_assertion", "password"):
                value = re.search(rf"{field}=([^&]*)", str(body))
                assert value is None or value.group(1) == SCRUBBED, f"{path.name}: {field}"
        for signature in JWT.findall(text):
            assert signature == SCRUBBED, f"{path.name} holds a signed token"
