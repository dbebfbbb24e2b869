"""Store objects rendered as Microsoft Graph JSON: message, attachment, mailFolder, contact,
user, messageRule, automaticRepliesSetting. Shapes and property names follow Graph v1.0.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import re
from collections.abc import Callable, Iterable
from typing import Any, Literal, NamedTuple
from urllib.parse import quote

from .. import ids, query
from ..store import Address, Attachment, Contact, Folder, Mailbox, Message, OutOfOffice, Rule
from .errors import GraphError, unknown_property

BodyType = Literal["text", "html"]


def timestamp(value: dt.datetime | None) -> str | None:
    """Graph's DateTimeOffset text: UTC, second precision, ``Z``."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rest_id(ews_id: str | None) -> str | None:
    """An id in the REST (URL-safe) form Graph returns."""
    return ids.to_rest(ews_id) if ews_id else None


def recipient(address: Address) -> dict[str, Any]:
    """microsoft.graph.recipient."""
    return {"emailAddress": {"name": address.name or address.address, "address": address.address}}


def select(entity: dict[str, Any], chosen: list[str] | None, type_name: str) -> dict[str, Any]:
    """Applies ``$select``: the chosen properties plus ``id`` and the ``@odata`` annotations."""
    if chosen is None:
        return entity
    keys = _selected_keys(type_name, tuple(entity), tuple(chosen))
    return {key: entity[key] for key in keys}


@functools.lru_cache(maxsize=1024)
def _selected_keys(type_name: str, present: tuple[str, ...], chosen: tuple[str, ...]) -> list[str]:
    """The keys ``select`` keeps, in order (a listing asks the same of every entity)."""
    lower = {k.lower(): k for k in (*present, *_OPTIONAL.get(type_name, ()))}
    picked = [k for k in present if k.startswith("@odata.")]
    for name in chosen:
        key = lower.get(name.lower())
        if key is None:
            raise unknown_property(name, type_name)
        if key in present and key not in picked:
            picked.append(key)
    if "id" in present and "id" not in picked:
        picked.append("id")
    return picked


# Properties Graph returns only when asked for with $select.
_OPTIONAL: dict[str, set[str]] = {
    "message": {"internetMessageHeaders", "uniqueBody"},
    # $select on a mixed attachment collection may name properties of either derived type.
    "attachment": {"contentBytes", "contentId", "contentLocation", "item"},
}


def wants(chosen: list[str] | None, name: str) -> bool:
    """True when ``$select`` names the property (case-insensitive)."""
    return chosen is not None and name.lower() in (c.lower() for c in chosen)


# -- message -------------------------------------------------------------------------------------
def body(message_body: str, source_type: BodyType, wanted: BodyType | None) -> dict[str, str]:
    """microsoft.graph.itemBody, converted when ``Prefer: outlook.body-content-type`` asks."""
    target = wanted or source_type
    content = message_body
    if target == "text" and source_type == "html":
        content = query.html_to_text(message_body)
    elif target == "html" and source_type == "text":
        escaped = html.escape(message_body).replace("\n", "<br>\r\n")
        content = (
            '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
            f"</head><body><div>{escaped}</div></body></html>"
        )
    return {"contentType": target, "content": content}


def web_link(message_id: str) -> str:
    """The Outlook on the web link Exchange puts in ``webLink``."""
    return (
        f"https://outlook.office365.com/owa/?ItemID={quote(message_id, safe='')}"
        "&exvsurl=1&viewmodel=ReadMessageItem"
    )


def etag(version: int) -> str:
    """``@odata.etag``: a weak ETag over the item's ChangeKey."""
    return f'W/"{ids.change_key(version)}"'


class _Shown(NamedTuple):
    """What a message's rendering depends on besides the message."""

    id: str  # the id shown: the entry id, or the immutable id when asked for
    body_type: BodyType | None
    flag_status: str


