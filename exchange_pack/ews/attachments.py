"""Attachments on EWS: list (GetItem Attachments), download (GetAttachment), delete.

File attachments stream through exchangelib's GetAttachment ``stream_file_content`` (the
``Content`` element is base64-decoded while it arrives, so a 100 MB file is never held whole).
An item attachment (an attached message) is fetched with IncludeMimeContent and handed over as
its .eml bytes; exchangelib parses that answer in one piece, which is fine for attached mail.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from exchangelib import Account
from exchangelib.attachments import AttachmentId, ItemAttachment
from exchangelib.services import DeleteAttachment, GetAttachment

from ..backend import ByteStream
from ..errors import AttachmentNotFoundError
from ..models import AttachmentInfo, MessageRef
from .errors import checked_answers
from .messages import ews_item_id, get_items, item_id_of
from .shape import REF_FIELDS, attachment_info, message_ref
from .streaming import open_stream
from .transport import EwsTransport


def list_attachments(
    transport: EwsTransport, account: Account, message: MessageRef
) -> list[AttachmentInfo]:
    """EWS GetItem of item:Attachments: every attachment's id, name, type, size, inline flag."""
    item = get_items(transport, account, [ews_item_id(message.id)], ("attachments",))[0]
    return [attachment_info(a) for a in item.attachments or []]


def message_attachments(
    transport: EwsTransport, account: Account, ref: str
) -> tuple[MessageRef, list[AttachmentInfo]]:
    """EWS GetItem of Subject, InternetMessageId and item:Attachments in one request (after
    the FindItem of an internet_message_id)."""
    item_id = item_id_of(transport, account, ref)
    item = get_items(transport, account, [item_id], (*REF_FIELDS, "attachments"))[0]
    found = [attachment_info(a) for a in item.attachments or []]
    return message_ref(account.primary_smtp_address, item), found


def open_attachment(
    transport: EwsTransport, account: Account, attachment: AttachmentInfo
) -> ByteStream:
    """EWS GetAttachment: a file attachment's bytes, or an attached message as .eml."""
    attachment_id = AttachmentId(id=attachment.id)
    address = account.primary_smtp_address
    if attachment.kind == "item":
        return _item_attachment_mime(transport, account, attachment_id)
    return open_stream(
        transport,
        address,
        lambda: GetAttachment(account=account).stream_file_content(attachment_id=attachment_id),
    )


def delete_attachment(
    transport: EwsTransport, account: Account, attachment: AttachmentInfo
) -> None:
    """EWS DeleteAttachment."""

    def run() -> None:
        checked_answers(
            DeleteAttachment(account=account).call(items=[AttachmentId(id=attachment.id)])
        )

    transport.call(run, mailbox=account.primary_smtp_address)


@contextlib.contextmanager
def _item_attachment_mime(
    transport: EwsTransport, account: Account, attachment_id: AttachmentId
) -> Iterator[Iterator[bytes]]:
    def run() -> bytes:
        answers = checked_answers(
            GetAttachment(account=account).call(
                items=[attachment_id],
                include_mime_content=True,
                body_type=None,
                filter_html_content=None,
                additional_fields=None,
            )
        )
        found = answers[0] if answers else None
        if not isinstance(found, ItemAttachment) or found.item is None:
            raise AttachmentNotFoundError("The attachment is not an attached message.")
        return found.item.mime_content or b""

    mime = transport.call(run, mailbox=account.primary_smtp_address)
    yield iter([mime])
