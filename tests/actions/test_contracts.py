"""Manifest ↔ scripts ↔ schemas ↔ output models agree; every schema is valid draft 2020-12."""

from __future__ import annotations

import ast
import json
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from exchange_pack.actions.connection import missing_permissions
from exchange_pack.actions.outputs import output_models
from exchange_pack.manifest import BINDING_ACTION_IDS, changelog_version, load_manifest

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
BINDING_PARAMETERS = {
    "mailbox",
    "mailboxes",
    "all_mailboxes",
    "message_id",
    "internet_message_id",
    "folder",
    "destination_folder",
    "destination_mailbox",
    "attachment_ids",
    "attachment_names",
    "delete_type",
    "dry_run",
    "is_junk",
    "move",
    "block_sender",
    "to",
    "cc",
    "bcc",
    "subject",
    "body",
    "body_type",
    "attachment_paths",
    "reply_all",
    "limit",
    "cursor",
}
# Binding names whose meaning is the same wherever they appear: one schema fragment each.
# (limit bounds differ per action; subject and body are filters in search; to/cc of a reply
# are extra recipients; test_connection's mailbox is the one probed; folder is where search
# looks, all folders by default, and the one folder poll_mailbox polls, the Inbox by default.)
SHARED_FRAGMENTS = BINDING_PARAMETERS - {
    "limit",
    "to",
    "cc",
    "mailbox",
    "subject",
    "body",
    "folder",
}
MESSAGE_KEYS = {"mailbox", "id", "internet_message_id", "subject"}


def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def manifest():
    return load_manifest(ROOT)


def test_manifest_lists_exactly_the_binding_actions(manifest) -> None:
    assert [a.id for a in manifest.actions] == list(BINDING_ACTION_IDS)
    assert manifest.version == changelog_version(ROOT)
    assert manifest.connection["test_action"] == "test_connection"
    for logo in manifest.logos.values():
        assert (ROOT / logo).is_file()


@pytest.mark.parametrize("action_id", BINDING_ACTION_IDS)
def test_manifest_entry_points_at_the_right_files(manifest, action_id: str) -> None:
    spec = manifest.action(action_id)
    assert spec.script == f"actions/{action_id}.py"
    assert spec.input_schema == f"schemas/{action_id}.input.json"
    assert spec.output_schema == f"schemas/{action_id}.output.json"
    assert set(spec.backends) == {"graph", "ews"}
    assert spec.permissions["ews"] == ([] if spec.kind == "test" else ["full_access_as_app"])
    assert spec.read_only != (spec.kind in ("contain", "notify"))
    if spec.destructive:
        assert "dry_run" in schema(f"{action_id}.input")["properties"]
    union = manifest.connection["permissions"]["graph"]
    assert missing_permissions(spec.permissions["graph"], union) == []


@pytest.mark.parametrize("action_id", BINDING_ACTION_IDS)
def test_script_is_thin_and_runs_its_own_action(action_id: str) -> None:
    source = (ROOT / "actions" / f"{action_id}.py").read_text()
    tree = ast.parse(source)
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert {"run", "main"} <= set(functions)
    assert [a.arg for a in functions["run"].args.args] == ["params", "config", "ctx"]
    assert f'ACTION_ID = "{action_id}"' in source
    assert "run_action(ACTION_ID, run)" in source
    assert ast.get_docstring(tree)


@pytest.mark.parametrize("path", sorted(SCHEMAS.glob("*.*put.json")), ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12(path: Path) -> None:
    document = json.loads(path.read_text())
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(document)
    assert document["description"]


@pytest.mark.parametrize("action_id", BINDING_ACTION_IDS)
def test_input_schema_is_flat_and_strict(action_id: str) -> None:
    document = schema(f"{action_id}.input")
    assert document["type"] == "object"
    assert document["additionalProperties"] is False
    for name, prop in document["properties"].items():
        assert prop.get("description"), name
        kind = prop["type"]
        assert kind in ("string", "integer", "number", "boolean", "array"), name
        if kind == "array":
            assert prop["items"]["type"] == "string", name
        if kind in ("integer", "number"):
            assert "minimum" in prop and "maximum" in prop, name
        if kind == "string" and "enum" not in prop and "format" not in prop:
            assert "maxLength" in prop, name
    for rule in document.get("anyOf", []):
        assert set(rule["required"]) <= set(document["properties"])


def test_binding_parameters_mean_the_same_everywhere() -> None:
    seen: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for action_id in BINDING_ACTION_IDS:
        for name, prop in schema(f"{action_id}.input")["properties"].items():
            used.add(name)
            if name in SHARED_FRAGMENTS:
                assert seen.setdefault(name, prop) == prop, f"{action_id}.{name} differs"
    assert used >= BINDING_PARAMETERS


@pytest.mark.parametrize("action_id", BINDING_ACTION_IDS)
def test_output_schema_mirrors_the_output_model(action_id: str) -> None:
    document = schema(f"{action_id}.output")
    compare_model(output_models()[action_id], document, document, action_id)


def test_every_message_in_an_output_carries_its_ids() -> None:
    for action_id in BINDING_ACTION_IDS:
        for name, definition in schema(f"{action_id}.output").get("$defs", {}).items():
            if name in ("message_ref", "message_summary"):
                assert set(definition["required"]) >= MESSAGE_KEYS, (action_id, name)
    search = schema("search_emails_extended.output")
    assert search["properties"]["messages"]["items"] == {"$ref": "#/$defs/message_summary"}


def compare_model(model: type[BaseModel], node: dict, root: dict, where: str) -> None:
    """The schema object lists exactly the model's (aliased) fields, all required, and each
    nested model is compared the same way."""
    node = resolve(node, root)
    assert node.get("additionalProperties") is False, where
    fields = {(f.alias or n): f for n, f in model.model_fields.items()}
    assert set(node["properties"]) == set(fields), where
    assert set(node["required"]) == set(fields), where
    for name, field in fields.items():
        nested = nested_model(field.annotation)
        if nested is None:
            continue
        prop = resolve(node["properties"][name], root)
        if prop.get("type") == "array" or "items" in prop:
            prop = resolve(prop["items"], root)
        compare_model(nested, prop, root, f"{where}.{name}")


def resolve(node: dict, root: dict) -> dict:
    if "anyOf" in node:
        options = [o for o in node["anyOf"] if o != {"type": "null"}]
        assert len(options) == 1
        node = options[0]
    if "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = nested_model(arg)
            if found is not None:
                return found
    return None
