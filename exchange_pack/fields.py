"""The pack's inputs and outputs as flat field lists, read from the JSON Schemas.

One reading of ``schemas/`` that every generated shape shares: ``--help`` text, the README
reference and each platform bundle (Cloud SOAR fields, XSOAR arguments and context paths,
Splunk SOAR parameters and data paths, StackStorm parameters).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .inputs import resolve_ref, secret_keys_of
from .manifest import load_schema

FieldType = Literal["string", "integer", "number", "boolean", "array", "object", "null"]
_MAX_DEPTH = 6  # output schemas nest a few levels (message -> attachments -> file)


class InputField(BaseModel):
    """One action parameter or connection key, as a form field."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: FieldType  # the JSON type (``null`` left out); ``array`` with ``item_type``
    item_type: FieldType | None = None
    required: bool = False
    default: Any = None
    has_default: bool = False
    allowed: list[Any] | None = None  # enum values (of the items, for an array)
    description: str = ""
    secret: bool = False
    format: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None

    @property
    def is_array(self) -> bool:
        """Whether the field takes a list (comma-separated or JSON when given as text)."""
        return self.type == "array"


class OutputPath(BaseModel):
    """One leaf or list of an action's ``data``, as a dotted path (``messages.subject``)."""

    model_config = ConfigDict(frozen=True)

    path: str  # dotted, lists not marked: ``attachments.file.sha256``
    type: FieldType
    in_list: bool = False  # some segment of the path is a list
    description: str = ""
    marked: str = ""  # the path with ``[]`` after each list: ``attachments[].file.sha256``
    format: str | None = None  # the JSON Schema format of a string (``date-time``, ``email``)

    @property
    def segments(self) -> list[str]:
        """The path's names."""
        return self.path.split(".")


def _json_types(schema: dict[str, Any], root: dict[str, Any]) -> list[str]:
    schema = resolve_ref(schema, root)
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return list(declared)
    found: list[str] = []
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key, []) or []:
            found += [t for t in _json_types(option, root) if t not in found]
    if not found and "enum" in schema:
        found = ["string"]
    return found


def _main_type(schema: dict[str, Any], root: dict[str, Any]) -> FieldType:
    types = [t for t in _json_types(schema, root) if t != "null"]
    return types[0] if types else "string"  # type: ignore[return-value]


def _non_null_branch(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    schema = resolve_ref(schema, root)
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key, []) or []:
            option = resolve_ref(option, root)
            if [t for t in _json_types(option, root) if t != "null"]:
                return option
    return schema


def _input_field(name: str, prop: dict[str, Any], root: dict[str, Any], required: bool, secrets):
    prop = resolve_ref(prop, root)
    kind = _main_type(prop, root)
    item_type = None
    allowed = prop.get("enum")
    if kind == "array":
        items = resolve_ref(prop.get("items", {}), root)
        item_type = _main_type(items, root)
        allowed = items.get("enum", allowed)
    if allowed is not None:
        allowed = [v for v in allowed if v is not None]
    return InputField(
        name=name,
        type=kind,
        item_type=item_type,
        required=required,
        default=prop.get("default"),
        has_default="default" in prop,
        allowed=allowed,
        description=" ".join(str(prop.get("description", "")).split()),
        secret=name in secrets,
        format=prop.get("format"),
        minimum=prop.get("minimum"),
        maximum=prop.get("maximum"),
        max_length=prop.get("maxLength"),
    )


def fields_of(schema: dict[str, Any]) -> list[InputField]:
    """The top-level properties of an object schema as input fields, in schema order."""
    required = set(schema.get("required", []))
    secrets = secret_keys_of(schema)
    return [
        _input_field(name, prop, schema, name in required, secrets)
        for name, prop in schema.get("properties", {}).items()
    ]


def input_fields(action_id: str) -> list[InputField]:
    """An action's parameters, from ``schemas/<id>.input.json``."""
    return fields_of(load_schema(f"{action_id}.input"))


def connection_fields() -> list[InputField]:
    """The connection config keys, from ``schemas/connection.json`` (secrets marked)."""
    return fields_of(load_schema("connection"))


def output_paths(action_id: str) -> list[OutputPath]:
    """Every leaf of an action's ``data`` (and each list of scalars) as a dotted path."""
    return schema_paths(load_schema(f"{action_id}.output"))


def schema_paths(schema: dict[str, Any]) -> list[OutputPath]:
    """Every leaf (and each list of scalars) of an object schema as a dotted path."""
    found: list[OutputPath] = []
    _walk(schema, schema, [], False, found, 0)
    return found


def _walk(
    schema: dict[str, Any],
    root: dict[str, Any],
    prefix: list[str],
    in_list: bool,
    found: list[OutputPath],
    depth: int,
) -> None:
    branch = _non_null_branch(schema, root)
    kind = _main_type(branch, root)
    if kind == "object" and "properties" in branch and depth < _MAX_DEPTH:
        for name, prop in branch["properties"].items():
            _walk(prop, root, [*prefix, name], in_list, found, depth + 1)
        return
    if kind == "array" and depth < _MAX_DEPTH:
        items = _non_null_branch(branch.get("items", {}), root)
        if _main_type(items, root) == "object" and "properties" in items:
            marked = [*prefix[:-1], prefix[-1] + "[]"] if prefix else ["[]"]
            _walk(items, root, marked, True, found, depth + 1)
            return
    if prefix:
        description = resolve_ref(schema, root).get("description") or branch.get("description")
        marked = ".".join(prefix) + ("[]" if kind == "array" else "")
        found.append(
            OutputPath(
                path=marked.replace("[]", ""),
                type=kind,
                in_list=in_list or kind == "array",
                description=" ".join(str(description or "").split()),
                marked=marked,
                format=branch.get("format"),
            )
        )


def table_column_path(column: str) -> str:
    """A manifest ``table_columns`` entry (``attachments[].file.sha256``) as a dotted path."""
    return column.replace("[]", "")
