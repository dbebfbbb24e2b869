"""The StackStorm pack: ``pack.yaml``, ``config.schema.yaml``, ``actions/<id>.yaml`` + entry points.

Every action is a ``python-script`` action whose entry point is an ``Action`` subclass calling
:mod:`exchange_pack.platforms.stackstorm` in process; its result is the pack's envelope.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .. import __version__
from ..fields import InputField, connection_fields, input_fields
from ..ingest import SEVERITIES
from ..ingest_hooks import has_ingestion, hook_fields, incident_field_names, ingestion_spec
from ..inputs import resolve_ref
from ..manifest import ActionSpec, Manifest, load_schema
from ..platforms.stackstorm import INGEST_PREFIX
from .common import BundleWriter, logo_bytes

PLATFORM = "stackstorm"
RUNNER_TYPE = "python-script"
# The python-script runner's own parameters (st2 contrib/runners/python_runner/runner.yaml):
# an action parameter of the same name would override the runner's.
RUNNER_PARAMETERS = frozenset({"debug", "content_version", "env", "timeout", "log_level"})
STACKSTORM_VERSION = ">=3.9.0"  # the first st2 release running on Python 3.10+
_MAX_OUTPUT_DEPTH = 8


def pack_ref(manifest: Manifest) -> str:
    """The pack's st2 ref: the manifest id with ``_`` for ``-`` (st2 allows ``[a-z0-9_]``)."""
    return re.sub(r"[^a-z0-9_]", "_", manifest.id.lower())


def _class_name(action_id: str) -> str:
    return "".join(part.capitalize() for part in action_id.split("_"))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def parameter(field: InputField) -> dict[str, Any]:
    """One st2 parameter (``action_params.json`` keys only) from an input field."""
    spec: dict[str, Any] = {"type": field.type, "description": field.description or field.name}
    if field.is_array:
        items: dict[str, Any] = {"type": field.item_type or "string"}
        if field.allowed:
            items["enum"] = list(field.allowed)
        spec["items"] = items
    elif field.allowed:
        spec["enum"] = list(field.allowed)
    if field.required:
        spec["required"] = True
    if field.has_default and field.default is not None:
        spec["default"] = field.default
    if field.minimum is not None:
        spec["minimum"] = field.minimum
    if field.maximum is not None:
        spec["maximum"] = field.maximum
    if field.secret:
        spec["secret"] = True
    return spec


