"""Splunk SOAR: an action's ``param`` dict and asset config onto the one runner, and back.

Splunk SOAR hands an app the action's ``param`` (with the ``context`` key it adds to every
call) and the asset's configuration; the result is an action result: a status, a message, a
summary and data rows, read by playbooks through ``action_result.data.*.<path>``. The one data
row is the envelope's ``data``. The ``sdk_*`` functions are what the app generated on
``splunk-soar-sdk`` calls (the SDK is imported only there: it needs Python 3.13).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..ingest import MAX_ROUNDS, IncidentRecord
from ..ingest_hooks import HookFailed, hook_fields, run_ingest
from ..manifest import load_manifest
from ..runner import invoke
from . import without

SOURCE = "splunk-soar"
INJECTED_KEYS = ("context",)  # Splunk SOAR adds it to every param dict
# The on-poll settings are asset fields too (on poll takes no parameters of its own): the
# hook's fields with this prefix, removed from the connection of every other action.
INGEST_PREFIX = "ingest_"
CHECKPOINT_KEY = "checkpoint"  # in the asset's ingest state
# Splunk SOAR's built-in severities are low, medium and high.
SEVERITIES = {
    "unknown": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "critical": "high",
}
POLL_NOW_LIMIT = 500  # poll_mailbox's most per run


class SplunkResult(BaseModel):
    """One action result as Splunk SOAR records it."""

    model_config = ConfigDict(frozen=True)

    status: bool  # phantom.APP_SUCCESS / APP_ERROR
    message: str
    summary: dict[str, Any]
    data: list[dict[str, Any]]  # action_result.data: one row, the envelope's data
    envelope: dict[str, Any]
    exit_code: int


def _given(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """The values set: an optional field left empty comes as None."""
    return {k: v for k, v in (values or {}).items() if v is not None}


def run_action(
    action_id: str, param: Mapping[str, Any] | None, asset: Mapping[str, Any] | None
) -> SplunkResult:
    """Runs ``action_id`` in process from Splunk's ``param`` and asset config."""
    connection = {k: v for k, v in _given(asset).items() if not k.startswith(INGEST_PREFIX)}
    outcome = invoke(action_id, _given(without(param, INJECTED_KEYS)), connection, source=SOURCE)
    envelope = outcome.envelope
    message = str(envelope.get("message") or "")
    if not outcome.ok:
        message = _failure_message(envelope)
    data = outcome.data
    return SplunkResult(
        status=outcome.ok,
        message=message,
        summary=dict(envelope.get("summary") or {}),
        data=[data] if isinstance(data, dict) else [],
        envelope=envelope,
        exit_code=outcome.exit_code,
    )


def _failure_message(envelope: Mapping[str, Any]) -> str:
    error = envelope.get("error") or {}
    hint = error.get("hint")
    message = f"{error.get('code', 'ERROR')}: {error.get('message', '')}"
    return message + (f" ({hint})" if hint else "")


class PollFailed(Exception):
    """On poll failed: the message Splunk shows; nothing saved, the state left as it was."""


def container_of(record: IncidentRecord) -> dict[str, Any]:
    """A Splunk SOAR container from an incident record (``source_data_identifier`` dedups)."""
    return {
        "name": record.name,
        "severity": SEVERITIES[record.severity],
        "source_data_identifier": record.source_id,
        "start_time": record.occurred,
        "description": f"{record.fields.get('subject')} (from {record.fields.get('sender')})",
        "data": {"redelivered": record.redelivered, **record.fields},
    }


