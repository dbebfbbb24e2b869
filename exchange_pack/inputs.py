"""The action contract's input side: stdin JSON, ``--flags``, environment and ``--config`` file.

Everything is validated against the JSON Schemas before any network call. Strings (from flags,
environment variables, or SOAR engines that pass every field as text) are coerced by the schema
first: ``"true"`` to a boolean, ``"5"`` to a number, a JSON or comma-separated list to an array.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import yaml
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from . import edge
from .config import SECRET_KEYS, ConnectionConfig
from .envelope import url_secrets, without_userinfo
from .errors import ConfigError, InputError
from .manifest import load_schema, schema_is_valid, schema_validator

if TYPE_CHECKING:
    from jsonschema import ValidationError

ENV_PREFIX = "EXCHANGE_"
CONFIG_FILE_ENV = "EXCHANGE_CONFIG"
LOG_LEVEL_ENV = "EXCHANGE_LOG_LEVEL"
_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})
_INTEGER = re.compile(r"^[+-]?\d+$")
_MAX_LISTED = 30  # allowed values / parameter names shown in a message
SOURCE_STDIN = "stdin"
SOURCE_FLAG = "flag"
SOURCE_ENV = "environment"
SOURCE_PREFIXED_ENV = "environment (EXCHANGE_ prefix)"
PRECEDENCE = ("stdin JSON", "--flags", "environment variables")
_CONFIG_HINT = "Fix the connection settings (see schemas/connection.json)."


class ParsedArgs(BaseModel):
    """The command line of an action: parameter flags and the runtime's own options."""

    model_config = ConfigDict(frozen=True)

    values: dict[str, str | list[str]] = {}
    config_file: str | None = None
    log_level: str | None = None
    help: bool = False
    pretty: bool = False


class RawInput(BaseModel):
    """Config and parameters as received, before coercion and validation."""

    config: dict[str, Any]
    parameters: dict[str, Any]
    source: str  # where the input came from, in words ("stdin", "adapter", ...)
    sources: dict[str, str] = {}  # parameter -> where it came from


# -- command line ----------------------------------------------------------------------------
def parse_argv(argv: Sequence[str]) -> ParsedArgs:
    """``--<id> value`` / ``--<id>=value`` pairs plus ``--config``, ``--verbose``, ``--debug``."""
    values: dict[str, str | list[str]] = {}
    config_file = log_level = None
    wants_help = pretty = False
    items = list(argv)
    index = 0
    while index < len(items):
        token = items[index]
        index += 1
        if token in ("-h", "--help"):
            wants_help = True
            continue
        if token in ("-v", "--verbose"):
            log_level = "INFO"
            continue
        if token == "--debug":
            log_level = "DEBUG"
            continue
        if token == "--pretty":
            pretty = True
            continue
        if not token.startswith("--") or token == "--":
            raise InputError(
                f"Unexpected argument {token!r}.",
                hint="Pass parameters as --name value, or a JSON document on stdin.",
            )
        name, has_value, value = token[2:].partition("=")
        name = name.replace("-", "_")
        if not has_value:
            if index < len(items) and not items[index].startswith("--"):
                value = items[index]
                index += 1
            else:
                value = "true"  # a bare switch such as --dry_run
        if name == "config":
            config_file = value
            continue
        if name in values:  # a repeated flag builds a list: --to a --to b
            previous = values[name]
            values[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            values[name] = value
    return ParsedArgs(
        values=values,
        config_file=config_file,
        log_level=log_level,
        help=wants_help,
        pretty=pretty,
    )


def _refuse_secret_flags(values: Mapping[str, str | list[str]]) -> None:
    with_userinfo = [
        k for k, v in values.items() if url_secrets({k: v} if isinstance(v, str) else {})
    ]
    secret = sorted(set(values) & SECRET_KEYS) + with_userinfo
    if secret:
        key = secret[0]
        what = "is a secret" if key in SECRET_KEYS else "holds a secret (user:password@)"
        raise InputError(
            f"--{key} {what} and is not accepted as a command-line flag "
            "(the process list shows flags to every user).",
            hint=f"Pass {key} on stdin, in the environment ({key} or {ENV_PREFIX}{key.upper()}) "
            "or in the --config file.",
        )


# -- config from the environment and a file ----------------------------------------------------
def config_keys() -> list[str]:
    """The connection config's keys, from ``schemas/connection.json``."""
    return list(load_schema("connection").get("properties", {}))


def config_from_environ(environ: Mapping[str, str]) -> list[tuple[str, dict[str, str]]]:
    """Config keys from ``tenant_id``-style and ``EXCHANGE_TENANT_ID``-style variables.

    Two sources (each named by its variable in a conflict message); blank variables count as
    not given.
    """
    plain: dict[str, str] = {}
    prefixed: dict[str, str] = {}
    for key in config_keys():
        if environ.get(key, "").strip():
            plain[key] = environ[key]
        if environ.get(f"{ENV_PREFIX}{key.upper()}", "").strip():
            prefixed[key] = environ[f"{ENV_PREFIX}{key.upper()}"]
    return [(SOURCE_ENV, plain), (SOURCE_PREFIXED_ENV, prefixed)]


def config_from_file(path_text: str) -> dict[str, Any]:
    """A JSON or YAML file holding the config keys (flat, or under a ``config`` key)."""
    path = Path(path_text).expanduser()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"Config file {path} cannot be read ({exc.strerror}).",
            hint=f"Check --config / {CONFIG_FILE_ENV}.",
        ) from None
    except yaml.YAMLError:
        raise ConfigError(f"Config file {path} is neither JSON nor YAML.") from None
    if isinstance(document, dict) and isinstance(document.get("config"), dict):
        document = document["config"]
    if not isinstance(document, dict):
        raise ConfigError(f"Config file {path} must hold a mapping of connection keys.")
    return document


