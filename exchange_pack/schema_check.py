"""JSON Schema checks of what an action prints, fast enough for 10,000 results.

jsonschema walks every keyword of every item in Python: at ``max_results`` 10,000 the output
check took ~0.6 ms per message, most of the time an action spent after its last answer. The
same draft 2020-12 schema compiled by jsonschema-rs checks every item (formats included) in
microseconds. Only a document it finds invalid goes through jsonschema as well, which names
the problems as before and has the last word (paths and rule names only, never values). The
inputs are checked the same way, so an action process does not import jsonschema (~70 ms of its
start) unless something is wrong.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from .manifest import load_schema, schema_path, schema_validator

if TYPE_CHECKING:  # jsonschema is imported only to describe a document found invalid
    from jsonschema import Draft202012Validator


@functools.lru_cache(maxsize=64)
def _compiled(name: str, path: Path) -> Any:
    return jsonschema_rs.validator_for(load_schema(name), validate_formats=True)


def is_valid(name: str, instance: Any) -> bool:
    """True when ``instance`` matches ``schemas/<name>.json`` (jsonschema-rs, formats checked).
    False means "ask jsonschema", which has the last word and names the problems."""
    return bool(_compiled(name, schema_path(name)).is_valid(instance))


def schema_errors(name: str, instance: Any) -> list[str]:
    """The problems of ``instance`` against ``schemas/<name>.json`` (empty when valid)."""
    if is_valid(name, instance):
        return []
    return describe_errors(schema_validator(name), instance)


def describe_errors(validator: Draft202012Validator, instance: Any) -> list[str]:
    """jsonschema's findings, sorted by path; a value's content is never quoted."""
    return [
        f"{e.json_path}: {e.message}"
        if e.validator in ("required", "additionalProperties")
        else f"{e.json_path}: violates '{e.validator}'"
        for e in sorted(validator.iter_errors(instance), key=lambda e: e.json_path)
    ]