def artifact_of(record: IncidentRecord) -> dict[str, Any]:
    """The container's artifact: the message and its enrichment as CEF-like fields."""
    fields = record.fields
    cef = {
        "fromEmail": fields.get("sender"),
        "toEmail": ", ".join(fields.get("recipients") or []),
        "emailSubject": fields.get("subject"),
        "internetMessageId": fields.get("internet_message_id"),
        "messageId": fields.get("message_id"),
        "mailbox": fields.get("mailbox"),
        **{k: v for k, v in fields.items() if k not in ("sender", "recipients", "subject")},
    }
    cef = {k: v for k, v in cef.items() if v is not None and v != [] and v != ""}
    return {
        "name": "Email Artifact",
        "label": "email",
        "severity": SEVERITIES[record.severity],
        "source_data_identifier": record.source_id,
        "cef": cef,
        "cef_types": {
            "fromEmail": ["email"],
            "toEmail": ["email"],
            "mailbox": ["email"],
            "internetMessageId": ["internet message id"],
            "reported_sender": ["email"],
        },
        "run_automation": True,
    }


def on_poll(
    asset: Mapping[str, Any], state: MutableMapping[str, Any], *, poll_now_count: int | None = None
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """On poll: a (container, artifact) per new message from the checkpoint in ``state``;
    once the caller has taken (saved) the last one, the new checkpoint goes into ``state``.

    Poll now (``poll_now_count``: the containers asked for) polls at most that many and leaves
    the state alone, so the scheduled polls still see those messages (same source id: Splunk
    finds the duplicate container instead of opening another).
    """
    manifest = load_manifest()
    values = _given(asset)
    connection = {k: v for k, v in values.items() if not k.startswith(INGEST_PREFIX)}
    params = {
        f.name: values[INGEST_PREFIX + f.name]
        for f in hook_fields(manifest)
        if INGEST_PREFIX + f.name in values
    }
    if poll_now_count is not None:
        params["limit"] = max(1, min(int(poll_now_count), POLL_NOW_LIMIT))
    rounds = 1 if poll_now_count is not None else MAX_ROUNDS
    try:
        result = run_ingest(
            manifest, params, connection, state.get(CHECKPOINT_KEY), source=SOURCE, rounds=rounds
        )
    except HookFailed as failed:
        raise PollFailed(_failure_message(failed.outcome.envelope)) from None
    for record in result.incidents:
        yield container_of(record), artifact_of(record)
    if poll_now_count is None and result.checkpoint:
        state[CHECKPOINT_KEY] = result.checkpoint


def _values(model: Any) -> dict[str, Any]:
    """An SDK Params/Asset model as the dict Splunk sent (keys by alias)."""
    return dict(model.model_dump(by_alias=True)) if model is not None else {}


def sdk_run(
    action_id: str, params: Any, asset: Any, soar: Any, output_cls: type, summary_cls: type
) -> Any:
    """The body of a generated ``@app.action``: the result as the action's ``ActionOutput``."""
    from soar_sdk.exceptions import ActionFailure

    result = run_action(action_id, _values(params), _values(asset))
    if not result.status:
        raise ActionFailure(result.message)
    soar.set_message(result.message)
    soar.set_summary(summary_cls(**result.summary))
    return output_cls(**result.data[0])


def sdk_test_connectivity(action_id: str, asset: Any, soar: Any) -> None:
    """The body of the generated ``test connectivity``: fails with the pack's message."""
    from soar_sdk.exceptions import ActionFailure

    result = run_action(action_id, {}, _values(asset))
    if not result.status:
        raise ActionFailure(result.message)


def sdk_on_poll(params: Any, asset: Any) -> Iterator[Any]:
    """The body of the generated ``@app.on_poll``: Containers and Artifacts; the checkpoint in
    ``asset.ingest_state``, which the SDK commits only after saving them."""
    from soar_sdk.exceptions import ActionFailure
    from soar_sdk.models.artifact import Artifact
    from soar_sdk.models.container import Container

    count = int(params.container_count) if params.is_manual_poll() else None
    try:
        for container, artifact in on_poll(
            _values(asset), asset.ingest_state, poll_now_count=count
        ):
            yield Container(**container)
            yield Artifact(**artifact)
    except PollFailed as exc:
        raise ActionFailure(str(exc)) from None