# -- reading -------------------------------------------------------------------------------
def _read_stdin_document(stdin: TextIO | None) -> dict[str, Any] | None:
    if stdin is None or stdin.closed:
        return None
    try:
        if stdin.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    try:
        text = stdin.read()
    except UnicodeDecodeError:
        raise InputError("stdin is not UTF-8 text.") from None
    if not text.strip():
        return None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(
            f"stdin is not valid JSON (line {getattr(exc, 'lineno', '?')}).",
            hint='Send one JSON object: {"config": {...}, "parameters": {...}}.',
        ) from None
    edge.check_document_depth(document, "stdin")
    if not isinstance(document, dict):
        raise InputError('stdin must hold a JSON object: {"config": {...}, "parameters": {...}}.')
    unknown = sorted(set(document) - {"config", "parameters"})
    if unknown:
        raise InputError(
            f"Unknown top-level key(s) on stdin: {', '.join(unknown)}.",
            hint='The document has two keys: "config" and "parameters".',
        )
    for part in ("config", "parameters"):
        if document.get(part) is not None and not isinstance(document[part], dict):
            raise InputError(f'stdin "{part}" must be a JSON object.')
    return document


def _where(source: str, key: str) -> str:
    """Where a value came from, in words: ``stdin``, ``flag --x``, ``environment variable x``."""
    if source == SOURCE_FLAG:
        return f"flag --{key}"
    if source == SOURCE_ENV:
        return f"environment variable {key}"
    if source == SOURCE_PREFIXED_ENV:
        return f"environment variable {ENV_PREFIX}{key.upper()}"
    return "stdin JSON" if source == SOURCE_STDIN else source


def merge_sources(
    sources: Sequence[tuple[str, Mapping[str, Any]]],
    schema: Mapping[str, Any],
    noun: str,
    error: type[InputError] | type[ConfigError],
) -> tuple[dict[str, Any], dict[str, str]]:
    """One mapping from several sources, checked key by key after coercion by ``schema``.

    A key given by more than one source must have the same value in each (exit 64/78 naming
    both places otherwise), so no input is ever silently dropped; ``sources`` lists them in
    precedence order and the first one that gives a key is named as its source.
    """
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for source, values in sources:
        for key, value in coerce(values, schema).items():
            if key not in merged:
                merged[key], origin[key] = value, _where(source, key)
            elif merged[key] != value:
                raise error(
                    f"{noun} '{key}' is given two ways with different values: "
                    f"{origin[key]} and {_where(source, key)}.",
                    hint=f"Give '{key}' one way only (precedence: {', '.join(PRECEDENCE)}).",
                )
    return merged, origin


