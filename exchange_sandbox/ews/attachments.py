"""Attachment operations: GetAttachment, CreateAttachment and DeleteAttachment."""

from __future__ import annotations

from lxml import etree

from .. import ids
from ..mime import parse_mime
from ..store import Attachment, Message, attached_message
from .compose import attachment_part
from .errors import EwsError
from .serialize import (
    MessageSource,
    attachment_element,
    message_element,
    parse_item_shape,
)
from .service import EwsContext, item_id_elements, item_key, operation, per_item
from .soap import M, T, m


def _attachment(context: EwsContext, element: etree._Element) -> tuple[Attachment, Message]:
    """The attachment an ``t:AttachmentId`` names and the message holding it."""
    key = item_key(element, "attachment")
    attachment = context.store.attachment(key.ews)
    if attachment is None:
        raise EwsError("ErrorInvalidAttachmentId")
    message = context.message(T.ItemId(Id=attachment.message_id))
    return attachment, message


def _no_attachments() -> list[etree._Element]:
    return [M.Attachments()]


@operation("GetAttachment")
def get_attachment(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS GetAttachment: file Content, or the attached item (with its MIME)."""
    shape = parse_item_shape(request.find(m("AttachmentShape")))
    store = context.store

    def one(element: etree._Element) -> list[etree._Element]:
        attachment, message = _attachment(context, element)
        content = store.attachment_content(attachment.id)
        if attachment.kind == "file":
            return [M.Attachments(attachment_element(attachment, content=content))]
        inner = attached_message(parse_mime(content), len(content), message.received_at)
        source = MessageSource(store, None, mime=lambda: content)
        item = message_element(inner, shape, source)
        return [M.Attachments(attachment_element(attachment, item=item))]

    ids_container = request.find(m("AttachmentIds"))
    return per_item("GetAttachment", item_id_elements(ids_container), one, _no_attachments)


@operation("CreateAttachment")
def create_attachment(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS CreateAttachment: adds file or item attachments to an existing item."""
    parent = context.message(request.find(m("ParentItemId")))
    container = request.find(m("Attachments"))
    elements = [] if container is None else [c for c in container if isinstance(c.tag, str)]
    store = context.store

    def one(element: etree._Element) -> list[etree._Element]:
        name, content_type, content, is_inline, content_id = attachment_part(element)
        kind = "item" if content_type == "message/rfc822" else "file"
        added = store.add_attachment(
            parent.id,
            name,
            content_type,
            content,
            is_inline=is_inline,
            content_id=content_id,
            kind=kind,
        )
        root = store.message(parent.id) or parent
        created = T.FileAttachment() if kind == "file" else T.ItemAttachment()
        created.append(
            T.AttachmentId(
                Id=added.id, RootItemId=root.id, RootItemChangeKey=ids.change_key(root.version)
            )
        )
        return [M.Attachments(created)]

    return per_item("CreateAttachment", elements, one, _no_attachments)


@operation("DeleteAttachment")
def delete_attachment(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS DeleteAttachment; answers the root item's new id and change key."""
    store = context.store

    def one(element: etree._Element) -> list[etree._Element]:
        attachment, message = _attachment(context, element)
        store.delete_attachment(attachment.id)
        root = store.message(message.id) or message
        return [M.RootItemId(RootItemId=root.id, RootItemChangeKey=ids.change_key(root.version))]

    ids_container = request.find(m("AttachmentIds"))
    return per_item("DeleteAttachment", item_id_elements(ids_container), one)
