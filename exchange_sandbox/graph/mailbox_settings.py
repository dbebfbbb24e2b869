"""Graph ``mailboxSettings``: GET (whole or one property, e.g. ``automaticRepliesSetting``) and
PATCH (automatic replies and the other settings)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from ..store import OutOfOffice
from ..web import Response
from . import errors, permissions, responses, serialize
from .pipeline import GraphCall, GraphRoutes

_STATUS = {"disabled": "disabled", "alwaysenabled": "alwaysEnabled", "scheduled": "scheduled"}
_AUDIENCE = {"none": "none", "contactsonly": "contactsOnly", "all": "all"}
_SETTINGS = (
    "timeZone",
    "language",
    "dateFormat",
    "timeFormat",
    "delegateMeetingMessageDeliveryOptions",
    "workingHours",
    "archiveFolder",
)
_READ_ONLY = ("userPurpose",)


def _settings(call: GraphCall) -> dict[str, Any]:
    assert call.mailbox is not None
    data = dict(call.store.mailbox_settings(call.mailbox.id))
    oof = call.store.out_of_office(call.mailbox.id)
    data["automaticRepliesSetting"] = serialize.automatic_replies(oof)
    return data


def _fragment(call: GraphCall) -> str:
    return f"{responses.user_set(call)}/mailboxSettings"


def get_settings(call: GraphCall) -> Response:
    """GET /users/{id}/mailboxSettings."""
    body = {"@odata.context": call.context(_fragment(call)), **_settings(call)}
    return Response.json(200, body)


def get_setting(call: GraphCall) -> Response:
    """GET /users/{id}/mailboxSettings/{property} (automaticRepliesSetting, workingHours...)."""
    name = call.params["setting"]
    data = _settings(call)
    key = next((k for k in data if k.lower() == name.lower()), None)
    if key is None:
        raise errors.segment_not_found(name)
    context = call.context(f"{_fragment(call)}/{key}")
    value = data[key]
    if isinstance(value, dict):
        return Response.json(200, {"@odata.context": context, **value})
    return Response.json(200, {"@odata.context": context, "value": value})


def _enum(value: Any, allowed: dict[str, str], name: str) -> str:
    found = allowed.get(str(value).lower())
    if found is None:
        raise errors.bad_request(
            f"Invalid value '{value}' for '{name}'; expected one of {', '.join(allowed.values())}.",
            code="ErrorInvalidRequest",
        )
    return found


def _when(value: Any, name: str) -> dt.datetime | None:
    try:
        return serialize.parse_date_time_zone(value)
    except ValueError:
        raise errors.bad_request(f"Invalid dateTimeTimeZone for '{name}'.") from None


def _automatic_replies(current: OutOfOffice, changes: dict[str, Any]) -> OutOfOffice:
    updated = current
    for name, value in changes.items():
        if name.startswith("@odata."):
            continue
        if name == "status":
            updated = replace(updated, status=_enum(value, _STATUS, name))  # type: ignore[arg-type]
        elif name == "externalAudience":
            audience = _enum(value, _AUDIENCE, name)
            updated = replace(updated, external_audience=audience)  # type: ignore[arg-type]
        elif name == "internalReplyMessage":
            updated = replace(updated, internal_reply=str(value or ""))
        elif name == "externalReplyMessage":
            updated = replace(updated, external_reply=str(value or ""))
        elif name == "scheduledStartDateTime":
            updated = replace(updated, start=_when(value, name))
        elif name == "scheduledEndDateTime":
            updated = replace(updated, end=_when(value, name))
        else:
            raise errors.bad_request(
                f"The property '{name}' does not exist on type "
                "'microsoft.graph.automaticRepliesSetting'.",
                code="RequestBodyRead",
            )
    if updated.status == "scheduled" and not (updated.start and updated.end):
        raise errors.bad_request(
            "Scheduled automatic replies need scheduledStartDateTime and scheduledEndDateTime.",
            code="ErrorInvalidRequest",
        )
    return updated


def update_settings(call: GraphCall) -> Response:
    """PATCH /users/{id}/mailboxSettings: 200 with the updated properties."""
    assert call.mailbox is not None
    data = call.json_body()
    changes: dict[str, Any] = {}
    for name, value in data.items():
        if name.startswith("@odata.") or name in _READ_ONLY:
            continue
        if name == "automaticRepliesSetting":
            if not isinstance(value, dict):
                raise errors.bad_request("automaticRepliesSetting must be an object.")
            current = call.store.out_of_office(call.mailbox.id)
            call.store.set_out_of_office(call.mailbox.id, _automatic_replies(current, value))
        elif name in _SETTINGS:
            changes[name] = value
        else:
            raise errors.bad_request(
                f"The property '{name}' does not exist on type 'microsoft.graph.mailboxSettings'.",
                code="RequestBodyRead",
            )
    if changes:
        call.store.set_mailbox_settings(call.mailbox.id, changes)
    current = _settings(call)
    body = {"@odata.context": call.context(_fragment(call))}
    body.update({k: current[k] for k in data if k in current})
    return Response.json(200, body)


def register(routes: GraphRoutes) -> None:
    """Adds the mailbox settings routes."""
    read, write = permissions.MAILBOX_SETTINGS_READ, permissions.MAILBOX_SETTINGS_WRITE
    routes.add("GET", "/users/{user}/mailboxSettings", get_settings, read)
    routes.add("PATCH", "/users/{user}/mailboxSettings", update_settings, write)
    routes.add("GET", "/users/{user}/mailboxSettings/{setting}", get_setting, read)
