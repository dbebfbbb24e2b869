"""JSON Schema checks of what an action prints, fast enough for 10,000 results.

jsonschema walks every keyword of every item in Python: at ``max_results`` 10,000 the output
check took ~0.6 ms per message, most of the time an action spent after its last answer. The
same draft 2020-12 schema compiled by jsonschema-rs checks every item (formats included) in
microseconds. Only a document it finds invalid goes through jsonschema as well, which names
the problems as before and has the last word (paths and rule names only, never values). The
first check is ``manifest.schema_is_valid``, which the inputs and the manifest use too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .manifest import schema_is_valid, schema_validator

if TYPE_CHECKING:  # jsonschema is imported only to describe a document found invalid
    from jsonschema import Draft202012Validator


def schema_errors(name: str, instance: Any) -> list[str]:
    """The problems of ``instance`` against ``schemas/<name>.json`` (empty when valid)."""
    if schema_is_valid(name, instance):
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
