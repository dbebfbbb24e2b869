"""Turning Graph request bodies into RFC 5322 MIME: a JSON ``message`` resource, or a
base64 MIME body sent with ``Content-Type: text/plain`` (Graph's MIME create/send format).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..mime import build_mime
from ..store import Address, Mailbox
from ..web import Request
from . import serialize
from .errors import GraphError, bad_request

MAX_INLINE_ATTACHMENT = 3 * 1024 * 1024  # contentBytes in a JSON body: 3 MB, as Graph


def is_mime_body(request: Request) -> bool:
    """True when the body is base64 MIME (``Content-Type: text/plain``), not JSON."""
    return (request.headers.get("Content-Type") or "").split(";")[0].strip().lower() == "text/plain"


def decode_mime(request: Request) -> bytes:
    """The MIME message a ``text/plain`` body carries in base64."""
    try:
        mime = base64.b64decode(b"".join(request.body.split()), validate=True)
    except (binascii.Error, ValueError):
        mime = b""
    if not mime:
        raise GraphError(
            400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content."
        )
    if b":" not in mime.split(b"\n", 1)[0]:
        raise GraphError(400, "ErrorMimeContentInvalid", "The MIME content is not valid.")
    return mime


def file_attachments(items: Any) -> list[tuple[str, str, bytes, bool, str | None]]:
    """fileAttachment objects of a JSON message, decoded (400 when malformed or over 3 MB)."""
    found: list[tuple[str, str, bytes, bool, str | None]] = []
    for item in items or []:
        if not isinstance(item, dict):
            raise bad_request("An attachment must be a JSON object.")
        kind = str(item.get("@odata.type", "#microsoft.graph.fileAttachment")).lower()
        if kind != "#microsoft.graph.fileattachment":
            raise bad_request(f"Attachments of type '{item.get('@odata.type')}' are not supported.")
        found.append(decode_file_attachment(item))
    return found


def decode_file_attachment(item: dict[str, Any]) -> tuple[str, str, bytes, bool, str | None]:
    """(name, contentType, bytes, isInline, contentId) of one fileAttachment JSON object."""
    name = item.get("name")
    if not name or not isinstance(name, str):
        raise bad_request("The attachment name is required.", code="ErrorRequiredPropertyMissing")
    try:
        content = base64.b64decode(str(item.get("contentBytes") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise bad_request("The contentBytes value is not valid base64.") from None
    if len(content) > MAX_INLINE_ATTACHMENT:
        raise GraphError(
            413,
            "ErrorRequestEntityTooLarge",
            "The attachment is larger than 3 MB; use attachments/createUploadSession.",
        )
    return (
        name,
        str(item.get("contentType") or "application/octet-stream"),
        content,
        bool(item.get("isInline", False)),
        item.get("contentId"),
    )


def extra_headers(items: Any) -> list[tuple[str, str]]:
    """internetMessageHeaders of a JSON message; Graph accepts only ``x-`` custom headers."""
    found: list[tuple[str, str]] = []
    for item in items or []:
        name = str(item.get("name", "")) if isinstance(item, dict) else ""
        if not name.lower().startswith("x-"):
            raise bad_request(
                "The internet message header name should start with 'x-' or 'X-'.",
                code="InvalidInternetMessageHeader",
            )
        found.append((name, str(item.get("value", ""))))
    return found


def mime_from_json(
    data: dict[str, Any],
    sender: Mailbox,
    *,
    in_reply_to: str | None = None,
    references: str | None = None,
    attached_messages: list[bytes] | None = None,
    inherited_attachments: list[tuple[str, str, bytes, bool, str | None]] | None = None,
) -> bytes:
    """MIME for a Graph ``message`` JSON object sent or saved by ``sender``'s mailbox."""
    body = data.get("body") or {}
    body_type = str(body.get("contentType", "text")).lower() if isinstance(body, dict) else "text"
    if body_type not in ("text", "html"):
        raise bad_request(f"Invalid body contentType '{body_type}'.")
    importance = str(data.get("importance", "normal")).lower()
    if importance not in ("low", "normal", "high"):
        raise bad_request(f"Invalid importance '{data.get('importance')}'.")
    from_field = serialize.addresses([data["from"]]) if data.get("from") else []
    return build_mime(
        sender=from_field[0] if from_field else Address(sender.address, sender.display_name),
        to=serialize.addresses(data.get("toRecipients")),
        cc=serialize.addresses(data.get("ccRecipients")),
        bcc=serialize.addresses(data.get("bccRecipients")),
        reply_to=serialize.addresses(data.get("replyTo")),
        subject=str(data.get("subject") or ""),
        body=str(body.get("content") or "") if isinstance(body, dict) else "",
        body_type=body_type,  # type: ignore[arg-type]
        attachments=(inherited_attachments or []) + file_attachments(data.get("attachments")),
        attached_messages=attached_messages or [],
        importance=importance,  # type: ignore[arg-type]
        in_reply_to=in_reply_to,
        references=references,
        extra_headers=extra_headers(data.get("internetMessageHeaders")),
    )
