"""``exchange-pack validate``: the manifest, the schemas, the scripts and the changelog agree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .errors import ExchangePackError
from .manifest import (
    BINDING_ACTION_IDS,
    ActionSpec,
    Manifest,
    changelog_version,
    load_action_module,
    load_manifest,
    pack_root,
    schema_path,
)

CONTRACT_SCHEMAS = ("connection", "envelope", "integration")
# SOAR engines pass flat inputs: scalars, enums and lists of scalars, never objects.
_FLAT_TYPES = {"string", "integer", "number", "boolean", "null"}


def _schema_problems(path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [f"{path.name}: missing"]
    except ValueError as exc:
        return None, [f"{path.name}: not valid JSON ({exc})"]
    try:
        Draft202012Validator.check_schema(document)
    except SchemaError as exc:
        return None, [f"{path.name}: not a valid JSON Schema ({exc.message})"]
    if document.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
        return document, [f"{path.name}: $schema must be draft 2020-12"]
    return document, []


def _types_of(prop: dict[str, Any]) -> set[str]:
    declared = prop.get("type")
    if isinstance(declared, str):
        return {declared}
    return set(declared) if isinstance(declared, list) else set()


def _flat_input_problems(action_id: str, schema: dict[str, Any]) -> list[str]:
    problems = []
    if schema.get("type") != "object":
        problems.append(f"{action_id}.input.json: top-level type must be object")
    for name, prop in schema.get("properties", {}).items():
        types = _types_of(prop)
        item_types = _types_of(prop.get("items", {})) if "array" in types else set()
        if types - _FLAT_TYPES - {"array"} or item_types - _FLAT_TYPES:
            problems.append(f"{action_id}.input.json: parameter {name} is not flat")
    return problems


def _table_column_problems(spec: ActionSpec, output: dict[str, Any]) -> list[str]:
    fields = set(output.get("properties", {}))
    return [
        f"{spec.id}: table column {column!r} names no field of the output schema"
        for column in spec.table_columns
        if column.split("[]", 1)[0].split(".", 1)[0] not in fields
    ]


def _action_problems(spec: ActionSpec, root: Path) -> list[str]:
    problems = []
    expected = {
        "script": f"actions/{spec.id}.py",
        "input_schema": f"schemas/{spec.id}.input.json",
        "output_schema": f"schemas/{spec.id}.output.json",
    }
    for field, path in expected.items():
        if getattr(spec, field) != path:
            problems.append(f"{spec.id}: {field} must be {path}")
    unknown_backends = set(spec.permissions) - set(spec.backends) - {"ews_on_premises"}
    if unknown_backends:
        problems.append(
            f"{spec.id}: permissions for unsupported backends {sorted(unknown_backends)}"
        )
    try:
        module = load_action_module(spec, root)
    except ExchangePackError as exc:
        problems.append(exc.message)
    except Exception as exc:  # an import failure of a script is what this check reports
        problems.append(f"{spec.id}: {spec.script} fails to import ({type(exc).__name__}: {exc})")
    else:
        for function in ("run", "main"):
            if not callable(getattr(module, function, None)):
                problems.append(f"{spec.id}: {spec.script} does not define {function}()")
    input_schema, found = _schema_problems(root / spec.input_schema)
    problems += found
    if input_schema is not None:
        problems += _flat_input_problems(spec.id, input_schema)
    output_schema, found = _schema_problems(root / spec.output_schema)
    problems += found
    if output_schema is not None:
        problems += _table_column_problems(spec, output_schema)
    return problems


def _manifest_problems(manifest: Manifest, root: Path) -> list[str]:
    problems = []
    ids = [spec.id for spec in manifest.actions]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"duplicate action ids: {', '.join(duplicates)}")
    missing = [i for i in BINDING_ACTION_IDS if i not in ids]
    extra = [i for i in ids if i not in BINDING_ACTION_IDS]
    if missing:
        problems.append(f"integration.yaml lacks the binding actions: {', '.join(missing)}")
    if extra:
        problems.append(
            f"integration.yaml has actions outside the binding list: {', '.join(extra)}"
        )
    if manifest.connection.get("test_action") not in ids:
        problems.append("connection.test_action names no action")
    released = changelog_version(root)
    if released != manifest.version:
        problems.append(
            f"integration.yaml version {manifest.version} != newest CHANGELOG.md release {released}"
        )
    for kind, logo in manifest.logos.items():
        if not (root / logo).is_file():
            problems.append(f"logo {kind} {logo} does not exist")
    return problems


def check_pack(root: Path | None = None) -> list[str]:
    """Every disagreement between manifest, schemas, scripts and changelog (empty: all good)."""
    root = root or pack_root()
    problems: list[str] = []
    for name in CONTRACT_SCHEMAS:
        problems += _schema_problems(schema_path(name, root))[1]
    try:
        manifest = load_manifest(root)
    except ExchangePackError as exc:
        return [*problems, exc.message]
    problems += _manifest_problems(manifest, root)
    for spec in manifest.actions:
        problems += _action_problems(spec, root)
    return problems
