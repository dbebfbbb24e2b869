"""Sumo Logic Cloud SOAR: the Open Integration Framework (OIF) files, generated.

One integration definition YAML (name, logo, connection fields, test-connection code, Docker
image), one action definition YAML per action in integration.yaml, and a Dockerfile that
installs the pack's wheel. Field names and values follow Sumo Logic's "Integration framework
file formats" and example files; every script is a few lines that hand the run to
:mod:`exchange_pack.platforms.cloud_soar`.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

from ..fields import (
    InputField,
    OutputPath,
    connection_fields,
    input_fields,
    output_paths,
    schema_paths,
)
from ..ingest_hooks import has_ingestion, hook_fields, incident_field_names, ingestion_spec
from ..manifest import ActionSpec, Manifest, load_schema
from .common import BundleWriter, docker_tag, dockerfile, logo_data_uri

PLATFORM = "cloud-soar"
INTEGRATION_FILE = "exchange-pack-integration.yaml"
ACTIONS_DIR = "actions"

# integration.yaml's kind -> the OIF action type (the seed integration's Enrichment /
# Containment / Notification; a test is an enrichment that reads the tenant).
ACTION_TYPES: dict[str, str] = {
    "test": "Enrichment",
    "investigate": "Enrichment",
    "contain": "Containment",
    "notify": "Notification",
    "generic": "Custom",
}
# Cloud SOAR fills `proxy_url` itself when a proxy is set on the integration's proxy tab
# (require_proxy_config), so the pack's own proxy_url key is not asked for twice.
PLATFORM_PROVIDED = ("proxy_url",)
# Envelope paths an action's output lists besides its data (error.* only exists on failure,
# which the framework learns from stderr and the exit code).
ENVELOPE_SKIPPED = ("data", "error")
_ACRONYMS = {
    "id": "ID",
    "ids": "IDs",
    "url": "URL",
    "tls": "TLS",
    "ews": "EWS",
    "ca": "CA",
    "pem": "PEM",
    "eml": "EML",
    "sha256": "SHA-256",
    "sha1": "SHA-1",
    "md5": "MD5",
    "ms": "(ms)",
}
_PLAIN_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LONG_TEXT = 4096  # strings that may be longer than this get a textarea


def label(name: str) -> str:
    """``internet_message_id`` -> ``Internet Message ID``."""
    return " ".join(_ACRONYMS.get(word, word.capitalize()) for word in name.split("_") if word)


def oif_path(marked: str, prefix: str = "") -> str:
    """A ``messages[].from.address`` path in OIF syntax: ``data.messages.[].from.address``.

    Lists are a ``[]`` segment of their own; a name with other characters is quoted, as Sumo's
    output docs show for ``payload.headers."MIME-Version"``.
    """
    segments: list[str] = [prefix] if prefix else []
    for part in marked.split("."):
        name, lists = part, 0
        while name.endswith("[]"):
            name, lists = name[:-2], lists + 1
        if name:
            segments.append(name if _PLAIN_SEGMENT.match(name) else json.dumps(name))
        segments += ["[]"] * lists
    return ".".join(segments)


def _text_default(value: Any) -> str:
    """A schema default as the OIF's string (``true``, ``50``, a JSON list)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _hint(field: InputField) -> str:
    hint = field.description
    if field.format == "date-time" and "ISO 8601" not in hint:
        hint = f"{hint} ISO 8601, e.g. 2026-01-31T08:00:00Z.".strip()
    elif field.is_array and not field.allowed:
        hint = f"{hint} Several values: one per tag (or comma-separated, or a JSON list).".strip()
    return hint


def action_field(field: InputField) -> dict[str, Any]:
    """One parameter of an action as an OIF ``fields`` entry."""
    entry: dict[str, Any] = {"id": field.name, "label": label(field.name)}
    validator = None
    allowed = field.allowed
    if field.type == "boolean" and not field.has_default:
        # Three states (true, false, not given): an unticked checkbox would send "false".
        kind, allowed = "list", [True, False]
    elif field.type == "boolean":
        kind = "checkbox"
    elif field.type in ("integer", "number"):
        kind, validator = "number", "integer" if field.type == "integer" else None
    elif field.is_array:
        kind = "multilist" if field.allowed else "tag"
    elif field.allowed:
        kind = "list"
    else:
        kind = "textarea" if (field.max_length or 0) > _LONG_TEXT else "text"
        validator = "e-mail" if field.format == "email" else None
    entry["type"] = kind
    entry["required"] = field.required
    if validator:
        entry["validator"] = validator
    if field.has_default and field.default is not None:
        entry["default"] = _text_default(field.default)
    if allowed:
        entry["values"] = {_text_default(v): _text_default(v) for v in allowed}
    if kind in ("text", "tag", "textarea"):
        entry["incident_artifacts"] = True
    hint = _hint(field)
    if hint:
        entry["hint"] = hint
    return entry