# microsoft.graph.message properties in Graph's order, each rendered only when selected.
_MESSAGE: dict[str, Callable[[Message, _Shown], Any]] = {
    "@odata.etag": lambda m, s: etag(m.version),
    "id": lambda m, s: rest_id(s.id),
    "createdDateTime": lambda m, s: timestamp(m.created_at),
    "lastModifiedDateTime": lambda m, s: timestamp(m.modified_at),
    "changeKey": lambda m, s: ids.change_key(m.version),
    "categories": lambda m, s: list(m.categories),
    "receivedDateTime": lambda m, s: timestamp(m.received_at),
    "sentDateTime": lambda m, s: timestamp(m.sent_at),
    "hasAttachments": lambda m, s: m.has_attachments,
    "internetMessageId": lambda m, s: m.internet_message_id,
    "subject": lambda m, s: m.subject,
    "bodyPreview": lambda m, s: m.body_preview,
    "importance": lambda m, s: m.importance,
    "parentFolderId": lambda m, s: rest_id(m.folder_id),
    "conversationId": lambda m, s: ids.to_rest(m.conversation_id) if m.conversation_id else None,
    "conversationIndex": lambda m, s: _conversation_index(m),
    "isDeliveryReceiptRequested": lambda m, s: False,
    "isReadReceiptRequested": lambda m, s: False,
    "isRead": lambda m, s: m.is_read,
    "isDraft": lambda m, s: m.is_draft,
    "webLink": lambda m, s: web_link(m.id),
    "inferenceClassification": lambda m, s: "focused",
    "body": lambda m, s: body(m.body, m.body_type, s.body_type),
    "sender": lambda m, s: recipient(m.sender) if m.sender else None,  # present when set
    "from": lambda m, s: recipient(m.from_) if m.from_ else None,  # present when set
    "toRecipients": lambda m, s: [recipient(a) for a in m.to],
    "ccRecipients": lambda m, s: [recipient(a) for a in m.cc],
    "bccRecipients": lambda m, s: [recipient(a) for a in m.bcc],
    "replyTo": lambda m, s: [recipient(a) for a in m.reply_to],
    "flag": lambda m, s: {"flagStatus": s.flag_status},
    "internetMessageHeaders": lambda m, s: [{"name": n, "value": v} for n, v in m.headers],
    "uniqueBody": lambda m, s: body(m.body, m.body_type, s.body_type),
}


@functools.lru_cache(maxsize=1024)
def _message_keys(
    has_sender: bool, has_from: bool, chosen: tuple[str, ...] | None
) -> tuple[str, ...]:
    """The properties a message shows: without ``$select`` all but the optional ones."""
    absent = {"sender"} if not has_sender else set()
    if not has_from:
        absent.add("from")
    if chosen is None:
        absent |= _OPTIONAL["message"]
    else:
        absent |= {name for name in _OPTIONAL["message"] if not wants(list(chosen), name)}
    present = tuple(key for key in _MESSAGE if key not in absent)
    return present if chosen is None else tuple(_selected_keys("message", present, chosen))


def message(
    m: Message,
    chosen: list[str] | None = None,
    *,
    body_type: BodyType | None = None,
    immutable_id: bool = False,
    flag_status: str = "notFlagged",
) -> dict[str, Any]:
    """microsoft.graph.message (``$select`` applied; headers and uniqueBody only when chosen);
    ``id`` is the entry id, which changes on a move, unless immutable ids were asked for."""
    shown_id = m.id if immutable_id or not m.folder_id else ids.entry_id(m.id, m.folder_id)
    shown = _Shown(shown_id, body_type, flag_status)
    keys = _message_keys(
        m.sender is not None, m.from_ is not None, None if chosen is None else tuple(chosen)
    )
    return {key: _MESSAGE[key](m, shown) for key in keys}


def _conversation_index(m: Message) -> str:
    seed = (m.conversation_id or m.id).encode("utf-8")[:22].ljust(22, b"\0")
    return base64.b64encode(seed).decode("ascii")


# -- attachments ---------------------------------------------------------------------------------
def attachment(
    a: Attachment,
    chosen: list[str] | None = None,
    *,
    content: bytes | None = None,
) -> dict[str, Any]:
    """microsoft.graph.fileAttachment or itemAttachment (``contentBytes`` when given)."""
    common: dict[str, Any] = {
        "id": rest_id(a.id),
        "lastModifiedDateTime": timestamp(a.last_modified),
        "name": a.name,
        "contentType": a.content_type,
        "size": a.size,
        "isInline": a.is_inline,
    }
    if a.kind == "item":
        item = {"@odata.type": "#microsoft.graph.itemAttachment", **common}
        return select(item, chosen, "attachment")
    entity = {
        "@odata.type": "#microsoft.graph.fileAttachment",
        "@odata.mediaContentType": a.content_type,
        **common,
        "contentId": a.content_id,
        "contentLocation": None,
    }
    if content is not None:
        entity["contentBytes"] = base64.b64encode(content).decode("ascii")
    return select(entity, chosen, "attachment")


# -- folders, contacts, users, rules, settings ----------------------------------------------------
def folder(f: Folder, chosen: list[str] | None = None) -> dict[str, Any]:
    """microsoft.graph.mailFolder."""
    entity = {
        "id": rest_id(f.id),
        "displayName": f.display_name,
        "parentFolderId": rest_id(f.parent_id),
        "childFolderCount": f.child_folder_count,
        "unreadItemCount": f.unread_count,
        "totalItemCount": f.total_count,
        "isHidden": False,
    }
    return select(entity, chosen, "mailFolder")


def contact_folder(f: Folder) -> dict[str, Any]:
    """microsoft.graph.contactFolder."""
    return {
        "id": rest_id(f.id),
        "displayName": f.display_name,
        "parentFolderId": rest_id(f.parent_id),
    }


