"""Cortex XSOAR adapter: ``demisto.command()``, ``params()``, ``args()`` in, a war-room entry out.

The generated integration script (``Integrations/ExchangePack/ExchangePack.py``) calls
:func:`main` with XSOAR's ``demisto`` object and CommonServerPython's ``return_results`` /
``return_error``; nothing here imports those modules (they exist only inside XSOAR). The entry
is the dict ``CommandResults.to_context()`` produces: ``Type`` note, ``Contents`` the envelope
(raw response), ``HumanReadable`` a markdown table from the manifest's ``table_columns``,
``EntryContext`` the action's ``data`` under ``ExchangePack.<Action>``. ``fetch-incidents``
(the ingestion hook) is :func:`fetch_incidents`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..fields import table_column_path
from ..ingest import IncidentRecord
from ..ingest_hooks import HookFailed, has_ingestion, hook_fields, ingestion_spec, run_ingest
from ..manifest import ActionSpec, Manifest, load_manifest
from ..runner import Outcome, invoke
from . import without

CONTEXT_ROOT = "ExchangePack"  # every command's outputs sit under this context key
COMMAND_PREFIX = "exchange-"
TEST_COMMAND = "test-module"  # XSOAR's "Test" button
FETCH_COMMAND = "fetch-incidents"  # XSOAR runs it every incidentFetchInterval minutes
SOURCE = "xsoar"
# The fetch settings are instance parameters: the hook's fields, named as XSOAR's own fetch
# parameters where one exists (demisto-sdk FIRST_FETCH_PARAM, MAX_FETCH_PARAM), else fetch_<name>.
FETCH_PREFIX = "fetch_"
XSOAR_FETCH_NAMES = {"limit": "max_fetch"}
FIRST_FETCH = "first_fetch"
LAST_RUN_KEY = "checkpoint"  # in demisto.getLastRun() / setLastRun()
# XSOAR's incident severities (IncidentSeverity in CommonServerPython).
SEVERITY_LEVELS = {"unknown": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

# One XSOAR credentials parameter (type 9) carries a secret and the identifier shown beside it:
# params()[<secret key>] == {"identifier": <identifier key's value>, "password": <secret>}.
# A secret with no partner here is a credentials parameter with the username hidden.
CREDENTIAL_PAIRS: dict[str, str] = {"client_secret": "client_id", "password": "username"}

# Keys XSOAR itself puts into params() (fetch, feed and engine settings, not the pack's config).
INJECTED_PARAMS: tuple[str, ...] = (
    "isFetch",
    "incidentType",
    "incidentFetchInterval",
    "isFetchEvents",
    "eventFetchInterval",
    "feed",
    "feedFetchInterval",
    "feedReputation",
    "feedReliability",
    "feedExpirationPolicy",
    "feedExpirationInterval",
    "feedBypassExclusionList",
    "longRunning",
    "longRunningPort",
    "engine",
    "engineGroup",
    "mappingId",
    "incomingMapperId",
    "outgoingMapperId",
)
# XSOAR's system arguments of every command (``!cmd extend-context=...``); the server acts on
# them, and when they reach the script they are no parameter of the action.
SYSTEM_ARGUMENTS: tuple[str, ...] = (
    "using",
    "using-brand",
    "using-category",
    "execution-timeout",
    "extend-context",
    "ignore-outputs",
    "raw-response",
    "retry-count",
    "retry-interval",
    "auto-extract",
)

ENTRY_NOTE = 1  # CommonServerPython entryTypes['note']
ENTRY_ERROR = 4  # entryTypes['error']
ENTRY_WARNING = 11  # entryTypes['warning']


def command_name(action_id: str) -> str:
    """The XSOAR command of an action: ``exchange-search-emails-extended``."""
    return COMMAND_PREFIX + action_id.replace("_", "-")


def context_prefix(action_id: str) -> str:
    """The context key an action's ``data`` lands under: ``ExchangePack.SearchEmailsExtended``."""
    return f"{CONTEXT_ROOT}.{''.join(part.title() for part in action_id.split('_'))}"


def commands(manifest: Manifest) -> dict[str, str]:
    """XSOAR command -> action id, ``test-module`` included (the manifest's test action)."""
    mapping = {TEST_COMMAND: str(manifest.connection["test_action"])}
    mapping.update({command_name(spec.id): spec.id for spec in manifest.actions})
    return mapping


def _given(value: Any) -> bool:
    # XSOAR sends an unset optional field as None or "": the same as not given.
    return value is not None and value != "" and value != []


def fetch_parameter_names(manifest: Manifest) -> dict[str, str]:
    """The hook's field -> its instance parameter (``since`` -> ``first_fetch``, ...)."""
    if not has_ingestion(manifest):
        return {}
    first_run = ingestion_spec(manifest).first_run
    names = {}
    for field in hook_fields(manifest):
        if field.name == first_run:
            names[field.name] = FIRST_FETCH
        else:
            names[field.name] = XSOAR_FETCH_NAMES.get(field.name, FETCH_PREFIX + field.name)
    return names