def connection_attribute(field: InputField) -> dict[str, Any]:
    """One connection key as an OIF ``configuration.data_attributes`` entry."""
    validator = None
    if field.secret:
        kind = "password"
    elif field.type == "boolean":
        kind = "checkbox"
    elif field.type in ("integer", "number"):
        kind, validator = "number", "integer" if field.type == "integer" else None
    elif field.allowed:
        kind = "list"
    else:
        kind, validator = "text", "url" if field.format == "uri" else None
    entry: dict[str, Any] = {"label": label(field.name), "type": kind, "required": field.required}
    if validator:
        entry["validator"] = validator
    if field.has_default and field.default is not None:
        entry["default"] = _text_default(field.default)
    if field.allowed:
        entry["values"] = {_text_default(v): _text_default(v) for v in field.allowed}
    if field.description:
        entry["hint"] = field.description
    return entry


def script_code(action_id: str, manifest: Manifest, what: str) -> str:
    """The Python an OIF script runs: the adapter, with the action id."""
    return (
        f"# {manifest.name} {manifest.version}: {what}. Generated by `exchange-pack bundle "
        f"{PLATFORM}`; do not edit.\n"
        "# Cloud SOAR passes the connection and the action's fields as environment variables\n"
        "# named by field id; the pack prints one JSON envelope on stdout, writes stderr only on\n"
        "# failure and exits non-zero then (sysexits).\n"
        "from exchange_pack.platforms.cloud_soar import run\n"
        "from exchange_pack.runtime import exit_process\n"
        "\n"
        f"exit_process(run({action_id!r}))\n"
    )


def output_entries(action_id: str) -> list[dict[str, str]]:
    """The ``output`` paths: the envelope's own fields, then every leaf of ``data``."""
    envelope = [
        p for p in schema_paths(load_schema("envelope")) if p.segments[0] not in ENVELOPE_SKIPPED
    ]
    entries = [_output(p, "") for p in envelope]
    return entries + [_output(p, "data") for p in output_paths(action_id)]


def _output(path: OutputPath, prefix: str) -> dict[str, str]:
    kind = "integer" if path.type == "integer" else "text"
    return {"path": oif_path(path.marked or path.path, prefix), "type": kind}


def table_view(spec: ActionSpec) -> list[dict[str, str]]:
    """The manifest's ``table_columns`` as OIF ``table_view`` columns over ``data``."""
    columns = []
    for column in spec.table_columns:
        tail = column.rsplit("[].", 1)[-1]
        columns.append(
            {
                "display_name": label(tail.replace(".", "_")),
                "value": oif_path(column, "data"),
            }
        )
    if not columns:  # an action without table_columns still shows its top-level values
        top = [p for p in output_paths(spec.id) if not p.in_list and "." not in p.path]
        columns = [{"display_name": label(p.path), "value": f"data.{p.path}"} for p in top[:5]]
    if not columns:
        columns = [{"display_name": "Message", "value": "message"}]
    return columns


def action_definition(spec: ActionSpec, manifest: Manifest) -> dict[str, Any]:
    """One action definition file's content."""
    return {
        "integration": manifest.name,
        "name": spec.title,
        "type": ACTION_TYPES[spec.kind],
        "script": {"code": script_code(spec.id, manifest, spec.title)},
        "fields": [action_field(f) for f in input_fields(spec.id)],
        "output": output_entries(spec.id),
        "table_view": table_view(spec),
    }


def integration_definition(manifest: Manifest) -> dict[str, Any]:
    """The integration definition file's content."""
    test_action = manifest.connection.get("test_action", "test_connection")
    attributes = {
        f.name: connection_attribute(f)
        for f in connection_fields()
        if f.name not in PLATFORM_PROVIDED
    }
    return {
        "name": manifest.name,
        "official_name": manifest.name,
        "version": manifest.version,
        "icon": logo_data_uri(manifest),
        "script": {
            "type": "python",
            "test_connection_code": script_code(test_action, manifest, "test connection"),
        },
        "docker_repo_tag": docker_tag(),
        "local_repo": True,
        "configuration": {
            "testable_connection": True,
            "require_proxy_config": True,
            "data_attributes": attributes,
        },
    }


def daemon_file(manifest: Manifest) -> str:
    """The Daemon action's file name, beside the actions."""
    return f"{ACTIONS_DIR}/{ingestion_spec(manifest).action}_daemon.yaml"


