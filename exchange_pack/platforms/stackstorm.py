"""StackStorm: a python-script action's ``run(**kwargs)`` and pack config onto the one runner.

st2 passes every declared parameter as a keyword argument (``None`` for an optional one left
unset) and the pack config as ``self.config``; a ``(status, result)`` tuple makes a ``False``
status a failed execution with ``result`` as its output. :func:`sensor_poll` is the body of
the generated polling sensor (the ingestion hook).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..ingest_hooks import HookFailed, hook_fields, ingestion_spec, run_ingest
from ..manifest import load_manifest
from ..runner import invoke

SOURCE = "stackstorm"
# The sensor's settings are pack config keys (a sensor takes no parameters): the hook's fields
# with this prefix, removed from the connection every action gets.
INGEST_PREFIX = "ingest_"


def _set(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """The values given: st2 passes None for an unset optional parameter (or config key)."""
    return {k: v for k, v in (values or {}).items() if v is not None}


def run_action(
    action_id: str, kwargs: Mapping[str, Any], config: Mapping[str, Any] | None
) -> tuple[bool, dict[str, Any]]:
    """Runs ``action_id`` in process; ``(ok, envelope)`` as st2's python runner expects."""
    outcome = invoke(action_id, _set(kwargs), _connection(config), source=SOURCE)
    return outcome.ok, outcome.envelope


def _connection(config: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in _set(config).items() if not k.startswith(INGEST_PREFIX)}


def checkpoint_key() -> str:
    """The sensor's datastore key (local to the sensor) for the checkpoint."""
    return f"{ingestion_spec(load_manifest()).action}.checkpoint"


def sensor_poll(sensor_service: Any, config: Mapping[str, Any] | None, trigger: str) -> int:
    """One poll of the sensor: dispatches ``trigger`` once per new message (the incident record
    as payload), then stores the checkpoint with ``set_value``; returns how many it dispatched.
    A failed poll is logged and stores nothing (the next poll retries from the same point)."""
    manifest = load_manifest()
    values = _set(config)
    params = {
        f.name: values[INGEST_PREFIX + f.name]
        for f in hook_fields(manifest)
        if INGEST_PREFIX + f.name in values
    }
    key = checkpoint_key()
    try:
        result = run_ingest(
            manifest, params, _connection(config), sensor_service.get_value(key), source=SOURCE
        )
    except HookFailed as failed:
        sensor_service.get_logger(name=__name__).error(failed.outcome.stderr.strip())
        return 0
    for incident in result.incidents:
        sensor_service.dispatch(
            trigger=trigger, payload=incident.model_dump(mode="json"), trace_tag=incident.source_id
        )
    if result.checkpoint:
        sensor_service.set_value(key, result.checkpoint)
    return len(result.incidents)
