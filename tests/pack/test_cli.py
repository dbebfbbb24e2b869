"""``exchange-pack``: run, actions, validate and docs; the manifest ↔ schemas ↔ scripts contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from contract_action import ACTION_ID, build_contract_pack
from jsonschema import Draft202012Validator

from exchange_pack import __version__
from exchange_pack.cli import main
from exchange_pack.docs import BEGIN_MARKER, END_MARKER, render, updated_readme
from exchange_pack.manifest import (
    BINDING_ACTION_IDS,
    changelog_version,
    load_manifest,
    pack_root,
)
from exchange_pack.pack_check import check_pack

REPO_ROOT = Path(__file__).resolve().parents[2]
BINDING_PROBLEMS = (
    "integration.yaml lacks the binding actions",
    "integration.yaml has actions outside the binding list: contract_probe",
)


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = build_contract_pack(tmp_path / "pack")
    monkeypatch.setenv("EXCHANGE_PACK_ROOT", str(root))
    return root


def only_binding_problem(problems: list[str]) -> list[str]:
    """The contract pack's one action is not a binding one: the binding-list check says so."""
    return [p for p in problems if not p.startswith(BINDING_PROBLEMS)]


def edit_manifest(root: Path, change: Any) -> None:
    document = yaml.safe_load((root / "integration.yaml").read_text())
    change(document)
    (root / "integration.yaml").write_text(yaml.safe_dump(document))


# -- the real pack --------------------------------------------------------------------------
def test_real_pack_validates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0, capsys.readouterr().err
    assert f"{len(BINDING_ACTION_IDS)} actions agree" in capsys.readouterr().out


def test_real_manifest_has_the_binding_actions_and_version() -> None:
    manifest = load_manifest(REPO_ROOT)
    assert [a.id for a in manifest.actions] == list(BINDING_ACTION_IDS)
    assert manifest.version == changelog_version(REPO_ROOT) == __version__
    assert pack_root() == REPO_ROOT


