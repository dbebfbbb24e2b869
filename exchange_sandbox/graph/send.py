"""Graph mail submission: ``sendMail`` (JSON or base64 MIME), ``send`` (a draft), and the
reply/forward family — ``createReply``/``createReplyAll``/``createForward`` save a draft (201),
``reply``/``replyAll``/``forward`` send at once (202)."""

from __future__ import annotations

import html
from typing import Any, Literal

from ..store import Address, Message
from ..web import Response
from . import compose, delivery, errors, permissions, serialize
from .messages import message_response
from .pipeline import GraphCall, GraphRoutes, action_parameter

Mode = Literal["reply", "replyAll", "forward"]
_PREFIX = {"reply": "RE: ", "replyAll": "RE: ", "forward": "FW: "}


def _subject(original: str, mode: Mode) -> str:
    prefix = _PREFIX[mode]
    return original if original.upper().startswith(prefix.strip().upper()) else prefix + original


def _recipients(call: GraphCall, original: Message, mode: Mode) -> tuple[list, list]:
    """(to, cc) of a reply as Outlook fills them; a forward starts with none."""
    if mode == "forward":
        return [], []
    assert call.mailbox is not None
    me = call.mailbox.address.lower()
    author = original.reply_to or [a for a in (original.from_ or original.sender,) if a]
    to = list(author)
    cc: list[Address] = []
    if mode == "replyAll":
        taken = {a.address.lower() for a in to} | {me}
        for a in original.to:
            if a.address.lower() not in taken:
                to.append(a)
                taken.add(a.address.lower())
        cc = [a for a in original.cc if a.address.lower() not in taken]
    return [serialize.recipient(a) for a in to], [serialize.recipient(a) for a in cc]


def _quoted_body(original: Message, comment: str) -> tuple[str, str]:
    """(body, type): the comment above Outlook's header block and the original body."""
    header = {
        "From": _people([original.from_] if original.from_ else []),
        "Sent": serialize.timestamp(original.sent_at or original.received_at) or "",
        "To": _people(original.to),
        "Cc": _people(original.cc),
        "Subject": original.subject,
    }
    if original.body_type == "html":
        lines = "".join(
            f"<b>{name}:</b> {html.escape(value)}<br>" for name, value in header.items() if value
        )
        body = (
            f"<html><body><div>{html.escape(comment)}</div><hr><div>{lines}</div>"
            f"{original.body}</body></html>"
        )
        return body, "html"
    lines = "\r\n".join(f"{name}: {value}" for name, value in header.items() if value)
    return (
        f"{comment}\r\n\r\n________________________________\r\n{lines}\r\n\r\n{original.body}",
        "text",
    )


def _people(addresses: list[Address | None]) -> str:
    return "; ".join(f"{a.name} <{a.address}>" if a.name else a.address for a in addresses if a)


def _references(original: Message) -> str:
    earlier = next((v for n, v in original.headers if n.lower() == "references"), "")
    return " ".join(part for part in (earlier, original.internet_message_id) if part)


def _response_mime(call: GraphCall, original: Message, mode: Mode, data: dict[str, Any]) -> bytes:
    """The MIME of a reply/reply-all/forward of ``original``, with the request's changes."""
    assert call.mailbox is not None
    overrides = action_parameter(data, "message") or {}
    if not isinstance(overrides, dict):
        raise errors.bad_request("The 'message' parameter must be a message object.")
    to, cc = _recipients(call, original, mode)
    given_to = action_parameter(data, "toRecipients")
    body, body_type = _quoted_body(original, str(action_parameter(data, "comment") or ""))
    draft: dict[str, Any] = {
        "subject": _subject(original.subject, mode),
        "toRecipients": given_to if given_to is not None else to,
        "ccRecipients": cc,
        "body": {"contentType": body_type, "content": body},
    }
    draft.update({k: v for k, v in overrides.items() if v is not None})
    inherited: list[tuple[str, str, bytes, bool, str | None]] = []
    items: list[bytes] = []
    if mode == "forward":
        for a in call.store.attachments(original.id):
            content = call.store.attachment_content(a.id)
            if a.kind == "item":
                items.append(content)
            else:
                inherited.append((a.name, a.content_type, content, a.is_inline, a.content_id))
    return compose.mime_from_json(
        draft,
        call.mailbox,
        in_reply_to=original.internet_message_id or None,
        references=_references(original) or None,
        attached_messages=items,
        inherited_attachments=inherited,
    )


