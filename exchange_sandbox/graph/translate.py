"""Graph ``translateExchangeIds``: between the REST and EWS forms of an item id, and between a
message's entry id (``restId``/``ewsId``, which changes on a move) and its immutable id
(``restImmutableEntryId``)."""

from __future__ import annotations

from typing import Any

from .. import id_forms, ids
from ..web import Response
from . import errors, permissions
from .pipeline import GraphCall, GraphRoutes

_FORMS = {"restid": "rest", "restimmutableentryid": "immutable", "ewsid": "ews"}
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
        found = id_forms.translated(call.store, str(source), immutable=target == "immutable")
        if found is None:
            not_found = {"code": "ErrorItemNotFound", "message": "The item was not found."}
            results.append({"sourceId": source, "errorDetails": not_found})
            continue
        results.append(
            {"sourceId": source, "targetId": found if target == "ews" else ids.to_rest(found)}
        )
    context = call.context("Collection(microsoft.graph.convertIdResult)")
    return Response.json(200, {"@odata.context": context, "value": results})


def register(routes: GraphRoutes) -> None:
    """Adds the id translation route."""
    routes.add("POST", "/users/{user}/translateExchangeIds", translate_ids, permissions.USERS_READ)