def connection_config(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``demisto.params()`` as the pack's connection config (credentials objects unpacked)."""
    config: dict[str, Any] = {}
    fetch_keys = fetch_parameter_names(load_manifest()).values()
    for key, value in without(params, [*INJECTED_PARAMS, *fetch_keys]).items():
        if isinstance(value, Mapping):  # a type-9 credentials parameter
            secret = value.get("password")
            identifier = value.get("identifier")
            if _given(secret):
                config[key] = secret
            if key in CREDENTIAL_PAIRS and _given(identifier):
                config[CREDENTIAL_PAIRS[key]] = identifier
        elif _given(value):
            config[key] = value
    return config


def action_arguments(args: Mapping[str, Any] | None) -> dict[str, Any]:
    """``demisto.args()`` as the action's parameters (XSOAR's system arguments removed)."""
    return {k: v for k, v in without(args, SYSTEM_ARGUMENTS).items() if _given(v)}


def _lookup(value: Any, path: list[str]) -> Any:
    for name in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        text = ", ".join(_cell(v) for v in value)
    elif isinstance(value, Mapping):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    return " ".join(text.replace("|", "\\|").split())


def table_rows(spec: ActionSpec, data: Any) -> tuple[list[str], list[list[str]]]:
    """The manifest's ``table_columns`` over ``data``: headers and one row per list item."""
    headers = [
        table_column_path(c).split(".", 1)[-1] if "[]" in c else c for c in spec.table_columns
    ]
    listed = [c.split("[]", 1)[0] for c in spec.table_columns if "[]" in c]
    items: list[Any] = [None]
    if listed:
        found = _lookup(data, listed[0].split("."))
        items = list(found) if isinstance(found, list) else []
    rows = []
    for item in items:
        row = []
        for column in spec.table_columns:
            if "[]" in column:
                list_path, field = column.split("[]", 1)
                source = item if list_path == listed[0] else None
                row.append(_cell(_lookup(source, field.lstrip(".").split("."))))
            else:
                row.append(_cell(_lookup(data, column.split("."))))
        rows.append(row)
    return headers, rows


def markdown_table(title: str, headers: list[str], rows: list[list[str]]) -> str:
    """A table as CommonServerPython's ``tableToMarkdown`` writes one."""
    lines = [f"### {title}"]
    if not rows:
        return "\n".join([*lines, "**No entries.**", ""])
    lines.append("|" + "|".join(headers) + "|")
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def readable_output(spec: ActionSpec, outcome: Outcome) -> str:
    """The war-room text: the envelope's message, its warnings and the action's table."""
    envelope = outcome.envelope
    parts = [str(envelope.get("message") or "")]
    parts += [f"Warning: {w}" for w in envelope.get("warnings") or []]
    if spec.table_columns:
        headers, rows = table_rows(spec, outcome.data)
        parts.append(markdown_table(spec.title, headers, rows))
    return "\n\n".join(p for p in parts if p)


def error_message(outcome: Outcome) -> str:
    """An error entry's text: the code, the message and what to do about it."""
    error = outcome.envelope.get("error") or {}
    text = f"{error.get('code', 'ERROR')}: {error.get('message', 'The action failed.')}"
    if error.get("hint"):
        text += f" Hint: {error['hint']}"
    return text


class SavedFile(BaseModel):
    """A file an action wrote under ``output_dir`` (an EML, an attachment)."""

    model_config = ConfigDict(frozen=True)

    file_name: str
    path: str


def saved_files(data: Any) -> Iterator[SavedFile]:
    """The pack's file objects in ``data`` (``{path, file_name, sha256, ...}``), in order."""
    if isinstance(data, Mapping):
        if {"path", "file_name", "sha256"} <= data.keys() and data.get("path"):
            yield SavedFile(file_name=str(data["file_name"]), path=str(data["path"]))
            return
        for value in data.values():
            yield from saved_files(value)
    elif isinstance(data, list):
        for value in data:
            yield from saved_files(value)


class XsoarResult(BaseModel):
    """One command's result, the XSOAR way: an entry, the test ``ok``, or an error message."""

    model_config = ConfigDict(frozen=True)

    command: str
    action: str | None = None
    entry: dict[str, Any] | None = None  # a CommandResults.to_context() dict
    files: list[SavedFile] = []  # to hand to the war room as file entries
    test_ok: bool = False
    error: str | None = None
    exit_code: int = 0


def command_entry(spec: ActionSpec, outcome: Outcome) -> dict[str, Any]:
    """A successful run as the entry ``CommandResults(outputs_prefix=..., ...)`` returns."""
    return {
        "Type": ENTRY_NOTE,
        "ContentsFormat": "json",
        "Contents": outcome.envelope,
        "HumanReadable": readable_output(spec, outcome),
        "EntryContext": {context_prefix(spec.id): outcome.data},
        "IndicatorTimeline": [],
        "IgnoreAutoExtract": False,
        "Note": False,
        "Relationships": [],
    }


def handle(
    command: str,
    params: Mapping[str, Any] | None,
    args: Mapping[str, Any] | None,
    command_map: Mapping[str, str] | None = None,
    manifest: Manifest | None = None,
) -> XsoarResult:
    """Runs one XSOAR command through the pack's runner (never raises)."""
    try:
        manifest = manifest or load_manifest()
        known = dict(command_map or commands(manifest))
        action_id = known.get(command)
        if action_id is None:
            return XsoarResult(
                command=command, error=f"Command {command!r} is not implemented.", exit_code=64
            )
        spec = manifest.action(action_id)
        outcome = invoke(
            action_id,
            action_arguments(args) if command != TEST_COMMAND else {},
            connection_config(params),
            source=SOURCE,
        )
    except Exception as exc:  # the pack's manifest could not be read: still an error entry
        return XsoarResult(command=command, error=f"{type(exc).__name__}: {exc}", exit_code=70)
    if not outcome.ok:
        return XsoarResult(
            command=command,
            action=action_id,
            error=error_message(outcome),
            exit_code=outcome.exit_code,
        )
    if command == TEST_COMMAND:  # the test action fails when the connection is not usable
        return XsoarResult(command=command, action=action_id, test_ok=True)
    return XsoarResult(
        command=command,
        action=action_id,
        entry=command_entry(spec, outcome),
        files=list(saved_files(outcome.data)),
    )


def fetch_settings(params: Mapping[str, Any] | None, manifest: Manifest) -> dict[str, Any]:
    """The fetch parameters of ``demisto.params()`` as the hook's parameters."""
    given = dict(params or {})
    return {
        field: given[name]
        for field, name in fetch_parameter_names(manifest).items()
        if _given(given.get(name))
    }


def xsoar_incident(record: IncidentRecord) -> dict[str, Any]:
    """One incident as ``demisto.incidents`` takes it; ``rawJSON`` is the whole record (for the
    classifier and mapper), ``dbotMirrorId`` the message's dedup key."""
    fields = record.fields
    details = [f"{fields.get('subject')} from {fields.get('sender')} to {fields.get('mailbox')}"]
    if fields.get("is_report"):
        details.append(
            f"Reported original: {fields.get('reported_subject')} from "
            f"{fields.get('reported_sender')} (SPF {fields.get('spf')}, DKIM "
            f"{fields.get('dkim')}, DMARC {fields.get('dmarc')})"
        )
    return {
        "name": record.name,
        "occurred": record.occurred,
        "severity": SEVERITY_LEVELS[record.severity],
        "details": "\n".join(details),
        "dbotMirrorId": record.source_id,
        "rawJSON": json.dumps(record.model_dump(mode="json"), ensure_ascii=False),
    }


def fetch_incidents(demisto: Any, manifest: Manifest | None = None) -> str | None:
    """``fetch-incidents``: polls from the last run's checkpoint, hands the incidents to
    ``demisto.incidents`` and then stores the new checkpoint with ``setLastRun``; returns the
    error message of a failed poll (nothing stored then), else None."""
    manifest = manifest or load_manifest()
    params = demisto.params()
    last_run = demisto.getLastRun() or {}
    try:
        result = run_ingest(
            manifest,
            fetch_settings(params, manifest),
            connection_config(params),
            last_run.get(LAST_RUN_KEY),
            source=SOURCE,
        )
    except HookFailed as failed:
        return error_message(failed.outcome)
    demisto.incidents([xsoar_incident(r) for r in result.incidents])
    if result.checkpoint:
        demisto.setLastRun({**last_run, LAST_RUN_KEY: result.checkpoint})
    return None


def main(
    demisto: Any,
    command_map: Mapping[str, str],
    return_results: Callable[[Any], Any],
    return_error: Callable[[str], Any],
    file_result: Callable[[str, bytes], Any] | None = None,
) -> None:
    """The integration's ``main()``: reads the call from ``demisto`` and returns the result.

    With ``file_result`` (CommonServerPython's ``fileResult``), every file the action saved
    also goes to the war room as a file entry: the container's ``output_dir`` does not last.
    """
    try:
        command = str(demisto.command())
        params, args = demisto.params(), demisto.args()
    except Exception as exc:
        return_error(f"Could not read the command from XSOAR: {type(exc).__name__}.")
        return
    if command == FETCH_COMMAND:
        try:
            failed = fetch_incidents(demisto)
        except Exception as exc:  # the contract allows no traceback, here too
            failed = f"fetch-incidents failed: {type(exc).__name__}."
        if failed is not None:
            return_error(failed)
        return
    result = handle(command, params, args, command_map)
    if result.error is not None:
        return_error(result.error)
    elif result.test_ok:
        return_results("ok")
    elif file_result is not None and result.files:
        entries = [result.entry]
        for saved in result.files:
            try:
                entries.append(file_result(saved.file_name, Path(saved.path).read_bytes()))
            except OSError as exc:
                entries.append(_warning(f"{saved.file_name} could not be read: {exc.strerror}."))
        return_results(entries)
    else:
        return_results(result.entry)


def _warning(text: str) -> dict[str, Any]:
    return {"Type": ENTRY_WARNING, "ContentsFormat": "text", "Contents": text}
