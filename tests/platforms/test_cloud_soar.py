"""Sumo Logic Cloud SOAR: the generated Open Integration Framework files against the format
(``cloud_soar_oif.schema.json``, written from Sumo's docs), and every generated script run the
way the framework runs it: ``python <script>`` with the connection and the action's fields as
environment variables, nothing on stdin, stdout one JSON document, stderr empty on success;
against the sandbox tenant, on both backends."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from platform_helpers import REPORTS, SEEDED_REPORTS, SEEDED_SINCE, deliver_report
from recording import SCENARIOS

from exchange_pack.bundles import cloud_soar
from exchange_pack.bundles.common import docker_tag
from exchange_pack.fields import connection_fields, input_fields, output_paths
from exchange_pack.manifest import load_manifest
from exchange_sandbox.process import Sandbox

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BACKENDS = ("graph", "ews")
FORMAT = json.loads((HERE / "cloud_soar_oif.schema.json").read_text(encoding="utf-8"))
SEEDS = ROOT.parent / "shared" / "seeds"
MANIFEST = load_manifest()
ACTION_IDS = [spec.id for spec in MANIFEST.actions]
SCENARIO = {scenario.action: scenario for scenario in SCENARIOS}
# What a process in the integration's container has besides the fields: no EXCHANGE_* and no
# CA bundle override, so nothing but the fields can reach the pack.
BASE_ENV_KEYS = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def _validator(definition: str) -> Draft202012Validator:
    schema = {**FORMAT, "$ref": f"#/$defs/{definition}"}
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _generate(out: Path, env: dict[str, str] | None = None) -> Path:
    """``exchange-pack bundle cloud-soar --out`` (the one command), as a user runs it."""
    process = subprocess.run(
        [sys.executable, "-m", "exchange_pack", "bundle", "cloud-soar", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        timeout=120,
    )
    assert process.returncode == 0, process.stderr
    return out


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("cloud-soar"))


def _integration(bundle: Path) -> dict[str, Any]:
    return yaml.safe_load((bundle / cloud_soar.INTEGRATION_FILE).read_text(encoding="utf-8"))


def _action(bundle: Path, action_id: str) -> dict[str, Any]:
    path = bundle / cloud_soar.ACTIONS_DIR / f"{action_id}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# -- the files against Sumo's format -----------------------------------------------------------
def test_every_generated_file_parses_and_matches_the_oif_format(bundle: Path) -> None:
    files = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    expected = [f"actions/{a}.yaml" for a in sorted(ACTION_IDS)]
    daemon = cloud_soar.daemon_file(MANIFEST)
    assert files == sorted(["Dockerfile", cloud_soar.INTEGRATION_FILE, daemon, *expected])
    _validator("integration").validate(_integration(bundle))
    for action_id in ACTION_IDS:
        _validator("action").validate(_action(bundle, action_id))
    _validator("action").validate(yaml.safe_load((bundle / daemon).read_text(encoding="utf-8")))


def test_the_format_schema_refuses_what_sumo_does_not_define(bundle: Path) -> None:
    integration = _integration(bundle)
    wrong_type = json.loads(json.dumps(integration))
    wrong_type["configuration"]["data_attributes"]["tenant_id"]["type"] = "string"
    assert not _validator("integration").is_valid(wrong_type)
    action = _action(bundle, "delete_email")
    without_values = json.loads(json.dumps(action))
    listed = next(f for f in without_values["fields"] if f["type"] == "list")
    del listed["values"]
    assert not _validator("action").is_valid(without_values)
    bad_path = {**action, "output": [{"path": "data.results[].status"}]}
    assert not _validator("action").is_valid(bad_path)


def test_integration_definition_comes_from_the_manifest_schemas_and_logo(bundle: Path) -> None:
    integration = _integration(bundle)
    assert (integration["name"], integration["version"]) == (MANIFEST.name, MANIFEST.version)
    assert integration["docker_repo_tag"] == docker_tag()
    assert integration["script"]["type"] == "python"
    prefix, encoded = integration["icon"].split(",", 1)
    assert prefix == "data:image/png;base64"
    assert base64.b64decode(encoded) == (ROOT / MANIFEST.logos["png"]).read_bytes()
    configuration = integration["configuration"]
    assert configuration["testable_connection"] is True
    assert configuration["require_proxy_config"] is True
    attributes = configuration["data_attributes"]
    expected = [f for f in connection_fields() if f.name not in cloud_soar.PLATFORM_PROVIDED]
    assert list(attributes) == [f.name for f in expected]
    assert "proxy_url" not in attributes  # the proxy tab passes it
    for field in expected:
        entry = attributes[field.name]
        assert entry["required"] == field.required
        if field.secret:
            assert entry["type"] == "password", field.name
        elif field.allowed:
            assert entry["type"] == "list"
            assert list(entry["values"]) == [str(v) for v in field.allowed]
        if field.has_default:
            assert entry["default"] == cloud_soar._text_default(field.default)
    assert {n for n, e in attributes.items() if e["type"] == "password"} == {
        "client_secret",
        "certificate_pem",
        "certificate_password",
        "password",
    }
    assert attributes["verify_tls"]["type"] == "checkbox"
    assert attributes["max_retries"] == {**attributes["max_retries"], "validator": "integer"}


def test_action_fields_come_from_each_input_schema(bundle: Path) -> None:
    for action_id in ACTION_IDS:
        fields = {f["id"]: f for f in _action(bundle, action_id)["fields"]}
        expected = input_fields(action_id)
        assert list(fields) == [f.name for f in expected], action_id
        for field in expected:
            entry = fields[field.name]
            assert entry["required"] == field.required
            assert entry["hint"].startswith(field.description)
            if field.allowed:
                assert list(entry["values"]) == [str(v) for v in field.allowed]
                assert entry["type"] == ("multilist" if field.is_array else "list")
            elif field.type == "boolean":
                # an optional filter with no default keeps "not given" as a choice
                assert entry["type"] == ("checkbox" if field.has_default else "list")
            elif field.is_array:
                assert entry["type"] == "tag"
            elif field.type == "integer":
                assert (entry["type"], entry["validator"]) == ("number", "integer")
            if field.has_default:
                assert entry["default"] == cloud_soar._text_default(field.default)
    delete = {f["id"]: f for f in _action(bundle, "delete_email")["fields"]}
    assert delete["delete_type"]["values"] == {
        "move_to_deleted_items": "move_to_deleted_items",
        "soft": "soft",
        "hard": "hard",
    }
    assert delete["delete_type"]["default"] == "move_to_deleted_items"
    assert delete["dry_run"] == {**delete["dry_run"], "type": "checkbox", "default": "false"}
    search = {f["id"]: f for f in _action(bundle, "search_emails_extended")["fields"]}
    assert search["is_read"]["values"] == {"true": "true", "false": "false"}
    assert search["mailbox"]["validator"] == "e-mail"
    send = {f["id"]: f for f in _action(bundle, "send_email")["fields"]}
    assert send["body"]["type"] == "textarea" and send["subject"]["type"] == "text"


def test_action_types_follow_the_seed_integration(bundle: Path) -> None:
    seeds = sorted(SEEDS.glob("004_*.txt"))
    if not seeds:
        reason = f"the seed integration's docs are not at {SEEDS} (outside the repository)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    text = seeds[0].read_text(encoding="utf-8")
    seed_types = dict(re.findall(r"^\* \*\*(.+?)\*\* \W*(\w+)", text, re.M))
    assert len(seed_types) >= 12
    for spec in MANIFEST.actions:
        definition = _action(bundle, spec.id)
        assert definition["integration"] == _integration(bundle)["name"]
        assert definition["name"] == spec.title
        assert definition["type"] == cloud_soar.ACTION_TYPES[spec.kind]
        if spec.title in seed_types:
            assert definition["type"] == seed_types[spec.title], spec.title


def test_output_paths_cover_data_and_table_view_uses_table_columns(bundle: Path) -> None:
    for spec in MANIFEST.actions:
        definition = _action(bundle, spec.id)
        paths = [o["path"] for o in definition["output"]]
        assert len(paths) == len(set(paths))
        data_paths = [p for p in paths if p.startswith("data.")]
        assert len(data_paths) == len(output_paths(spec.id))
        for leaf in output_paths(spec.id):
            assert cloud_soar.oif_path(leaf.marked, "data") in data_paths
        assert {"ok", "message", "warnings.[]"} <= set(paths)
        columns = [c["value"] for c in definition["table_view"]]
        assert columns == [cloud_soar.oif_path(c, "data") for c in spec.table_columns]
        for column in columns:  # a list column shows the whole list, as Sumo's example does
            assert column in paths or f"{column}.[]" in paths, (spec.id, column)
    search = [o["path"] for o in _action(bundle, "search_emails_extended")["output"]]
    assert "data.messages.[].from.address" in search
    assert "data.messages.[].to.[].address" in search
    assert "data.messages.[].attachment_names.[]" in search


def test_oif_path_quotes_names_with_other_characters() -> None:
    assert cloud_soar.oif_path("a[].b[]", "data") == "data.a.[].b.[]"
    assert cloud_soar.oif_path("headers.MIME-Version") == 'headers."MIME-Version"'


def test_dockerfile_installs_the_wheel(bundle: Path) -> None:
    text = (bundle / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^RUN pip install .*exchange_pack-\*\.whl", text, re.M)
    assert f"docker build -t {docker_tag()}" in text


# -- never stale -------------------------------------------------------------------------------
def test_bundle_follows_a_changed_schema(tmp_path: Path) -> None:
    root = tmp_path / "pack"
    root.mkdir()
    shutil.copy(ROOT / "integration.yaml", root)
    for folder in ("schemas", "actions", "logos"):
        shutil.copytree(ROOT / folder, root / folder)
    schema_file = root / "schemas" / "delete_email.input.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    schema["properties"]["delete_type"]["enum"].append("archive")
    schema["properties"]["dry_run"]["description"] = "Changed: only list what would go."
    schema_file.write_text(json.dumps(schema), encoding="utf-8")
    connection_file = root / "schemas" / "connection.json"
    connection = json.loads(connection_file.read_text(encoding="utf-8"))
    connection["properties"]["default_mailbox"]["description"] = "Changed mailbox help."
    connection_file.write_text(json.dumps(connection), encoding="utf-8")
    manifest_file = root / "integration.yaml"
    document = yaml.safe_load(manifest_file.read_text(encoding="utf-8"))
    contacts = next(a for a in document["actions"] if a["id"] == "get_contacts")
    contacts["title"] = "List Mailbox Contacts"
    contacts["table_columns"] = ["contacts[].display_name"]
    manifest_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "EXCHANGE_PACK_ROOT": str(root)}
    changed = _generate(tmp_path / "changed", env)
    renamed = _action(changed, "get_contacts")
    assert renamed["name"] == "List Mailbox Contacts"
    assert renamed["table_view"] == [
        {"display_name": "Display Name", "value": "data.contacts.[].display_name"}
    ]
    fields = {f["id"]: f for f in _action(changed, "delete_email")["fields"]}
    assert "archive" in fields["delete_type"]["values"]
    assert fields["dry_run"]["hint"] == "Changed: only list what would go."
    attributes = _integration(changed)["configuration"]["data_attributes"]
    assert attributes["default_mailbox"]["hint"] == "Changed mailbox help."
    original = _generate(tmp_path / "original")
    assert (
        "archive"
        not in {f["id"]: f for f in _action(original, "delete_email")["fields"]}["delete_type"][
            "values"
        ]
    )


# -- running the scripts as the framework does -------------------------------------------------
def _field_text(value: Any) -> str:
    """A value as the framework's environment variable holds it (text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _run_script(code: str, fields: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess:
    """``python <script>`` with the fields as environment variables; stdin stays open and
    empty, so a script that waited on it would time out."""
    script = tmp_path / "script.py"
    script.write_text(code, encoding="utf-8")
    env = {k: os.environ[k] for k in BASE_ENV_KEYS if k in os.environ}
    env.update({k: _field_text(v) for k, v in fields.items()})
    read_end, write_end = os.pipe()
    try:
        process = subprocess.Popen(
            [sys.executable, str(script)],
            stdin=read_end,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        os.close(read_end)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        os.close(write_end)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _one_json_document(stdout: str) -> dict[str, Any]:
    assert stdout.endswith("\n") and stdout.count("\n") == 1, stdout[:500]
    return json.loads(stdout)


def _resolve(document: Any, path: str) -> list[Any]:
    """Values an OIF path points at; AssertionError when a name is missing from an object."""
    values = [document]
    for segment in path.split("."):
        found: list[Any] = []
        for value in values:
            if value is None:
                continue
            if segment == "[]":
                assert isinstance(value, list), f"{path}: {segment} is not a list"
                found += value
            else:
                assert isinstance(value, dict), f"{path}: {segment} is not in an object"
                assert segment.strip('"') in value, f"{path}: no {segment}"
                found.append(value[segment.strip('"')])
        values = found
    return values


def _connection(sandbox: Sandbox, backend: str, tmp_path: Path) -> dict[str, Any]:
    return sandbox.pack_config(backend=backend, output_dir=str(tmp_path / "evidence"))


@pytest.mark.sandbox
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("action_id", ACTION_IDS)
def test_every_generated_action_script_runs_as_the_framework_runs_it(
    action_id: str, backend: str, bundle: Path, fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    if action_id not in SCENARIO:
        pytest.fail(f"{action_id} has no working parameters in tests/recording.py SCENARIOS")
    definition = _action(bundle, action_id)
    parameters = SCENARIO[action_id].parameters
    fields = {**_connection(fresh_sandbox, backend, tmp_path), **parameters}
    process = _run_script(definition["script"]["code"], fields, tmp_path)
    assert (process.returncode, process.stderr) == (0, ""), process.stdout[-2000:]
    envelope = _one_json_document(process.stdout)
    assert envelope["ok"] is True and envelope["action"] == action_id
    assert envelope["meta"]["backend"] == backend
    output_schema = json.loads((ROOT / "schemas" / f"{action_id}.output.json").read_text())
    Draft202012Validator(output_schema, format_checker=FormatChecker()).validate(envelope["data"])
    if "mailbox" in parameters and "mailbox" in envelope["data"]:
        assert envelope["data"]["mailbox"] == parameters["mailbox"]  # the env var was honoured
    for output in definition["output"]:
        _resolve(envelope, output["path"])
    shown = [_resolve(envelope, c["value"]) for c in definition["table_view"]]
    assert any(v is not None for column in shown for v in column), definition["table_view"]


@pytest.mark.sandbox
@pytest.mark.parametrize("backend", BACKENDS)
def test_generated_test_connection_code_runs_as_the_framework_runs_it(
    backend: str, bundle: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    code = _integration(bundle)["script"]["test_connection_code"]
    ok = _run_script(code, _connection(sandbox, backend, tmp_path), tmp_path)
    assert (ok.returncode, ok.stderr) == (0, "")
    envelope = _one_json_document(ok.stdout)
    assert (envelope["ok"], envelope["action"]) == (True, "test_connection")
    wrong = {**_connection(sandbox, backend, tmp_path), "client_secret": "not-the-secret-42"}
    failed = _run_script(code, wrong, tmp_path)
    assert failed.returncode == 78
    assert failed.stderr.startswith("ERROR ") and failed.stderr.count("\n") == 1
    assert "Traceback" not in failed.stderr
    assert _one_json_document(failed.stdout)["ok"] is False
    assert "not-the-secret-42" not in failed.stdout + failed.stderr


@pytest.mark.sandbox
def test_script_fields_as_json_lists_and_arguments(
    bundle: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    code = _action(bundle, "search_emails_extended")["script"]["code"]
    fields = {
        **_connection(sandbox, "graph", tmp_path),
        "mailboxes": '["alice@contoso.com", "bob@contoso.com"]',
        "subject": "INV-20931",
    }
    listed = _run_script(code, fields, tmp_path)
    assert (listed.returncode, listed.stderr) == (0, "")
    searched = {m["mailbox"] for m in _one_json_document(listed.stdout)["data"]["mailboxes"]}
    assert searched == {"alice@contoso.com", "bob@contoso.com"}
    # Sumo's EnvDefault example also takes --field value; given both ways differently: 64.
    argv_code = code.replace(
        "run('search_emails_extended')", "run('search_emails_extended', ['--subject', 'other'])"
    )
    clash = _run_script(argv_code, fields, tmp_path)
    assert clash.returncode == 64
    assert "flag --subject" in clash.stderr and "environment variable subject" in clash.stderr


@pytest.mark.sandbox
def test_bad_field_is_exit_64_naming_it(bundle: Path, sandbox: Sandbox, tmp_path: Path) -> None:
    code = _action(bundle, "get_contacts")["script"]["code"]
    fields = {**_connection(sandbox, "graph", tmp_path), "limit": "many"}
    process = _run_script(code, fields, tmp_path)
    assert process.returncode == 64
    assert "limit" in process.stderr and "Traceback" not in process.stderr
    assert _one_json_document(process.stdout)["error"]["category"] == "input"


# -- the ingestion hook: a Daemon action -------------------------------------------------------
def _daemon(bundle: Path) -> dict[str, Any]:
    return yaml.safe_load((bundle / cloud_soar.daemon_file(MANIFEST)).read_text(encoding="utf-8"))


def test_daemon_definition_is_the_poll_with_severity_and_the_handed_on_checkpoint(
    bundle: Path,
) -> None:
    daemon = _daemon(bundle)
    assert daemon["type"] == "Daemon" and daemon["integration"] == MANIFEST.name
    ids = [f["id"] for f in daemon["fields"]]
    poll = [f.name for f in input_fields("poll_mailbox")]
    assert set(ids) == set(poll) | {"severity"} and ids[-1] == "checkpoint"
    severity = next(f for f in daemon["fields"] if f["id"] == "severity")
    assert severity["type"] == "list" and severity["default"] == "medium"
    paths = [o["path"] for o in daemon["output"]]
    assert {"[].kind", "[].name", "[].checkpoint", "[].source_id", "[].spf"} <= set(paths)


@pytest.mark.sandbox
@pytest.mark.parametrize("backend", BACKENDS)
def test_daemon_two_runs_in_a_row_lose_and_double_nothing(
    backend: str, bundle: Path, fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    """Run, mail arrives, run again with the checkpoint the rule hands on (an env variable)."""
    daemon = _daemon(bundle)
    fields = {
        **_connection(fresh_sandbox, backend, tmp_path),
        "mailbox": REPORTS,
        "since": SEEDED_SINCE,
        "limit": 1,
        "enrich": True,
        "severity": "high",
    }
    runs: list[list[dict[str, Any]]] = []
    for subject in ("reported between runs", None):
        handed_on = {"checkpoint": runs[-1][-1]["checkpoint"]} if runs else {}
        process = _run_script(daemon["script"]["code"], {**fields, **handed_on}, tmp_path)
        assert (process.returncode, process.stderr) == (0, ""), process.stdout[-2000:]
        assert process.stdout.count("\n") == 1
        objects = json.loads(process.stdout)
        incidents = [o for o in objects if o["kind"] == "incident"]
        for output in daemon["output"]:  # the checkpoint object has kind, checkpoint, count
            _resolve(incidents if output["path"] != "[].count" else objects[-1:], output["path"])
        runs.append(objects)
        if subject:
            deliver_report(fresh_sandbox, subject)
    first, second = runs
    assert [o["kind"] for o in first] == ["incident", "incident", "checkpoint"]
    assert [o["internet_message_id"] for o in first[:2]] == SEEDED_REPORTS
    assert first[0]["reported_sender"] == "it-helpdesk@contoso-support.net"
    assert [(o["kind"], o.get("subject")) for o in second] == [
        ("incident", "reported between runs"),
        ("checkpoint", None),
    ]
    incidents = [o for o in first + second if o["kind"] == "incident"]
    assert len({o["source_id"] for o in incidents}) == 3
    assert {o["severity"] for o in incidents} == {"high"}
    assert len({o["checkpoint"] for o in first}) == 1 and first[-1]["count"] == 2
    # Nothing new: only the checkpoint object, still handing a checkpoint on.
    again = _run_script(
        daemon["script"]["code"], {**fields, "checkpoint": second[-1]["checkpoint"]}, tmp_path
    )
    assert again.returncode == 0 and json.loads(again.stdout)[0]["kind"] == "checkpoint"
    assert json.loads(again.stdout)[0]["checkpoint"]


@pytest.mark.sandbox
def test_daemon_bad_severity_is_exit_64_naming_it(
    bundle: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    fields = {**_connection(sandbox, "graph", tmp_path), "severity": "urgent"}
    process = _run_script(_daemon(bundle)["script"]["code"], fields, tmp_path)
    assert process.returncode == 64, process.stderr
    assert "severity" in process.stderr and "Traceback" not in process.stderr
    assert fields["client_secret"] not in process.stdout + process.stderr
