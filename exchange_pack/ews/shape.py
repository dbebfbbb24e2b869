"""exchangelib items and attachments turned into the pack's models (same shape as Graph's).

Both backends must give identical ``data``: recipients as ``{address, name}``, timestamps via
``models.iso_utc``, importance in lower case, and ``preview`` like Graph's ``bodyPreview``:
the first 255 characters of the text body with runs of whitespace folded to one space.
"""

from __future__ import annotations

import datetime as dt
import re

from exchangelib import Message
from exchangelib.attachments import FileAttachment, ItemAttachment
from exchangelib.fields import FieldPath
from exchangelib.items import Item
from exchangelib.properties import Mailbox

from ..models import AttachmentInfo, MessageRef, MessageSummary, Recipient, iso_utc

PREVIEW_LENGTH = 255
_WHITESPACE = re.compile(r"\s+")

# What GetItem asks for to fill a MessageSummary (no body: text_body is only for the preview).
SUMMARY_FIELDS = (
    "subject",
    "message_id",
    "parent_folder_id",
    "author",
    "sender",
    "to_recipients",
    "cc_recipients",
    "datetime_received",
    "datetime_sent",
    "has_attachments",
    "is_read",
    "importance",
    "size",
    "text_body",
)
# The reference fields of a message (what every message in an output carries).
REF_FIELDS = ("subject", "message_id")
# What FindItem can return of SUMMARY_FIELDS (EWS FindItem returns no recipients or body): a
# lookup by internet_message_id gives the reference fields, folder and sender without GetItem.
FIND_SUMMARY_FIELDS = tuple(
    name for name in SUMMARY_FIELDS if name not in ("to_recipients", "cc_recipients", "text_body")
)


def field_paths(names: tuple[str, ...] | list[str]) -> list[FieldPath]:
    """exchangelib FieldPaths of Message fields, for GetItem/FindItem shapes."""
    return [FieldPath(field=Message.get_field_by_fieldname(name)) for name in names]


def timestamp(value: dt.datetime | None) -> str | None:
    """An EWS time (exchangelib's EWSDateTime) in the pack's ISO 8601 UTC form."""
    if value is None:
        return None
    # EWSDateTime refuses the stdlib UTC tzinfo that iso_utc converts to; go through epoch.
    return iso_utc(dt.datetime.fromtimestamp(int(value.timestamp()), tz=dt.timezone.utc))


def recipient(mailbox: Mailbox | None) -> Recipient | None:
    """An EWS Mailbox as ``{address, name}``."""
    if mailbox is None or not (mailbox.email_address or mailbox.name):
        return None
    return Recipient(address=mailbox.email_address or "", name=mailbox.name or "")


def recipients(mailboxes: list[Mailbox] | None) -> list[Recipient]:
    """A recipient list in EWS order."""
    return [r for r in (recipient(m) for m in mailboxes or []) if r is not None]


def preview(text: str | None) -> str:
    """Graph's bodyPreview: the text body, whitespace folded, cut at 255 characters."""
    return _WHITESPACE.sub(" ", text or "").strip()[:PREVIEW_LENGTH]


def message_ref(mailbox: str, item: Item) -> MessageRef:
    """The reference fields (REF_FIELDS) of an EWS item."""
    return MessageRef(
        mailbox=mailbox,
        id=item.id,
        internet_message_id=getattr(item, "message_id", None),
        subject=item.subject,
    )


def message_summary(mailbox: str, item: Item, folder: str | None = None) -> MessageSummary:
    """A MessageSummary from a GetItem answer with SUMMARY_FIELDS."""
    importance = (getattr(item, "importance", None) or "Normal").lower()
    return MessageSummary(
        mailbox=mailbox,
        id=item.id,
        internet_message_id=getattr(item, "message_id", None),
        subject=item.subject,
        folder=folder,
        from_=recipient(getattr(item, "author", None)),
        sender=recipient(getattr(item, "sender", None)),
        to=recipients(getattr(item, "to_recipients", None)),
        cc=recipients(getattr(item, "cc_recipients", None)),
        received_at=timestamp(item.datetime_received),
        sent_at=timestamp(item.datetime_sent),
        has_attachments=bool(item.has_attachments),
        is_read=bool(getattr(item, "is_read", False)),
        importance=importance if importance in ("low", "normal", "high") else "normal",
        size=item.size,
        preview=preview(item.text_body),
    )


def attachment_info(attachment: FileAttachment | ItemAttachment) -> AttachmentInfo:
    """An EWS FileAttachment or ItemAttachment as AttachmentInfo."""
    is_item = isinstance(attachment, ItemAttachment)
    content_type = attachment.content_type or (
        "message/rfc822" if is_item else "application/octet-stream"
    )
    return AttachmentInfo(
        id=attachment.attachment_id.id,
        name=attachment.name or "",
        content_type=content_type,
        size=attachment.size or 0,
        is_inline=bool(attachment.is_inline),
        kind="item" if is_item else "file",
        content_id=attachment.content_id or None,
    )
