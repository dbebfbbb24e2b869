"""Splunk SOAR: an action's ``param`` dict and asset config onto the one runner, and back.

Splunk SOAR hands an app the action's ``param`` (with the ``context`` key it adds to every
call) and the asset's configuration; the result is an action result: a status, a message, a
summary and data rows, read by playbooks through ``action_result.data.*.<path>``. The one data
row is the envelope's ``data``. The ``sdk_*`` functions are what the app generated on
``splunk-soar-sdk`` calls (the SDK is imported only there: it needs Python 3.13).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..runner import invoke
from . import without

SOURCE = "splunk-soar"
INJECTED_KEYS = ("context",)  # Splunk SOAR adds it to every param dict


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
    outcome = invoke(action_id, _given(without(param, INJECTED_KEYS)), _given(asset), source=SOURCE)
    envelope = outcome.envelope
    message = str(envelope.get("message") or "")
    if not outcome.ok:
        error = envelope.get("error") or {}
        hint = error.get("hint")
        message = f"{error.get('code', 'ERROR')}: {error.get('message', message)}"
        message += f" ({hint})" if hint else ""
    data = outcome.data
    return SplunkResult(
        status=outcome.ok,
        message=message,
        summary=dict(envelope.get("summary") or {}),
        data=[data] if isinstance(data, dict) else [],
        envelope=envelope,
        exit_code=outcome.exit_code,
    )


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