def _create(mode: Mode) -> Any:
    def handler(call: GraphCall) -> Response:
        assert call.mailbox is not None
        original = call.message()
        data = {} if compose.is_mime_body(call.request) else call.json_body()
        mime = _response_mime(call, original, mode, data)
        drafts = call.folder("drafts")
        created = call.store.add_message(
            call.mailbox.id,
            drafts.id,
            mime,
            received_at=call.tenant.now(),
            is_read=True,
            is_draft=True,
        )
        return message_response(call, created, status=201)

    name = {"reply": "createReply", "replyAll": "createReplyAll", "forward": "createForward"}
    handler.__doc__ = f"POST /users/{{id}}/messages/{{id}}/{name[mode]}: a draft, 201."
    return handler


def _respond(mode: Mode) -> Any:
    def handler(call: GraphCall) -> Response:
        assert call.mailbox is not None
        original = call.message()
        if compose.is_mime_body(call.request):
            mime = compose.decode_mime(call.request)
        else:
            data = call.json_body()
            if mode == "forward" and not (
                action_parameter(data, "toRecipients")
                or (action_parameter(data, "message") or {}).get("toRecipients")
            ):
                raise errors.GraphError(
                    400, "ErrorInvalidRecipients", "At least one recipient isn't valid."
                )
            mime = _response_mime(call, original, mode, data)
        delivery.submit(call.store, call.mailbox, mime, save_to_sent=True, now=call.tenant.now())
        return Response.empty(202)

    handler.__doc__ = f"POST /users/{{id}}/messages/{{id}}/{mode}: sent at once, 202."
    return handler


def send_draft(call: GraphCall) -> Response:
    """POST /users/{id}/messages/{id}/send: submit a draft; it moves to Sent Items."""
    assert call.mailbox is not None
    m = call.message()
    if not m.is_draft:
        raise errors.bad_request(
            "The item is not a draft; only draft messages can be sent.", code="ErrorInvalidRequest"
        )
    mime = call.store.mime(m.id)
    delivery.submit(call.store, call.mailbox, mime, save_to_sent=False, now=call.tenant.now())
    call.store.update_message(m.id, is_draft=False)
    call.store.move_message(m.id, call.folder("sentitems").id)
    return Response.empty(202)


def send_mail(call: GraphCall) -> Response:
    """POST /users/{id}/sendMail: JSON ``message`` + ``saveToSentItems``, or base64 MIME."""
    assert call.mailbox is not None
    if compose.is_mime_body(call.request):
        mime, save = compose.decode_mime(call.request), True
    else:
        data = call.json_body()
        message = action_parameter(data, "message")
        if not isinstance(message, dict):
            raise errors.bad_request(
                "Missing value for the required parameter 'message'.",
                code="ErrorInvalidParameter",
            )
        save_value = action_parameter(data, "saveToSentItems")
        save = True if save_value is None else save_value not in (False, "false", "False")
        mime = compose.mime_from_json(message, call.mailbox)
    delivery.submit(call.store, call.mailbox, mime, save_to_sent=save, now=call.tenant.now())
    return Response.empty(202)


def register(routes: GraphRoutes) -> None:
    """Adds the send, reply and forward routes."""
    write, send = permissions.MAIL_WRITE, permissions.MAIL_SEND
    for mode in ("reply", "replyAll", "forward"):
        create = "create" + mode[0].upper() + mode[1:]
        routes.add_item("POST", f"/{create}", _create(mode), write)  # type: ignore[arg-type]
        routes.add_item("POST", f"/{mode}", _respond(mode), send)  # type: ignore[arg-type]
    routes.add_item("POST", "/send", send_draft, send)
    routes.add("POST", "/users/{user}/sendMail", send_mail, send)