def merge_parameter_sources(
    action_id: str, sources: Sequence[tuple[str, Mapping[str, Any]]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """An action's parameters from several sources (see :func:`merge_sources`)."""
    return merge_sources(sources, load_schema(f"{action_id}.input"), "parameter", InputError)


def parameters_from_environ(environ: Mapping[str, str], names: set[str]) -> dict[str, str]:
    """Variables named exactly by a parameter id (Cloud SOAR); a blank one counts as not given."""
    return {name: environ[name] for name in sorted(names) if environ.get(name, "").strip()}


def read_input(
    args: ParsedArgs, stdin: TextIO | None, environ: Mapping[str, str], action_id: str
) -> RawInput:
    """Config and parameters from every source the contract names, merged (see README).

    Parameters: stdin JSON ``parameters``, ``--flags``, and environment variables named by the
    parameter id. Config: the ``--config`` / ``EXCHANGE_CONFIG`` file as the base, overridden
    by stdin JSON ``config``, environment variables (``tenant_id`` or ``EXCHANGE_TENANT_ID``)
    and non-secret ``--flags``. A key given two ways with different values is refused.
    """
    document = _read_stdin_document(stdin)
    _refuse_secret_flags(args.values)
    schema = load_schema(f"{action_id}.input")
    parameter_names = set(schema.get("properties", {}))
    keys = set(config_keys())
    # A flag is a parameter, or a non-secret config key the action has no parameter for.
    flag_config = {k: v for k, v in args.values.items() if k in keys and k not in parameter_names}
    flag_parameters = {k: v for k, v in args.values.items() if k not in flag_config}
    stdin_parameters = dict((document or {}).get("parameters") or {})
    env_parameters = parameters_from_environ(environ, parameter_names)
    parameters, origin = merge_parameter_sources(
        action_id,
        [
            (SOURCE_STDIN, stdin_parameters),
            (SOURCE_FLAG, flag_parameters),
            (SOURCE_ENV, env_parameters),
        ],
    )
    config_file = args.config_file or environ.get(CONFIG_FILE_ENV)
    base = config_from_file(config_file) if config_file else {}
    connection = load_schema("connection")
    config, _ = merge_sources(
        [
            (SOURCE_STDIN, dict((document or {}).get("config") or {})),
            (SOURCE_FLAG, flag_config),
            *config_from_environ(environ),
        ],
        connection,
        "config key",
        ConfigError,
    )
    config = {**coerce(base, connection), **config}
    return RawInput(
        config=config,
        parameters=parameters,
        source="stdin" if document is not None else "command line",
        sources=origin,
    )


# -- coercion ------------------------------------------------------------------------------
def resolve_ref(schema: Any, root: Mapping[str, Any]) -> dict[str, Any]:
    """Follows a local ``$ref`` (``#/$defs/...``)."""
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 10:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            break
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = target
        seen += 1
    return schema if isinstance(schema, dict) else {}


def _types(schema: Mapping[str, Any], root: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    found: set[str] = set()
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key, []) or []:
            found |= _types(resolve_ref(option, root), root)
    if "enum" in schema:
        found |= {_json_type(v) for v in schema["enum"]}
    if "const" in schema:
        found.add(_json_type(schema["const"]))
    return found


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def _items_schema(schema: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    items = resolve_ref(schema.get("items", {}), root)
    if not items:
        for key in ("anyOf", "oneOf"):
            for option in schema.get(key, []) or []:
                option = resolve_ref(option, root)
                if "array" in _types(option, root):
                    return resolve_ref(option.get("items", {}), root)
    return items


_NO_VALUE = object()


def coerce_value(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    """A string turned into the schema's type when it unambiguously is one; else unchanged."""
    schema = resolve_ref(schema, root)
    types = _types(schema, root)
    if isinstance(value, float) and value.is_integer() and "number" not in types:
        return int(value) if "integer" in types else value  # JSON's 5.0 for an integer: 5
    if isinstance(value, list) and "array" in types:
        items = _items_schema(schema, root)
        return [coerce_value(v, items, root) for v in value]
    if not isinstance(value, str) or not types or "string" in types:
        return value
    text = value.strip()
    if text == "" and "null" in types:
        return None
    if text == "":
        return _NO_VALUE  # an optional field a SOAR form left blank
    if "boolean" in types and text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    if "integer" in types and _INTEGER.match(text):
        return int(text)
    if "number" in types:
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            return int(number) if number.is_integer() and "integer" in types else number
    if "null" in types and text.lower() == "null":
        return None
    if "array" in types:
        items = _items_schema(schema, root)
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except (ValueError, RecursionError):
                raise InputError(f"{text[:40]!r} is not a valid JSON list.") from None
        else:
            parsed = [part.strip() for part in text.split(",") if part.strip()]
        return [coerce_value(v, items, root) for v in parsed]
    if "object" in types and text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            return value
    return value


def coerce(values: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Coerces each top-level value by its property schema (null and blank values dropped)."""
    properties = schema.get("properties", {})
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue  # SOAR engines send null for a field left empty: the same as not given
        if key in properties:
            try:
                value = coerce_value(value, properties[key], schema)
            except InputError as exc:
                raise InputError(f"'{key}': {exc.message}", hint=exc.hint) from None
            if value is _NO_VALUE:
                continue
        out[key] = value
    return out


def apply_defaults(values: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Adds each absent top-level property's schema ``default``."""
    out = dict(values)
    for key, prop in schema.get("properties", {}).items():
        prop = resolve_ref(prop, schema)
        if key not in out and "default" in prop:
            out[key] = prop["default"]
    return out


# -- validation messages -----------------------------------------------------------------------
def _listing(values: Sequence[Any]) -> str:
    shown = ", ".join(json.dumps(v) if not isinstance(v, str) else v for v in values[:_MAX_LISTED])
    return shown + (", ..." if len(values) > _MAX_LISTED else "")


def describe_error(error: ValidationError, noun: str, secret_keys: frozenset[str]) -> str:
    """One plain sentence naming the field, what is wrong and what is allowed."""
    path = [str(p) for p in error.absolute_path]
    field = ".".join(path) if path else None
    secret = bool(path) and path[0] in secret_keys
    shown = without_userinfo(json.dumps(error.instance, default=str))
    got = "" if secret else f" (got {shown[:80]})"
    where = f"{noun} '{field}'" if field else noun.capitalize() + "s"
    schema = error.schema if isinstance(error.schema, dict) else {}
    validator = error.validator
    if validator == "required":
        missing = [n for n in error.validator_value if n not in (error.instance or {})]
        return f"missing required {noun} '{missing[0] if missing else '?'}'" + (
            f" in '{field}'" if field else ""
        )
    if validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return f"unknown {noun} '{', '.join(extra)}' (allowed: {_listing(allowed)})"
    if validator == "enum":
        return f"{where} must be one of: {_listing(list(error.validator_value))}{got}"
    if validator == "const":
        return f"{where} must be {json.dumps(error.validator_value)}{got}"
    if validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{where} must be of type {expected}{got}"
    if validator == "format":
        return f"{where} must be a valid {error.validator_value}{got}"
    if validator == "pattern":
        return f"{where} does not have the expected form{got}"
    bounds = {
        "minimum": "at least",
        "maximum": "at most",
        "exclusiveMinimum": "greater than",
        "exclusiveMaximum": "less than",
        "minLength": "at least this many characters:",
        "maxLength": "at most this many characters:",
        "minItems": "at least this many items:",
        "maxItems": "at most this many items:",
    }
    if validator in bounds:
        return f"{where} must be {bounds[validator]} {error.validator_value}{got}"
    if validator in ("anyOf", "oneOf") and error.context:
        best = min(error.context, key=lambda e: len(list(e.relative_path)))
        return describe_error(best, noun, secret_keys)
    if secret:
        return f"{where} is not valid ({validator})"
    return f"{where}: {error.message}"


def schema_problems(name: str, instance: Any, noun: str, secret_keys: frozenset[str]) -> list[str]:
    """Every violation of ``schemas/<name>.json`` as a sentence, in document order."""
    if schema_is_valid(name, instance):
        return []
    validator = schema_validator(name)
    errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.path])
    return [describe_error(e, noun, secret_keys) for e in errors]


def secret_keys_of(schema: Mapping[str, Any]) -> frozenset[str]:
    """Properties marked ``x-secret`` (plus the config model's known secrets)."""
    marked = {k for k, p in schema.get("properties", {}).items() if p.get("x-secret")}
    return frozenset(marked | SECRET_KEYS)


# -- the two validated inputs ------------------------------------------------------------------
def validate_config(raw: Mapping[str, Any]) -> ConnectionConfig:
    """The connection config, checked against ``schemas/connection.json`` and the model."""
    schema = load_schema("connection")
    values = coerce(raw, schema)
    edge.check_config(values, schema, secret_keys_of(schema), _CONFIG_HINT)
    problems = schema_problems("connection", values, "config key", secret_keys_of(schema))
    if problems:
        raise ConfigError(
            "Invalid connection config: " + "; ".join(problems) + ".",
            hint=_CONFIG_HINT,
        )
    try:
        return ConnectionConfig.model_validate(values)
    except PydanticValidationError as exc:
        problems = []
        for item in exc.errors(include_input=False, include_url=False):
            location = ".".join(str(p) for p in item["loc"])
            message = item["msg"].removeprefix("Value error, ")
            problems.append(f"{location}: {message}" if location else message)
        raise ConfigError(
            "Invalid connection config: " + "; ".join(problems) + ".",
            hint=_CONFIG_HINT,
        ) from None


def validate_parameters(action_id: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The action's parameters, coerced, checked against its input schema, defaults applied."""
    name = f"{action_id}.input"
    schema = load_schema(name)
    values = coerce(raw, schema)
    hint = f"See schemas/{action_id}.input.json for the parameters of {action_id}."
    edge.check_parameters(values, schema, secret_keys_of(schema), hint)
    problems = schema_problems(name, values, "parameter", secret_keys_of(schema))
    if problems:
        raise InputError("Invalid parameters: " + "; ".join(problems) + ".", hint=hint)
    return apply_defaults(values, schema)