def daemon_definition(manifest: Manifest) -> dict[str, Any]:
    """The ingestion hook as a Daemon action: the poll's fields, the checkpoint handed on from
    the previous run, one output object per incident."""
    spec = ingestion_spec(manifest)
    checkpoint = next(f for f in input_fields(spec.action) if f.name == spec.checkpoint)
    checkpoint_field = action_field(checkpoint)
    checkpoint_field["hint"] = (
        "Handed on by the daemon rule from the previous run's output (`checkpoint`); empty on "
        "the first run."
    )
    code = (
        f"# {manifest.name} {manifest.version}: {spec.name} (daemon). Generated by "
        f"`exchange-pack bundle {PLATFORM}`; do not edit.\n"
        "# Prints a JSON array: one object per new message (kind: incident), then one\n"
        "# kind: checkpoint object; every object carries the checkpoint for the next run.\n"
        "from exchange_pack.platforms.cloud_soar import daemon\n"
        "from exchange_pack.runtime import exit_process\n"
        "\n"
        "exit_process(daemon())\n"
    )
    names = ["kind", "name", "severity", "occurred", "source_id", "redelivered", "checkpoint"]
    names += ["count", *incident_field_names()]
    return {
        "integration": manifest.name,
        "name": spec.name,
        "type": "Daemon",
        "script": {"code": code},
        "fields": [action_field(f) for f in hook_fields(manifest)] + [checkpoint_field],
        "output": [{"path": f"[].{name}", "type": "text"} for name in names],
        "table_view": [
            {"display_name": "Name", "value": "[].name"},
            {"display_name": "Severity", "value": "[].severity"},
            {"display_name": "Occurred", "value": "[].occurred"},
            {"display_name": "Sender", "value": "[].sender"},
        ],
    }


def build(manifest: Manifest, out: Path) -> list[Path]:
    """Writes the integration and action definitions and the Dockerfile under ``out``."""
    writer = BundleWriter(out)
    writer.write_yaml(INTEGRATION_FILE, integration_definition(manifest))
    for spec in manifest.actions:
        writer.write_yaml(f"{ACTIONS_DIR}/{spec.id}.yaml", action_definition(spec, manifest))
    if has_ingestion(manifest):
        writer.write_yaml(daemon_file(manifest), daemon_definition(manifest))
    writer.write("Dockerfile", dockerfile(manifest))
    return writer.written


# Fields and behaviours Sumo Logic's OIF pages do not settle; the README says so.
UNCONFIRMED: tuple[str, ...] = (
    "How a `tag` or `multilist` field's values reach the script: the docs name the types but "
    "not the variable's text. The pack takes a JSON list or comma-separated values.",
    "What a `checkbox` sends when unticked (the docs' examples compare with `'true'`). The "
    "pack reads true/false, yes/no, 1/0; an optional filter without a default is a "
    'true/false `list` instead, so leaving it empty means "not given".',
    "`validator` is marked required for action fields but absent from Sumo's own example "
    "files; it is written only where one applies (`e-mail`, `integer`).",
    "`hint` (the help text under a field) appears in Sumo's example files, not in the field "
    "list of the file format.",
    "`official_name` is marked required for Cloud SOAR but absent from the examples; it is set "
    "to the integration's name.",
    "Whether a `password` field keeps the line breaks of a pasted PEM (`certificate_pem`); "
    "`certificate_path` to a file in the image avoids the question.",
    'The output `type` is "reserved for future use": `integer` for integers, `text` otherwise.',
    "The text a `datetime` field hands the script: times (`received_after`) are `text` fields "
    "taking ISO 8601 instead.",
    "Nothing marks a field required only in some combinations: no connection field is "
    "`required` (an app registration and an Exchange Server service account need different "
    "ones); the pack refuses an incomplete connection with exit 78 naming the missing key.",
    "Which Python the framework starts the script with inside the image; the image's "
    "`python` has the pack installed.",
)


def _wrap(text: str, first: str = "", rest: str = "") -> str:
    """A README paragraph (or list item) folded at 100 columns, as the rest of the README."""
    return textwrap.fill(
        text, 100, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False
    )


def _fields_table(fields: list[tuple[str, dict[str, Any]]]) -> list[str]:
    lines = ["| Field | Type | Default | What it is |", "|---|---|---|---|"]
    for name, entry in fields:
        default = f"`{entry['default']}`" if "default" in entry else ""
        hint = str(entry.get("hint", "")).replace("|", "\\|")
        lines.append(f"| `{name}` | {entry['type']} | {default} | {hint} |")
    return lines


