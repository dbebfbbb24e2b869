"""Attachments of a message: list (without content), stream one, delete one."""

from __future__ import annotations

from ..backend import ByteStream
from ..errors import AttachmentNotFoundError
from ..models import AttachmentInfo
from .messages import message_path
from .shape import ATTACHMENT_FIELDS, attachment_info
from .transport import GraphClient, graph_path, with_query


def attachment_path(mailbox: str, message_id: str, attachment_id: str, tail: str = "") -> str:
    """``/users/{id}/messages/{id}/attachments/{id}`` plus a literal tail such as ``/$value``."""
    return message_path(mailbox, message_id) + graph_path("/attachments/{}", attachment_id) + tail


def list_attachments(client: GraphClient, mailbox: str, message_id: str) -> list[AttachmentInfo]:
    """``GET .../attachments?$select=...`` (no contentBytes: content is streamed on demand)."""
    path = message_path(mailbox, message_id, "/attachments")
    pages = client.pages(with_query(path, {"$select": ATTACHMENT_FIELDS}))
    return [attachment_info(item) for page in pages for item in page.get("value") or []]


def open_attachment(
    client: GraphClient, mailbox: str, message_id: str, attachment: AttachmentInfo
) -> ByteStream:
    """``GET .../attachments/{id}/$value``: file bytes, or an attached item as MIME (.eml)."""
    path = attachment_path(mailbox, message_id, attachment.id, "/$value")
    return client.stream(path, not_found=AttachmentNotFoundError)


def delete_attachment(
    client: GraphClient, mailbox: str, message_id: str, attachment: AttachmentInfo
) -> None:
    """``DELETE .../attachments/{id}``."""
    path = attachment_path(mailbox, message_id, attachment.id)
    client.request("DELETE", path, not_found=AttachmentNotFoundError).close()
