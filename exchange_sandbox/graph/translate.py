"""Graph ``translateExchangeIds``: between the REST and EWS forms of an item id (the sandbox's
ids are immutable, so ``restImmutableEntryId`` names the same id as ``restId``)."""

from __future__ import annotations

from typing import Any

from .. import ids
from ..web import Response
from . import errors, permissions
from .pipeline import GraphCall, GraphRoutes

_FORMS = {"restid": "rest", "restimmutableentryid": "rest", "ewsid": "ews"}
_KNOWN = {"entryid", "ewsid", "immutableentryid", "restid", "restimmutableentryid"}


def _form(value: Any, name: str) -> str:
    text = str(value or "").lower()
    if text in _FORMS:
        return _FORMS[text]
    if text in _KNOWN:
        raise errors.bad_request(
            f"The sandbox translates restId, restImmutableEntryId and ewsId; not '{value}'.",
            code="ErrorInvalidRequest",
        )
    raise errors.bad_request(f"Invalid value '{value}' for '{name}'.", code="ErrorInvalidRequest")


def translate_ids(call: GraphCall) -> Response:
    """POST /users/{id}/translateExchangeIds."""
    assert call.mailbox is not None
    data = call.json_body()
    inputs = data.get("inputIds")
    if not isinstance(inputs, list) or not inputs:
        raise errors.bad_request("inputIds must be a non-empty array.", code="ErrorInvalidRequest")
    if len(inputs) > 1000:
        raise errors.bad_request("At most 1000 ids may be translated at once.")
    _form(data.get("sourceIdType"), "sourceIdType")
    target = _form(data.get("targetIdType"), "targetIdType")
    results: list[dict[str, Any]] = []
    for source in inputs:
        key = ids.parse(str(source))
        if key is None or key.mailbox_id != call.mailbox.id:
            results.append(
                {
                    "sourceId": source,
                    "errorDetails": {
                        "code": "ErrorInvalidIdMalformed",
                        "message": "Id is malformed.",
                    },
                }
            )
            continue
        results.append({"sourceId": source, "targetId": key.rest if target == "rest" else key.ews})
    context = call.context("Collection(microsoft.graph.convertIdResult)")
    return Response.json(200, {"@odata.context": context, "value": results})


def register(routes: GraphRoutes) -> None:
    """Adds the id translation route."""
    routes.add("POST", "/users/{user}/translateExchangeIds", translate_ids, permissions.USERS_READ)