def test_contract_schemas_are_valid_draft_2020_12() -> None:
    for name in ("connection", "envelope", "integration"):
        document = json.loads((REPO_ROOT / "schemas" / f"{name}.json").read_text())
        Draft202012Validator.check_schema(document)
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_actions_lists_kind_and_permissions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["actions"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(BINDING_ACTION_IDS)
    send = next(line for line in lines if line.startswith("send_email"))
    assert "notify" in send and "Mail.Send" in send and "full_access_as_app" in send
    assert main(["actions", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["id"]: r["kind"] for r in rows}["delete_email"] == "contain"


def test_readme_reference_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs", "--check"]) == 0, "run `make docs` (exchange-pack docs --write)"


# -- validate finds each kind of disagreement ---------------------------------------------------
def test_contract_pack_is_consistent(pack: Path) -> None:
    problems = check_pack(pack)
    assert len([p for p in problems if p.startswith(BINDING_PROBLEMS)]) == 2
    assert only_binding_problem(problems) == []


def test_validate_exit_code_and_output(pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 1
    assert f"FAIL {BINDING_PROBLEMS[0]}" in capsys.readouterr().err


def _break_version(root: Path) -> None:
    edit_manifest(root, lambda d: d.update(version="9.9.9"))


def _break_script(root: Path) -> None:
    (root / "actions" / f"{ACTION_ID}.py").unlink()


def _script_without_run(root: Path) -> None:
    (root / "actions" / f"{ACTION_ID}.py").write_text("def main():\n    return 0\n")


def _script_that_fails_to_import(root: Path) -> None:
    (root / "actions" / f"{ACTION_ID}.py").write_text("import no_such_module_here\n")


def _invalid_output_schema(root: Path) -> None:
    (root / "schemas" / f"{ACTION_ID}.output.json").write_text(
        json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "bogus"})
    )


def _missing_input_schema(root: Path) -> None:
    (root / "schemas" / f"{ACTION_ID}.input.json").unlink()


def _nested_input(root: Path) -> None:
    path = root / "schemas" / f"{ACTION_ID}.input.json"
    schema = json.loads(path.read_text())
    schema["properties"]["filters"] = {"type": "object"}
    path.write_text(json.dumps(schema))


def _unknown_table_column(root: Path) -> None:
    edit_manifest(root, lambda d: d["actions"][0].update(table_columns=["messages[].subject"]))


def _wrong_script_path(root: Path) -> None:
    edit_manifest(root, lambda d: d["actions"][0].update(script="actions/other.py"))


def _bad_kind(root: Path) -> None:
    edit_manifest(root, lambda d: d["actions"][0].update(kind="destroy"))


def _missing_logo(root: Path) -> None:
    (root / "logos" / "probe.png").unlink()


def _bad_test_action(root: Path) -> None:
    edit_manifest(root, lambda d: d["connection"].update(test_action="nope"))


BREAKAGES = {
    "version != changelog": (_break_version, "version 9.9.9 != newest CHANGELOG.md release 1.2.3"),
    "missing script": (_break_script, "does not exist"),
    "script without run": (_script_without_run, "does not define run()"),
    "script import error": (_script_that_fails_to_import, "fails to import"),
    "invalid output schema": (_invalid_output_schema, "not a valid JSON Schema"),
    "missing input schema": (_missing_input_schema, "contract_probe.input.json: missing"),
    "nested input": (_nested_input, "parameter filters is not flat"),
    "unknown table column": (_unknown_table_column, "names no field of the output schema"),
    "wrong script path": (_wrong_script_path, "script must be actions/contract_probe.py"),
    "manifest schema": (_bad_kind, "does not match schemas/integration.json"),
    "missing logo": (_missing_logo, "logos/probe.png does not exist"),
    "test action": (_bad_test_action, "connection.test_action names no action"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_validate_reports_each_disagreement(pack: Path, breakage: str) -> None:
    breaker, fragment = BREAKAGES[breakage]
    breaker(pack)
    problems = only_binding_problem(check_pack(pack))
    assert any(fragment in p for p in problems), problems


# -- docs ------------------------------------------------------------------------------------
def test_docs_render_from_manifest_and_schemas(pack: Path) -> None:
    block = render(load_manifest(pack), pack)
    assert block.startswith(BEGIN_MARKER) and block.rstrip().endswith(END_MARKER)
    assert f"### {ACTION_ID}" in block
    assert "| `delete_type` | one of `move_to_deleted_items`, `soft`, `hard` |" in block
    assert "| `limit` | integer |  | `10` |" in block
    assert (
        "| [`contract_probe`](#contract_probe) | generic | Mail.Read | full_access_as_app |"
        in block
    )
    assert "| `parameters` | object |" in block


def test_docs_check_and_write(pack: Path, tmp_path: Path, capsys) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Pack\n\nIntro.\n\n{BEGIN_MARKER}\nold\n{END_MARKER}\n\n## After\n")
    assert main(["docs", "--check", "--readme", str(readme)]) == 1
    assert "stale" in capsys.readouterr().err
    assert main(["docs", "--write", "--readme", str(readme)]) == 0
    assert main(["docs", "--check", "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# Pack\n\nIntro.\n\n" + BEGIN_MARKER)
    assert text.endswith(END_MARKER + "\n\n## After\n")
    assert "\nold\n" not in text


def test_docs_append_when_markers_are_missing() -> None:
    text = updated_readme("# Pack\n", f"{BEGIN_MARKER}\nx\n{END_MARKER}\n")
    assert text == f"# Pack\n\n## Action reference\n\n{BEGIN_MARKER}\nx\n{END_MARKER}\n"


# -- run ---------------------------------------------------------------------------------------
def _cli(pack: Path, *argv: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        base.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "exchange_pack.cli", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=base | {"EXCHANGE_PACK_ROOT": str(pack)} | env,
        timeout=60,
    )


def test_run_uses_the_action_contract(pack: Path) -> None:
    config = {"tenant_id": "t", "client_id": "c", "client_secret": "run-secret-value"}
    stdin = json.dumps({"config": config, "parameters": {"limit": "4"}})
    done = _cli(pack, "run", ACTION_ID, stdin=stdin)
    assert done.returncode == 0, done.stdout
    assert done.stderr == ""
    envelope = json.loads(done.stdout)
    assert envelope["action"] == ACTION_ID
    assert envelope["data"]["parameters"]["limit"] == 4

    flags = _cli(pack, "run", ACTION_ID, "--limit", "0", tenant_id="t", client_id="c")
    assert flags.returncode == 78  # no credential: config error before the parameter check
    assert flags.stderr.startswith("ERROR INVALID_CONFIG: ")


def test_run_failure_exit_code_matches_the_script(pack: Path) -> None:
    stdin = json.dumps(
        {
            "config": {"tenant_id": "t", "client_id": "c", "client_secret": "x-secret-1"},
            "parameters": {"raise": "AccessDeniedError"},
        }
    )
    done = _cli(pack, "run", ACTION_ID, stdin=stdin)
    assert done.returncode == 77
    assert done.stderr == "ERROR ACCESS_DENIED: probe raised AccessDeniedError\n"


def test_run_unknown_action_is_bad_input(pack: Path) -> None:
    done = _cli(pack, "run", "no_such_action")
    assert done.returncode == 64
    envelope = json.loads(done.stdout)
    assert envelope["ok"] is False
    assert "Unknown action 'no_such_action'" in envelope["error"]["message"]
    assert done.stderr.startswith("ERROR INVALID_INPUT: ")


def test_run_without_action_prints_usage(pack: Path) -> None:
    done = _cli(pack, "run")
    assert done.returncode == 64
    assert "usage:" in done.stderr