def _output_schema(schema: Any, root: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """A draft-4 subset of an output schema (one type each, properties, items) for st2."""
    schema = resolve_ref(schema, root)
    description = _one_line(str(schema.get("description", "")))
    options = schema.get("anyOf") or schema.get("oneOf")
    declared = schema.get("type")
    if isinstance(declared, list):
        rest = {k: v for k, v in schema.items() if k not in ("description", "type", "enum")}
        options = [
            {**rest, "type": kind, "enum": [v for v in schema["enum"] if v is not None]}
            if kind != "null" and schema.get("enum")
            else {**rest, "type": kind}
            if kind != "null"
            else {"type": "null"}
            for kind in declared
        ]
    if options:
        branches: list[dict[str, Any]] = []
        for option in options:
            branch = _output_schema(option, root, depth)
            if branch not in branches:
                branches.append(branch)
        result = branches[0] if len(branches) == 1 else {"anyOf": branches}
    else:
        result = {k: schema[k] for k in ("type", "enum") if k in schema}
        if depth < _MAX_OUTPUT_DEPTH and isinstance(schema.get("properties"), dict):
            result["properties"] = {
                name: _output_schema(prop, root, depth + 1)
                for name, prop in schema["properties"].items()
            }
        if depth < _MAX_OUTPUT_DEPTH and isinstance(schema.get("items"), dict):
            result["items"] = _output_schema(schema["items"], root, depth + 1)
    if description:
        result = {**result, "description": description}
    return result


def output_schema(spec: ActionSpec) -> dict[str, Any]:
    """The action's result (the pack's envelope) with ``data`` from the output schema."""
    data_schema = load_schema(f"{spec.id}.output")
    envelope = load_schema("envelope")
    properties = {
        name: _output_schema(prop, envelope)
        for name, prop in envelope.get("properties", {}).items()
    }
    properties["data"] = {"anyOf": [_output_schema(data_schema, data_schema), {"type": "null"}]}
    return {"type": "object", "properties": properties}


def action_metadata(manifest: Manifest, spec: ActionSpec) -> dict[str, Any]:
    """``actions/<id>.yaml``: the python-script action with its parameters."""
    fields = input_fields(spec.id)
    clashing = sorted(f.name for f in fields if f.name in RUNNER_PARAMETERS)
    if clashing:
        raise ValueError(f"{spec.id}: parameters {clashing} clash with the st2 runner's own")
    return {
        "name": spec.id,
        "pack": pack_ref(manifest),
        "description": _one_line(spec.description),
        "runner_type": RUNNER_TYPE,
        "entry_point": f"{spec.id}.py",
        "enabled": True,
        "parameters": {field.name: parameter(field) for field in fields},
        "output_schema": output_schema(spec),
    }


def entry_point(manifest: Manifest, spec: ActionSpec) -> str:
    """``actions/<id>.py``: the Action subclass st2's python runner loads for this action."""
    return "\n".join(
        [
            f'"""{manifest.name}: {spec.title}. Generated by `exchange-pack bundle {PLATFORM}`."""',
            "",
            "from st2common.runners.base_action import Action",
            "",
            "from exchange_pack.platforms.stackstorm import run_action",
            "",
            "",
            f"class {_class_name(spec.id)}(Action):",
            f'    """{_one_line(spec.title)}: runs the pack\'s {spec.id} in process."""',
            "",
            "    def run(self, **kwargs):",
            f'        return run_action("{spec.id}", kwargs, self.config)',
            "",
        ]
    )


def config_schema(manifest: Manifest) -> dict[str, Any]:
    """``config.schema.yaml``: the connection keys, secrets marked ``secret: true``, then the
    polling sensor's settings (``ingest_`` + the hook's fields)."""
    schema = {field.name: parameter(field) for field in connection_fields()}
    for field in hook_fields(manifest) if has_ingestion(manifest) else []:
        entry = parameter(field)
        entry["description"] = f"Polling sensor: {entry['description']}"
        schema[INGEST_PREFIX + field.name] = entry
    return schema


def trigger_name(manifest: Manifest) -> str:
    """The sensor's trigger type name: the ingestion's incident type in snake case."""
    return re.sub(r"[^a-z0-9]+", "_", ingestion_spec(manifest).incident_type.lower()).strip("_")


def sensor_class(manifest: Manifest) -> str:
    """The sensor's class name."""
    return _class_name(ingestion_spec(manifest).action) + "Sensor"


def payload_schema() -> dict[str, Any]:
    """The trigger's payload: one incident record (exchange_pack.ingest.IncidentRecord)."""
    text, maybe = {"type": "string"}, {"type": ["string", "null"]}
    return {
        "type": "object",
        "required": ["name", "severity", "source_id", "redelivered", "fields", "message"],
        "properties": {
            "name": {**text, "description": "The incident's name (subject and sender)."},
            "severity": {"type": "string", "enum": list(SEVERITIES)},
            "occurred": {**maybe, "description": "When the message was received (ISO 8601)."},
            "source_id": {**text, "description": "Dedup key: the same message, the same id."},
            "redelivered": {
                "type": "boolean",
                "description": "Delivered before by a poll whose checkpoint was not stored.",
            },
            "fields": {
                "type": "object",
                "description": "The message and its enrichment as flat fields.",
                "properties": {name: {} for name in incident_field_names()},
            },
            "message": {"type": "object", "description": "The message as poll_mailbox gave it."},
        },
    }


def sensor_metadata(manifest: Manifest) -> dict[str, Any]:
    """``sensors/<action>_sensor.yaml``: the polling sensor and the trigger type it dispatches."""
    spec = ingestion_spec(manifest)
    return {
        "class_name": sensor_class(manifest),
        "entry_point": f"{spec.action}_sensor.py",
        "description": f"{spec.name}: runs {spec.action} every poll_interval seconds from the "
        "checkpoint in the datastore and dispatches one trigger per new message.",
        "enabled": True,
        "poll_interval": spec.interval_minutes * 60,
        "trigger_types": [
            {
                "name": trigger_name(manifest),
                "description": f"{spec.incident_type}: one new message of the polled folder.",
                "payload_schema": payload_schema(),
            }
        ],
    }


def sensor_source(manifest: Manifest) -> str:
    """``sensors/<action>_sensor.py``: the PollingSensor st2's sensor container runs."""
    spec = ingestion_spec(manifest)
    trigger = f"{pack_ref(manifest)}.{trigger_name(manifest)}"
    return f'''"""{manifest.name}: {spec.name}. Generated by `exchange-pack bundle {PLATFORM}`."""

from st2reactor.sensor.base import PollingSensor

from exchange_pack.platforms.stackstorm import sensor_poll

TRIGGER = {trigger!r}


class {sensor_class(manifest)}(PollingSensor):
    """Polls with the pack's {spec.action}; the checkpoint lives in the st2 datastore."""

    def setup(self):
        pass

    def poll(self):
        sensor_poll(self.sensor_service, self.config, TRIGGER)

    def cleanup(self):
        pass

    def add_trigger(self, trigger):
        pass

    def update_trigger(self, trigger):
        pass

    def remove_trigger(self, trigger):
        pass
'''


def pack_metadata(manifest: Manifest) -> dict[str, Any]:
    """``pack.yaml``."""
    return {
        "ref": pack_ref(manifest),
        "name": manifest.name,
        "description": _one_line(manifest.description),
        "keywords": ["exchange", "microsoft", "graph", "ews", "email", "soar"],
        "version": manifest.version,
        "stackstorm_version": STACKSTORM_VERSION,
        "python_versions": ["3"],
        "author": str(getattr(manifest, "author", None) or f"{manifest.name} maintainers"),
        "email": str(getattr(manifest, "email", None) or "exchange-pack@users.noreply.github.com"),
    }


def build(manifest: Manifest, out: Path) -> list[Path]:
    """Writes the StackStorm pack under ``out`` and returns the files written."""
    writer = BundleWriter(out)
    writer.write_yaml("pack.yaml", pack_metadata(manifest))
    writer.write_yaml("config.schema.yaml", config_schema(manifest))
    writer.write("requirements.txt", f"exchange-pack=={__version__}")
    writer.write("icon.png", logo_bytes(manifest))
    for spec in manifest.actions:
        writer.write_yaml(f"actions/{spec.id}.yaml", action_metadata(manifest, spec))
        writer.write(f"actions/{spec.id}.py", entry_point(manifest, spec))
    if has_ingestion(manifest):
        action = ingestion_spec(manifest).action
        writer.write_yaml(f"sensors/{action}_sensor.yaml", sensor_metadata(manifest))
        writer.write(f"sensors/{action}_sensor.py", sensor_source(manifest))
    return writer.written


def sensor_readme(manifest: Manifest) -> str:
    """The StackStorm section's paragraph on the polling sensor, if the manifest has one."""
    if not has_ingestion(manifest):
        return ""
    ref, ingest = pack_ref(manifest), ingestion_spec(manifest)
    action, sensor, trigger = ingest.action, sensor_class(manifest), trigger_name(manifest)
    sensor_file, interval = f"{action}_sensor.yaml", ingest.interval_minutes * 60
    checkpoint_key = f"{action}.checkpoint"
    return f"""\
Ingestion: the polling sensor `sensors/{sensor_file}` (`{sensor}`, every
{interval} seconds) runs `{action}` with the `ingest_*` keys of the pack config (`ingest_mailbox`,
`ingest_folder`, `ingest_since` for the first poll, `ingest_enrich`, `ingest_severity`, ...)
and dispatches the trigger `{ref}.{trigger}` once per new message, its payload the incident
record (`name`, `severity`, `occurred`, `source_id` to deduplicate on, `fields`, `message`);
only then it stores the checkpoint in the datastore (`{checkpoint_key}`, local to the sensor).
A failed poll is logged and stores nothing. Enable it with `st2ctl reload --register-sensors`
and write a rule on the trigger.

"""


def readme_section(manifest: Manifest) -> str:
    """The README's StackStorm section."""
    ref = pack_ref(manifest)
    secrets = ", ".join(f"`{f.name}`" for f in connection_fields() if f.secret)
    graph = ", ".join(manifest.connection.get("permissions", {}).get("graph", []))
    actions = ", ".join(f"`{ref}.{spec.id}`" for spec in manifest.actions)
    return f"""### StackStorm

Build: `exchange-pack bundle stackstorm --out dist/bundles/stackstorm` writes a pack
(`pack.yaml`, `config.schema.yaml`, `actions/<id>.yaml` with a `python-script` entry point per
action, `requirements.txt`, `icon.png`). Install it with `st2 pack install
file:///path/to/stackstorm` after making the `exchange-pack` wheel (`make dist`) installable by
the pack's virtualenv (`requirements.txt` names `exchange-pack=={manifest.version}`: a local index,
or `pip install` the wheel into `/opt/stackstorm/virtualenvs/{ref}`).

Configure: `st2 pack config {ref}` (or `/opt/stackstorm/configs/{ref}.yaml`) with the keys of
`schemas/connection.json`.

- Secrets (`secret: true`: stored encrypted, hidden in the UI): {secrets}.
- Permissions of the app registration: Graph {graph}; EWS `full_access_as_app`.
- Actions: {actions}.

{sensor_readme(manifest)}\
Each action runs the pack in process (no subprocess) and returns the pack's envelope as its
result (`result.ok`, `result.data`, ...; the action's `output_schema` lists the paths); a
failure (`ok: false`) is a failed execution with the same envelope.

What ran for real: the generated entry points and the adapter, loaded the way st2's python
runner loads them and run against the sandbox tenant on Graph and EWS; the metadata checked
against a JSON Schema written from st2's `PackAPI`, `ActionAPI` and `ConfigSchemaAPI`. st2 itself
(st2common) does not install here: the tests stand in a minimal `Action` base class (constructor
taking `config` and `action_service`) for `st2common.runners.base_action.Action`.
"""