def contact(c: Contact, parent_folder_id: str | None, chosen: list[str] | None) -> dict[str, Any]:
    """microsoft.graph.contact."""
    phones = {t: [p["number"] for p in c.phones if p.get("type") == t] for t in _PHONE_TYPES}
    entity: dict[str, Any] = {
        "id": rest_id(c.id),
        "categories": [],
        "parentFolderId": rest_id(parent_folder_id),
        "displayName": c.display_name,
        "givenName": c.given_name,
        "surname": c.surname,
        "emailAddresses": [{"name": a.name or a.address, "address": a.address} for a in c.emails],
        "businessPhones": phones["business"],
        "homePhones": phones["home"],
        "mobilePhone": (phones["mobile"] or [None])[0],
        "companyName": c.company or None,
        "jobTitle": c.job_title or None,
        "department": c.department or None,
        "imAddresses": [],
    }
    return select(entity, chosen, "contact")


_PHONE_TYPES = ("business", "home", "mobile")

USER_PROPERTIES = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
_USER_EXTRA = (
    "accountEnabled",
    "userType",
    "mailNickname",
    "proxyAddresses",
    "otherMails",
    "department",
    "companyName",
    "usageLocation",
    "city",
    "country",
)


def user(mb: Mailbox, chosen: list[str] | None = None) -> dict[str, Any]:
    """microsoft.graph.user (the default property set unless ``$select`` asks for others)."""
    given, _, surname = mb.display_name.partition(" ")
    local = mb.address.split("@")[0]
    full: dict[str, Any] = {
        "businessPhones": [],
        "displayName": mb.display_name,
        "givenName": given if mb.type == "user" else None,
        "jobTitle": None,
        "mail": mb.address,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": "en-US",
        "surname": (surname or None) if mb.type == "user" else None,
        "userPrincipalName": mb.address,
        "id": mb.guid,
        "accountEnabled": mb.type == "user" and mb.enabled,
        "userType": "Member",
        "mailNickname": local,
        "proxyAddresses": [f"SMTP:{mb.address}"] + [f"smtp:{a}" for a in mb.aliases],
        "otherMails": [],
        "department": None,
        "companyName": None,
        "usageLocation": "US",
        "city": None,
        "country": None,
    }
    if chosen is None:
        return {k: full[k] for k in USER_PROPERTIES}
    return select(full, chosen, "user")


def user_lookup(mb: Mailbox) -> dict[str, Any]:
    """The property map users' ``$filter`` evaluates over."""
    return user(mb, list(USER_PROPERTIES + _USER_EXTRA))


def rule(r: Rule) -> dict[str, Any]:
    """microsoft.graph.messageRule."""
    return {
        "id": rest_id(r.id),
        "displayName": r.display_name,
        "sequence": r.sequence,
        "isEnabled": r.is_enabled,
        "hasError": False,
        "isReadOnly": False,
        "conditions": r.conditions,
        "actions": r.actions,
    }


def automatic_replies(oof: OutOfOffice) -> dict[str, Any]:
    """microsoft.graph.automaticRepliesSetting."""
    return {
        "status": oof.status,
        "externalAudience": oof.external_audience,
        "internalReplyMessage": oof.internal_reply,
        "externalReplyMessage": oof.external_reply,
        "scheduledStartDateTime": _date_time_zone(oof.start),
        "scheduledEndDateTime": _date_time_zone(oof.end),
    }


def _date_time_zone(value: dt.datetime | None) -> dict[str, str]:
    if value is None:
        return {"dateTime": "0001-01-01T00:00:00.0000000", "timeZone": "UTC"}
    utc = value.astimezone(dt.timezone.utc) if value.tzinfo else value
    return {"dateTime": utc.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def parse_date_time_zone(value: Any) -> dt.datetime | None:
    """A dateTimeTimeZone object (UTC or an offset-less local time taken as UTC) to datetime."""
    if not isinstance(value, dict) or not value.get("dateTime"):
        return None
    text = str(value["dateTime"]).replace("Z", "")
    text = text.split(".")[0]
    parsed = dt.datetime.fromisoformat(text)
    return parsed.replace(tzinfo=dt.timezone.utc) if parsed.tzinfo is None else parsed


_SMTP = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+$")


def addresses(recipients: Iterable[Any] | None) -> list[Address]:
    """Graph recipient objects (``{"emailAddress": {"address", "name"}}``) to store Addresses;
    400 ErrorInvalidRecipients for one that is not an SMTP address."""
    found: list[Address] = []
    for item in recipients or []:
        email = item.get("emailAddress") if isinstance(item, dict) else None
        address = str(email.get("address") or "") if isinstance(email, dict) else ""
        if not _SMTP.match(address):
            raise GraphError(400, "ErrorInvalidRecipients", "At least one recipient isn't valid.")
        found.append(Address(address, str(email.get("name") or "")))  # type: ignore[union-attr]
    return found
