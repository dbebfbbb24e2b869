"""``<action> --help``: the usage text, generated from the action's input schema."""

from __future__ import annotations

import json
import textwrap

from .fields import InputField, input_fields
from .inputs import CONFIG_FILE_ENV, ENV_PREFIX, PRECEDENCE
from .manifest import load_schema

_WIDTH = 100
_INDENT = " " * 6


def _type_text(field: InputField) -> str:
    if field.is_array:
        return f"list of {field.item_type or 'string'}"
    return field.type + (f", {field.format}" if field.format else "")


def _field_lines(field: InputField) -> list[str]:
    traits = [_type_text(field), "required" if field.required else "optional"]
    if field.has_default:
        traits.append(f"default {json.dumps(field.default)}")
    if field.minimum is not None or field.maximum is not None:
        low = "" if field.minimum is None else f"{field.minimum:g}"
        high = "" if field.maximum is None else f"{field.maximum:g}"
        traits.append(f"range {low}..{high}")
    lines = [f"  --{field.name} ({'; '.join(traits)})"]
    if field.allowed:
        lines += textwrap.wrap(
            "one of: " + ", ".join(str(v) for v in field.allowed),
            _WIDTH,
            initial_indent=_INDENT,
            subsequent_indent=_INDENT,
        )
    if field.description:
        lines += textwrap.wrap(
            field.description, _WIDTH, initial_indent=_INDENT, subsequent_indent=_INDENT
        )
    return lines


def help_text(action_id: str) -> str:
    """Usage, every parameter with its type, default, allowed values, and the input sources."""
    schema = load_schema(f"{action_id}.input")
    fields = input_fields(action_id)
    lines = [
        f"usage: {action_id} [--config FILE] [--pretty] [--verbose|--debug] [--<parameter> VALUE]",
        '       or one JSON document on stdin: {"config": {...}, "parameters": {...}}',
        "",
        *textwrap.wrap(schema.get("description", ""), _WIDTH),
        "",
        "parameters:" if fields else "parameters: none",
    ]
    for field in fields:
        lines += _field_lines(field)
    lines += [
        "",
        "Each parameter may also come from an environment variable named by its id (mailbox=...).",
        f"Precedence: {', '.join(PRECEDENCE)}; one parameter given two ways with different",
        "values is refused (exit 64). Lists: repeat the flag, or give a JSON or comma list.",
        f"Connection config: stdin, --config FILE / {CONFIG_FILE_ENV}, or variables named by "
        f"the key (tenant_id or {ENV_PREFIX}TENANT_ID).",
        "Secrets (client_secret, certificate_pem, password) are never taken as flags.",
    ]
    return "\n".join(lines) + "\n"