def daemon_readme(manifest: Manifest) -> list[str]:
    """The README's lines on ingestion through the Daemon action."""
    if not has_ingestion(manifest):
        return []
    spec = ingestion_spec(manifest)
    return [
        _wrap(
            f"Ingestion: `{daemon_file(manifest)}` is a Daemon action, **{spec.name}**, that "
            f"runs `{spec.action}` and prints a JSON array: one object per new message "
            "(`kind: incident`, with `name`, `severity`, `occurred`, `source_id`, the sender, "
            "subject and, with `enrich`, the reported original's verdicts as flat fields), then "
            "one `kind: checkpoint` object. Upload it like the other actions, then under "
            "Automation → Daemons add a rule on it: filter `kind` equal to `incident`, action "
            '"Create incident from template" (map `name`, `severity`, `occurred`; `source_id` '
            "identifies the message), and pass the output field `checkpoint` to the next run "
            "(it arrives as the `checkpoint` field). Every object carries the checkpoint and a "
            "run that found nothing still prints the checkpoint object, so each run continues "
            "where the last one stopped; set `since` for the first run (default: now) and "
            "`severity` for the incidents."
        )
    ]


def readme_section(manifest: Manifest) -> str:
    """The README's Cloud SOAR install section, from the manifest and the generated files."""
    integration = integration_definition(manifest)
    attributes = integration["configuration"]["data_attributes"]
    permissions = manifest.connection.get("permissions", {})
    tag = docker_tag()
    lines = [
        "### Sumo Logic Cloud SOAR",
        "",
        _wrap(
            "`exchange-pack bundle cloud-soar --out DIR` writes Open Integration Framework "
            f"files: `{INTEGRATION_FILE}` (the integration: name, logo, connection fields, the "
            "test-connection code, the Docker image), `actions/<action_id>.yaml` (one per "
            "action: fields from the input schema, output paths, table view, a short script) "
            "and a `Dockerfile`. Every script runs the pack through "
            "`exchange_pack.platforms.cloud_soar`: fields arrive as environment variables named "
            "by field id (or `--field value` arguments), nothing on stdin; the action prints one "
            "JSON envelope on stdout (output paths such as `data.messages.[].subject` point into "
            "it) and writes stderr only on failure."
        ),
        "",
        _wrap(
            "Build the image on the host that runs the integration's containers (for a custom "
            "integration, the Automation Bridge; `local_repo: true` says the image is local):",
            "1. ",
            "   ",
        ),
        "   ```sh",
        "   make dist",
        "   exchange-pack bundle cloud-soar --out dist/bundles/cloud-soar",
        "   cp dist/exchange_pack-*.whl dist/bundles/cloud-soar/",
        f"   docker build -t {tag} dist/bundles/cloud-soar",
        "   ```",
        _wrap(
            "To pull it from a registry instead, push it there, put the registry's name in "
            "`docker_repo_tag` and drop `local_repo`. Cloud SOAR's in-app Docker editor ignores "
            "`COPY`, so that editor cannot build this Dockerfile.",
            "   ",
            "   ",
        ),
        _wrap(
            f"Automation → Integrations → **+**: upload `{INTEGRATION_FILE}`. Then on the new "
            f"**{manifest.name}** integration, **Upload** → Action, once per file in "
            "`actions/`.",
            "2. ",
            "   ",
        ),
        _wrap(
            "Add a resource (the connection) and **Test Saved Settings**, which runs "
            f"`{manifest.connection.get('test_action', 'test_connection')}`. A proxy goes on "
            "the resource's proxy tab (Cloud SOAR passes it as `proxy_url`). Give `tenant_id`, "
            "`client_id` and `client_secret` (or a certificate); for Exchange Server with a "
            "service account, `backend` ews, `ews_url`, `ews_auth` ntlm or basic, `username` "
            "and `password`. Secrets are `password` fields:",
            "3. ",
            "   ",
        ),
        "",
        *_fields_table(list(attributes.items())),
        "",
        "Actions and their Cloud SOAR type (from each action's `kind` in integration.yaml):",
        "",
        "| Action | Type | Graph permissions |",
        "|---|---|---|",
    ]
    for spec in manifest.actions:
        graph = ", ".join(spec.permissions.get("graph", [])) or "none"
        for extra in spec.extra_permissions:
            if extra.get("graph"):
                graph += f"; with `{extra['when']}`: {', '.join(extra['graph'])}"
        lines.append(f"| {spec.title} (`{spec.id}`) | {ACTION_TYPES[spec.kind]} | {graph} |")
    lines += [
        "",
        _wrap(
            "Permissions of the app registration (application permissions, admin consent): "
            f"Graph {', '.join(permissions.get('graph', []))}; EWS in Exchange Online "
            f"{', '.join(permissions.get('ews', []))}; Exchange Server "
            f"{', '.join(permissions.get('ews_on_premises', []))}."
        ),
        "",
        *daemon_readme(manifest),
        "",
        _wrap(
            "Not confirmed from Sumo Logic's documentation (the generator follows its file "
            "format, example files, output and Docker pages; these points they leave open):"
        ),
        "",
        *[_wrap(item, "- ", "  ") for item in UNCONFIRMED],
    ]
    return "\n".join(lines) + "\n"
