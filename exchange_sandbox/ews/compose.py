"""A ``t:Message`` (or SmartResponse) from a request, and its inline attachments, as MIME parts."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from ..store import Address, Importance
from .errors import EwsError
from .soap import t

# (name, content_type, content, is_inline, content_id) as store.build_mime takes them.
AttachmentPart = tuple[str, str, bytes, bool, "str | None"]


@dataclass
class Draft:
    """The writable properties of a message in a CreateItem/CreateAttachment request."""

    subject: str = ""
    body: str = ""
    body_type: Literal["text", "html"] = "text"
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    bcc: list[Address] = field(default_factory=list)
    reply_to: list[Address] = field(default_factory=list)
    sender: Address | None = None
    importance: Importance = "normal"
    is_read: bool = False
    mime: bytes | None = None  # MimeContent, when the client sent the whole message
    attachments: list[AttachmentPart] = field(default_factory=list)


def _base64(text: str | None) -> bytes:
    try:
        return base64.b64decode((text or "").encode("ascii"), validate=False)
    except (binascii.Error, ValueError):
        raise EwsError("ErrorInvalidRequest", "Invalid base64 content.") from None


def addresses(container: etree._Element | None) -> list[Address]:
    """``t:Mailbox`` entries of an ArrayOfRecipientsType."""
    if container is None:
        return []
    found = []
    for mailbox in container.iter(t("Mailbox")):
        address = (mailbox.findtext(t("EmailAddress")) or "").strip()
        if address:
            found.append(Address(address, (mailbox.findtext(t("Name")) or "").strip()))
    return found


def attachment_part(element: etree._Element) -> AttachmentPart:
    """A ``t:FileAttachment`` or ``t:ItemAttachment`` of a request as a MIME part."""
    name = element.findtext(t("Name")) or "attachment"
    is_inline = (element.findtext(t("IsInline")) or "false") == "true"
    content_id = element.findtext(t("ContentId"))
    if element.tag == t("FileAttachment"):
        content_type = element.findtext(t("ContentType")) or "application/octet-stream"
        return name, content_type, _base64(element.findtext(t("Content"))), is_inline, content_id
    inner = next((c for c in element if c.tag == t("Message")), None)
    if inner is None:
        raise EwsError("ErrorInvalidRequest", "Only message item attachments are supported.")
    draft = read_draft(inner)
    mime = draft.mime or _draft_mime(draft)
    if not name.lower().endswith(".eml"):
        name = f"{name}.eml"
    return name, "message/rfc822", mime, is_inline, content_id


def _draft_mime(draft: Draft) -> bytes:
    from ..store import build_mime

    return build_mime(
        sender=draft.sender or Address("unknown@invalid", ""),
        to=draft.to,
        cc=draft.cc,
        subject=draft.subject,
        body=draft.body,
        body_type=draft.body_type,
        attachments=draft.attachments,
        importance=draft.importance,
    )


def read_draft(element: etree._Element) -> Draft:
    """The properties of a ``t:Message`` or a SmartResponse (ReplyToItem, ForwardItem...)."""
    draft = Draft()
    draft.subject = element.findtext(t("Subject")) or ""
    body = element.find(t("Body"))
    if body is None:
        body = element.find(t("NewBodyContent"))
    if body is not None:
        draft.body = body.text or ""
        draft.body_type = "html" if body.get("BodyType") == "HTML" else "text"
    draft.to = addresses(element.find(t("ToRecipients")))
    draft.cc = addresses(element.find(t("CcRecipients")))
    draft.bcc = addresses(element.find(t("BccRecipients")))
    draft.reply_to = addresses(element.find(t("ReplyTo")))
    senders = addresses(element.find(t("From"))) or addresses(element.find(t("Sender")))
    draft.sender = senders[0] if senders else None
    importance = (element.findtext(t("Importance")) or "Normal").lower()
    draft.importance = importance if importance in ("low", "high") else "normal"  # type: ignore[assignment]
    draft.is_read = (element.findtext(t("IsRead")) or "false") == "true"
    mime = element.find(t("MimeContent"))
    if mime is not None and (mime.text or "").strip():
        draft.mime = _base64(mime.text)
    container = element.find(t("Attachments"))
    if container is not None:
        draft.attachments = [attachment_part(a) for a in container if isinstance(a.tag, str)]
    return draft
