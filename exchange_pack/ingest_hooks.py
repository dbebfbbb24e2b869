"""What every platform's ingestion hook shares: the hook's parameters, from integration.yaml's
``ingestion`` entry and the polling action's schema, and one ingest run through the runner.

A hook (Cloud SOAR daemon, XSOAR fetch-incidents, Splunk SOAR on poll, StackStorm sensor) loads
the platform's stored checkpoint, calls :func:`run_ingest`, hands the incidents to the platform
and only then stores the returned checkpoint, the order :mod:`exchange_pack.ingest` relies on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict

from .errors import ConfigError, InputError
from .fields import InputField, input_fields
from .ingest import (
    MAX_ROUNDS,
    SEVERITIES,
    IncidentRecord,
    MemoryStore,
    incident_of,
    ingest,
    severity_of,
)
from .manifest import Manifest
from .runner import Outcome, execute, invoke

SEVERITY = "severity"  # the hook's own parameter: every incident's severity
_RELATIVE = re.compile(r"^\s*(\d+)\s*(minute|hour|day|week)s?\s*(ago)?\s*$", re.IGNORECASE)
_UNITS = {"minute": "minutes", "hour": "hours", "day": "days", "week": "weeks"}


class IngestionSpec(BaseModel):
    """integration.yaml's ``ingestion`` entry."""

    model_config = ConfigDict(frozen=True)

    action: str  # the polling action
    checkpoint: str  # its parameter taking the stored checkpoint (and its data's key)
    first_run: str  # its parameter saying where a first run starts
    interval_minutes: int
    name: str
    incident_type: str


class IngestResult(BaseModel):
    """One hook run: the incidents to open, then the checkpoint to store."""

    model_config = ConfigDict(frozen=True)

    incidents: list[IncidentRecord]
    checkpoint: str | None


class HookFailed(Exception):
    """The poll failed: the outcome (envelope, exit code, stderr line) to report as is."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.stderr.strip() or "the poll failed")
        self.outcome = outcome


def has_ingestion(manifest: Manifest) -> bool:
    """Whether the manifest declares an ingestion hook (the bundles generate one only then)."""
    return "ingestion" in (manifest.model_extra or {})


def ingestion_spec(manifest: Manifest) -> IngestionSpec:
    """The manifest's ingestion entry (ConfigError when the manifest declares none)."""
    if not has_ingestion(manifest):
        raise ConfigError("integration.yaml declares no ingestion hook (its `ingestion` entry).")
    return IngestionSpec.model_validate((manifest.model_extra or {})["ingestion"])


def hook_fields(manifest: Manifest) -> list[InputField]:
    """The hook's parameters: the polling action's, less the checkpoint, plus ``severity``."""
    spec = ingestion_spec(manifest)
    fields = [f for f in input_fields(spec.action) if f.name != spec.checkpoint]
    severity = InputField(
        name=SEVERITY,
        type="string",
        default="medium",
        has_default=True,
        allowed=list(SEVERITIES),
        description="Severity of every incident opened from a polled message.",
    )
    return [*fields, severity]


def incident_field_names() -> list[str]:
    """The keys of :attr:`IncidentRecord.fields` (for platforms that declare them up front)."""
    sample = {"key": "k", "enrichment": {"is_report": True}}
    return list(incident_of(sample, mailbox="m", severity="medium").fields)


def first_run_time(value: str, now: datetime | None = None) -> str:
    """A first-run start as ISO 8601: ``3 days`` (XSOAR's first_fetch style) or ISO as given."""
    match = _RELATIVE.match(value)
    if not match:
        return value
    moment = (now or datetime.now(timezone.utc)) - timedelta(
        **{_UNITS[match.group(2).lower()]: int(match.group(1))}
    )
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_ingest(
    manifest: Manifest,
    params: Mapping[str, Any],
    config: Mapping[str, Any],
    checkpoint: str | None,
    *,
    source: str,
    rounds: int = MAX_ROUNDS,
) -> IngestResult:
    """Polls from ``checkpoint`` (again while more wait) through the runner; HookFailed when a
    poll fails or a hook parameter is bad (the platform stores nothing then)."""
    spec = ingestion_spec(manifest)
    values = {k: v for k, v in params.items() if v is not None and v != ""}
    try:
        severity = severity_of(values.pop(SEVERITY, None))
    except ValueError as exc:
        raise HookFailed(execute(spec.action, None, error=InputError(str(exc)))) from None
    if spec.checkpoint in values:
        error = InputError(f"{spec.checkpoint}: the hook keeps the checkpoint itself")
        raise HookFailed(execute(spec.action, None, error=error))
    if isinstance(values.get(spec.first_run), str):
        values[spec.first_run] = first_run_time(values[spec.first_run])

    def poll(call: dict[str, Any]) -> Mapping[str, Any]:
        outcome = invoke(spec.action, call, config, source=source)
        if not outcome.ok:
            raise HookFailed(outcome)
        return outcome.data  # type: ignore[no-any-return]

    store = MemoryStore(checkpoint or None)
    found: list[IncidentRecord] = []
    ingest(poll, store, found.extend, values, severity=severity, max_rounds=rounds)
    return IngestResult(incidents=found, checkpoint=store.load())
