"""Graph JSON resources turned into the pack's models (``exchange_pack.models``).

The ``$select`` lists live here too, next to the code that reads the properties they fetch.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ..models import (
    AttachmentInfo,
    Contact,
    MailboxInfo,
    MessageRef,
    MessageSummary,
    Recipient,
    iso_utc,
)

REF_FIELDS = "id,internetMessageId,subject"
SUMMARY_FIELDS = (
    "id,internetMessageId,subject,from,sender,toRecipients,ccRecipients,receivedDateTime,"
    "sentDateTime,hasAttachments,isRead,importance,bodyPreview,parentFolderId"
)
# Graph v1.0 messages have no size property: PidTagMessageSize is read as an extended property.
SIZE_PROPERTY = "Integer 0x0E08"
SUMMARY_EXPAND = f"singleValueExtendedProperties($filter=id eq '{SIZE_PROPERTY}')"
ATTACHMENT_FIELDS = "id,name,contentType,size,isInline"
ATTACHMENTS_EXPAND = f"attachments($select={ATTACHMENT_FIELDS})"
CONTACT_FIELDS = (
    "id,displayName,givenName,surname,emailAddresses,businessPhones,homePhones,mobilePhone,"
    "companyName,jobTitle,department"
)
ITEM_ATTACHMENT_TYPE = "#microsoft.graph.itemAttachment"
_FRACTION = re.compile(r"\.(\d+)")
_MAILBOX_TYPES = {
    "user": "user",
    "linked": "user",
    "shared": "shared",
    "room": "room",
    "equipment": "equipment",
}


def select(fields: str, *expand: str) -> dict[str, str]:
    """``$select`` (and ``$expand``) query options; summaries also expand the size property."""
    expansions = [*expand, SUMMARY_EXPAND] if fields == SUMMARY_FIELDS else list(expand)
    return {"$select": fields, **({"$expand": ",".join(expansions)} if expansions else {})}


def _property_key(property_id: str) -> tuple[str, int]:
    """``Integer 0x0E08`` and Graph's echo ``Integer 0xe08`` name the same MAPI property."""
    kind, _, tag = property_id.partition(" ")
    return kind.lower(), int(tag, 16)


def message_size(data: dict[str, Any]) -> int | None:
    """PidTagMessageSize from ``singleValueExtendedProperties``, when it was expanded."""
    for prop in data.get("singleValueExtendedProperties") or []:
        if _property_key(str(prop.get("id", ""))) == _property_key(SIZE_PROPERTY):
            return int(prop["value"])
    return None


def parse_time(value: str | None) -> dt.datetime | None:
    """A Graph ``DateTimeOffset`` (``2026-11-22T06:43:43.1234567Z``) as an aware datetime."""
    if not value:
        return None
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value.replace("Z", "+00:00"))
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def timestamp(value: str | None) -> str | None:
    """A Graph timestamp in the pack's ISO 8601 UTC form."""
    return iso_utc(parse_time(value))


def recipient(value: dict[str, Any] | None) -> Recipient | None:
    """Graph ``recipient`` (``{"emailAddress": {"name", "address"}}``) as a Recipient."""
    address = (value or {}).get("emailAddress") or {}
    if not address.get("address"):
        return None
    return Recipient(address=address["address"], name=address.get("name") or "")


def recipients(values: list[dict[str, Any]] | None) -> list[Recipient]:
    """A Graph recipient collection, skipping entries without an address."""
    found = (recipient(value) for value in values or [])
    return [item for item in found if item is not None]


def message_ref(data: dict[str, Any], mailbox: str) -> MessageRef:
    """The minimum every message output carries, from a Graph message."""
    return MessageRef(
        mailbox=mailbox,
        id=data["id"],
        internet_message_id=data.get("internetMessageId"),
        subject=data.get("subject"),
    )


def message_summary(data: dict[str, Any], mailbox: str, folder: str | None) -> MessageSummary:
    """A Graph message (``SUMMARY_FIELDS``) as a MessageSummary."""
    return MessageSummary(
        mailbox=mailbox,
        id=data["id"],
        internet_message_id=data.get("internetMessageId"),
        subject=data.get("subject"),
        folder=folder,
        from_=recipient(data.get("from")),
        sender=recipient(data.get("sender")),
        to=recipients(data.get("toRecipients")),
        cc=recipients(data.get("ccRecipients")),
        received_at=timestamp(data.get("receivedDateTime")),
        sent_at=timestamp(data.get("sentDateTime")),
        has_attachments=bool(data.get("hasAttachments")),
        is_read=bool(data.get("isRead")),
        importance=(data.get("importance") or "normal").lower(),
        size=message_size(data),
        preview=data.get("bodyPreview") or "",
    )


def attachment_info(data: dict[str, Any]) -> AttachmentInfo:
    """A Graph attachment (file, item or reference) without its content."""
    kind = "item" if data.get("@odata.type") == ITEM_ATTACHMENT_TYPE else "file"
    content_type = data.get("contentType") or (
        "message/rfc822" if kind == "item" else "application/octet-stream"
    )
    return AttachmentInfo(
        id=data["id"],
        name=data.get("name") or "",
        content_type=content_type,
        size=int(data.get("size") or 0),
        is_inline=bool(data.get("isInline")),
        kind=kind,
        content_id=data.get("contentId"),
    )


def contact(data: dict[str, Any]) -> Contact:
    """A Graph contact as a Contact."""
    phones = [{"type": "business", "number": n} for n in data.get("businessPhones") or [] if n]
    phones += [{"type": "home", "number": n} for n in data.get("homePhones") or [] if n]
    if data.get("mobilePhone"):
        phones.append({"type": "mobile", "number": data["mobilePhone"]})
    return Contact(
        id=data["id"],
        display_name=data.get("displayName") or "",
        given_name=data.get("givenName") or "",
        surname=data.get("surname") or "",
        email_addresses=[
            e["address"] for e in data.get("emailAddresses") or [] if e.get("address")
        ],
        phones=phones,
        company=data.get("companyName") or "",
        job_title=data.get("jobTitle") or "",
        department=data.get("department") or "",
    )


def mailbox_info(user: dict[str, Any], user_purpose: str | None) -> MailboxInfo:
    """A Graph user with a mailbox; ``user_purpose`` from ``mailboxSettings/userPurpose``."""
    kind = "user" if user_purpose is None else _MAILBOX_TYPES.get(user_purpose.lower(), "unknown")
    return MailboxInfo(
        address=user.get("mail") or user.get("userPrincipalName") or "",
        display_name=user.get("displayName") or "",
        id=user["id"],
        type=kind,
    )
