"""Every action takes its parameters the Cloud SOAR way too: environment variables named by the
parameter id, no stdin. Run so, each action must do exactly what the same parameters on stdin
do (the bug this guards against: an ignored ``mailbox`` variable ran the action on the default
mailbox, exit 0)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pack_runner import BACKENDS, ROOT, PackRunner, check_envelope

from exchange_pack.manifest import load_manifest

sys.path.insert(0, str(ROOT / "tests"))
from recording import SCENARIOS, Scenario, normalize

pytestmark = pytest.mark.sandbox
BY_ACTION = {scenario.action: scenario for scenario in SCENARIOS}
# The seed's out-of-office window is set relative to the reset between the two runs.
RESET_RELATIVE = {"get_out_of_office": ("start", "end")}
ACTIONS = [spec.id for spec in load_manifest().actions]


def as_variable(value: Any) -> str:
    """A parameter value as an engine puts it in the environment: text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def without_ids(value: Any) -> Any:
    """``value`` with backend ids masked: items the action creates get new ones on every run."""
    if isinstance(value, dict):
        return {
            k: "<id>"
            if k == "id" or (k.endswith("_id") and k != "internet_message_id")
            else without_ids(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def run_from_environment(pack: PackRunner, scenario: Scenario, backend: str, output_dir: Path):
    """``python actions/<id>.py`` with config and parameters in the environment only."""
    config = pack.config(backend, output_dir=str(output_dir))
    env = dict(pack.env)
    env.update({f"EXCHANGE_{k.upper()}": as_variable(v) for k, v in config.items()})
    env.update({k: as_variable(v) for k, v in scenario.parameters.items()})
    process = subprocess.run(
        [sys.executable, str(ROOT / "actions" / f"{scenario.action}.py")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=output_dir,
        timeout=120,
    )
    envelope = json.loads(process.stdout)
    check_envelope(scenario.action, process.returncode, envelope, process.stderr)
    return process.returncode, envelope


def test_every_action_has_an_environment_scenario() -> None:
    assert sorted(BY_ACTION) == sorted(ACTIONS)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("action", ACTIONS)
def test_parameters_from_the_environment_are_honoured(
    fresh_pack: PackRunner, action: str, backend: str, tmp_path: Path
) -> None:
    scenario = BY_ACTION[action]
    env_dir, stdin_dir = tmp_path / "env", tmp_path / "stdin"
    env_dir.mkdir()
    stdin_dir.mkdir()
    code, envelope = run_from_environment(fresh_pack, scenario, backend, env_dir)
    assert code == 0, envelope.get("error")

    fresh_pack.sandbox.reset()
    expected = fresh_pack.run(action, scenario.parameters, backend, output_dir=str(stdin_dir))
    assert expected.code == 0, expected.envelope.get("error")
    volatile = scenario.volatile + RESET_RELATIVE.get(action, ())
    assert without_ids(normalize(envelope["data"], volatile, str(env_dir))) == without_ids(
        normalize(expected.data, volatile, str(stdin_dir))
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_mailbox_variable_beats_the_default_mailbox(
    fresh_pack: PackRunner, backend: str, tmp_path: Path
) -> None:
    """The reported case: ``mailbox=bob@... python actions/get_out_of_office.py``."""
    scenario = Scenario("get_out_of_office", {"mailbox": "bob@contoso.com"})
    code, envelope = run_from_environment(fresh_pack, scenario, backend, tmp_path)
    assert code == 0, envelope.get("error")
    assert envelope["data"]["mailbox"] == "bob@contoso.com"


def test_a_variable_that_disagrees_with_stdin_is_refused(
    fresh_pack: PackRunner, tmp_path: Path
) -> None:
    document = {
        "config": fresh_pack.config("graph", output_dir=str(tmp_path)),
        "parameters": {"mailbox": "dave@contoso.com"},
    }
    process = subprocess.run(
        [sys.executable, str(ROOT / "actions" / "get_out_of_office.py")],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        env=fresh_pack.env | {"mailbox": "bob@contoso.com"},
        timeout=120,
    )
    envelope = json.loads(process.stdout)
    check_envelope("get_out_of_office", process.returncode, envelope, process.stderr)
    assert process.returncode == 64
    assert "stdin JSON and environment variable mailbox" in envelope["error"]["message"]
    assert fresh_pack.sandbox.requests() == []
