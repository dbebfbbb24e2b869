"""Graph ``messages/{id}/attachments``: list, get (``$expand`` of an item attachment), ``$value``
(raw bytes, or the MIME of an attached message), delete, and add (file or item attachment)."""

from __future__ import annotations

from typing import Any

from ..mime import parse_mime
from ..store import Attachment, Message, attached_message
from ..web import Response
from . import compose, errors, permissions, responses, serialize
from .pipeline import GraphCall, GraphRoutes

_EXPAND_ITEM = "microsoft.graph.itemattachment/item"


def _fragment(call: GraphCall, message: Message) -> str:
    return f"{responses.user_set(call)}/messages('{serialize.rest_id(message.id)}')/attachments"


def _render(call: GraphCall, a: Attachment, chosen: list[str] | None, full: bool) -> dict[str, Any]:
    include_bytes = a.kind == "file" and (full or serialize.wants(chosen, "contentBytes"))
    content = call.store.attachment_content(a.id) if include_bytes else None
    return serialize.attachment(a, chosen, content=content)


def attached_item(call: GraphCall, a: Attachment) -> dict[str, Any]:
    """The ``item`` of an itemAttachment: the attached message parsed from its MIME."""
    parsed = parse_mime(call.store.attachment_content(a.id))
    owner = call.store.message(a.message_id)
    stamp = a.last_modified or call.tenant.now()
    item = attached_message(
        parsed,
        a.size,
        stamp,
        modified_at=stamp,
        id=a.id,
        mailbox_id=owner.mailbox_id if owner else 0,
    )
    data = serialize.message(item, body_type=call.prefer.body_type)
    for name in ("@odata.etag", "changeKey", "parentFolderId", "webLink"):
        data.pop(name, None)
    data["id"] = ""
    return {"@odata.type": "#microsoft.graph.message", **data}


def list_attachments(call: GraphCall) -> Response:
    """GET /users/{id}/messages/{id}/attachments (contentBytes unless ``$select`` leaves it out)."""
    message = call.message()
    options = call.options()
    found = call.store.attachments(message.id)
    return responses.collection(
        call,
        found,
        lambda a: _render(call, a, options.select, full=options.select is None),
        _fragment(call, message),
        options,
        default_top=max(len(found), 1),
    )


def get_attachment(call: GraphCall) -> Response:
    """GET /users/{id}/messages/{id}/attachments/{id} (``$expand=...itemattachment/item``)."""
    message = call.message()
    a = call.attachment(message)
    options = call.options()
    data = _render(call, a, options.select, full=True)
    expand = [e.lower() for e in options.expand]
    if a.kind == "item" and _EXPAND_ITEM in expand:
        data["item@odata.context"] = call.context(
            f"{_fragment(call, message)}('{serialize.rest_id(a.id)}')"
            "/microsoft.graph.itemAttachment/item/$entity"
        )
        data["item"] = attached_item(call, a)
    elif [e for e in expand if e != _EXPAND_ITEM]:
        raise errors.bad_request(f"Parsing OData Select and Expand failed: '{options.expand}'.")
    return responses.entity(call, data, _fragment(call, message), options=options)


def get_attachment_value(call: GraphCall) -> Response:
    """GET /users/{id}/messages/{id}/attachments/{id}/$value: the raw content, streamed."""
    message = call.message()
    a = call.attachment(message)
    content_type = "message/rfc822" if a.kind == "item" else a.content_type
    return Response(200, {"Content-Type": content_type}, call.store.iter_attachment_content(a.id))


def delete_attachment(call: GraphCall) -> Response:
    """DELETE /users/{id}/messages/{id}/attachments/{id}."""
    message = call.message()
    a = call.attachment(message)
    call.store.delete_attachment(a.id)
    return Response.empty(204)


def add_attachment(call: GraphCall) -> Response:
    """POST /users/{id}/messages/{id}/attachments: a fileAttachment or an itemAttachment."""
    assert call.mailbox is not None
    message = call.message()
    data = call.json_body()
    kind = str(data.get("@odata.type", "")).lower()
    if kind == "#microsoft.graph.fileattachment":
        name, content_type, content, inline, cid = compose.decode_file_attachment(data)
        created = call.store.add_attachment(
            message.id, name, content_type, content, is_inline=inline, content_id=cid
        )
    elif kind == "#microsoft.graph.itemattachment":
        item = data.get("item")
        if not isinstance(item, dict):
            raise errors.bad_request("An itemAttachment needs an 'item'.")
        mime = compose.mime_from_json(item, call.mailbox)
        name = str(data.get("name") or item.get("subject") or "Untitled")
        created = call.store.add_attachment(message.id, name, "message/rfc822", mime, kind="item")
    else:
        raise errors.bad_request(
            "The '@odata.type' of an attachment must be #microsoft.graph.fileAttachment or "
            "#microsoft.graph.itemAttachment.",
            code="ErrorInvalidRequest",
        )
    return responses.entity(
        call, _render(call, created, None, full=True), _fragment(call, message), status=201
    )


def register(routes: GraphRoutes) -> None:
    """Adds the attachment routes."""
    read, write = permissions.MAIL_READ, permissions.MAIL_WRITE
    routes.add_item("GET", "/attachments", list_attachments, read)
    routes.add_item("POST", "/attachments", add_attachment, write)
    routes.add_item("GET", "/attachments/{attachment}", get_attachment, read)
    routes.add_item("GET", "/attachments/{attachment}/$value", get_attachment_value, read)
    routes.add_item("DELETE", "/attachments/{attachment}", delete_attachment, write)
