"""Store objects as EWS ``t:`` XML: messages, attachments, folders, contacts, mailboxes.

Elements are emitted in the XSD sequence order (ItemType then MessageType) because Exchange
does and because the schema requires it.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from .. import flags, ids
from ..mime import html_to_text
from ..store import Address, Attachment, Contact, Folder, Mailbox, Message, Store
from .soap import T, t

ID_ONLY = frozenset({"item:ItemId"})
# What BaseShape=Default returns for a message in FindItem (no body, no recipients).
FIND_DEFAULT = frozenset(
    {
        "item:ItemId", "item:ParentFolderId", "item:ItemClass", "item:Subject",
        "item:Sensitivity", "item:DateTimeReceived", "item:Size", "item:Importance",
        "item:IsSubmitted", "item:IsDraft", "item:IsFromMe", "item:IsResend",
        "item:IsUnmodified", "item:DateTimeSent", "item:DateTimeCreated", "item:DisplayCc",
        "item:DisplayTo", "item:HasAttachments", "item:Culture", "message:Sender",
        "message:ConversationTopic", "message:From", "message:IsRead",
        "item:ConversationId",
    }
)  # fmt: skip
# GetItem's Default adds the body, attachments and recipients.
GET_DEFAULT = FIND_DEFAULT | {
    "item:Body", "item:Attachments", "item:Categories", "item:InReplyTo",
    "message:ToRecipients", "message:CcRecipients", "message:BccRecipients",
    "message:InternetMessageId", "message:References", "message:ReplyTo",
    "message:ReceivedBy", "message:ReceivedRepresenting", "item:LastModifiedTime",
    "message:IsReadReceiptRequested", "message:IsDeliveryReceiptRequested",
}  # fmt: skip
ALL_PROPERTIES = GET_DEFAULT | {
    "item:InternetMessageHeaders", "item:Preview", "item:TextBody", "item:UniqueBody",
    "item:DisplayBcc",
}  # fmt: skip
# FindItem cannot return these; Exchange answers ErrorInvalidPropertyRequest.
NOT_IN_FIND = frozenset(
    {
        "item:Body", "item:Attachments", "item:MimeContent", "message:ToRecipients",
        "message:CcRecipients", "message:BccRecipients", "item:InternetMessageHeaders",
        "item:UniqueBody", "item:TextBody",
    }
)  # fmt: skip
_SHAPES = {"IdOnly": ID_ONLY, "Default": GET_DEFAULT, "AllProperties": ALL_PROPERTIES}


@dataclass
class ItemShape:
    """A parsed ``m:ItemShape``: which properties, which body type, whether MIME is wanted."""

    properties: frozenset[str]
    body_type: str = "Best"  # Best | HTML | Text
    include_mime: bool = False
    ignored: list[str] = field(default_factory=list)  # Indexed/Extended FieldURIs


def parse_item_shape(element: etree._Element | None, *, for_find: bool = False) -> ItemShape:
    """``ItemShape``/``AttachmentShape`` → ItemShape (BaseShape + AdditionalProperties)."""
    if element is None:
        return ItemShape(ID_ONLY if for_find else GET_DEFAULT)
    base = element.findtext(t("BaseShape")) or "Default"
    properties = set(FIND_DEFAULT if for_find and base == "Default" else _SHAPES[base])
    if for_find and base == "AllProperties":
        properties -= NOT_IN_FIND
    extra = element.find(t("AdditionalProperties"))
    ignored = []
    for path in [] if extra is None else extra:
        if path.tag == t("FieldURI"):
            properties.add(path.get("FieldURI", ""))
        elif isinstance(path.tag, str):
            ignored.append(etree.QName(path).localname)
    include_mime = (element.findtext(t("IncludeMimeContent")) or "").strip() == "true"
    if include_mime:
        properties.add("item:MimeContent")
    return ItemShape(
        frozenset(properties),
        element.findtext(t("BodyType")) or "Best",
        include_mime,
        ignored,
    )


def ews_datetime(value: dt.datetime | None) -> str:
    """xs:dateTime in UTC with a Z, as Exchange writes it."""
    value = value or dt.datetime.now(dt.timezone.utc)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def boolean(value: bool) -> str:
    """xs:boolean as Exchange writes it."""
    return "true" if value else "false"


def mailbox_element(
    address: Address, tag_name: str = "Mailbox", mailbox_type: str | None = None
) -> etree._Element:
    """``t:Mailbox`` (EmailAddressType) for an address."""
    children = []
    if address.name:
        children.append(T.Name(address.name))
    children += [T.EmailAddress(address.address), T.RoutingType("SMTP")]
    if mailbox_type:
        children.append(T.MailboxType(mailbox_type))
    element = T(tag_name)
    element.extend(children)
    return element


def item_id(message: Message) -> etree._Element:
    """``t:ItemId`` with Id (the entry id: EWS ids change when an item moves) and ChangeKey."""
    return T.ItemId(Id=ews_item_id(message), ChangeKey=ids.change_key(message.version))


def ews_item_id(message: Message) -> str:
    """The id EWS shows for a stored message: its entry id in its current folder."""
    return ids.entry_id(message.id, message.folder_id) if message.folder_id else message.id


def folder_id(folder: Folder, tag_name: str = "FolderId") -> etree._Element:
    """``t:FolderId`` (or ParentFolderId) with Id and ChangeKey."""
    return T(tag_name, Id=folder.id, ChangeKey="AQAAAA==")


def render_body(message: Message, requested: str) -> tuple[str, str]:
    """(BodyType, text) of a message's body converted to the requested type like Exchange."""
    if requested == "Text" or (requested == "Best" and message.body_type == "text"):
        if message.body_type == "html":
            return "Text", html_to_text(message.body)
        return "Text", message.body
    if message.body_type == "html":
        return "HTML", message.body
    escaped = html.escape(message.body).replace("\r\n", "\n").replace("\n", "<br>\r\n")
    return "HTML", f"<html><body><div>{escaped}</div></body></html>"


@dataclass
class MessageSource:
    """What a message's serialization reads besides the Message row itself."""

    store: Store | None
    owner: Mailbox | None
    mime: Callable[[], bytes] | None = None
    attachments: Callable[[], list[Attachment]] | None = None


def _recipients(tag_name: str, addresses: list[Address]) -> etree._Element | None:
    if not addresses:
        return None
    element = T(tag_name)
    element.extend(mailbox_element(a) for a in addresses)
    return element


def _single(tag_name: str, address: Address | None) -> etree._Element | None:
    return None if address is None else T(tag_name, mailbox_element(address))


def _display(addresses: list[Address]) -> str:
    return "; ".join(a.name or a.address for a in addresses)


Builder = Callable[[Message, ItemShape, MessageSource], "etree._Element | None"]


def _text(tag_name: str, value: Callable[[Message], object]) -> Builder:
    def build(message: Message, shape: ItemShape, source: MessageSource) -> etree._Element:
        return T(tag_name, str(value(message)))

    return build


def _mime(message: Message, shape: ItemShape, source: MessageSource) -> etree._Element | None:
    if source.mime is None:
        return None
    content = base64.b64encode(source.mime()).decode("ascii")
    return T.MimeContent(content, CharacterSet="UTF-8")


def _item_id(message: Message, shape: ItemShape, source: MessageSource) -> etree._Element | None:
    return item_id(message) if message.id else None


def _parent(message: Message, shape: ItemShape, source: MessageSource) -> etree._Element | None:
    if not message.folder_id:
        return None
    return T.ParentFolderId(Id=message.folder_id, ChangeKey="AQAAAA==")


def _body(tag_name: str, requested: str | None = None) -> Builder:
    def build(message: Message, shape: ItemShape, source: MessageSource) -> etree._Element:
        body_type, text = render_body(message, requested or shape.body_type)
        return T(tag_name, text, BodyType=body_type, IsTruncated="false")

    return build


def _attachments(
    message: Message, shape: ItemShape, source: MessageSource
) -> etree._Element | None:
    found = source.attachments() if source.attachments and message.has_attachments else []
    if not found:
        return None
    element = T.Attachments()
    element.extend(attachment_element(a) for a in found)
    return element


def _categories(message: Message, shape: ItemShape, source: MessageSource) -> etree._Element | None:
    if not message.categories:
        return None
    element = T.Categories()
    element.extend(T.String(c) for c in message.categories)
    return element


def _headers(message: Message, shape: ItemShape, source: MessageSource) -> etree._Element | None:
    if not message.headers:
        return None
    element = T.InternetMessageHeaders()
    element.extend(
        T.InternetMessageHeader(value, HeaderName=name) for name, value in message.headers
    )
    return element


def _is_from_me(message: Message, source: MessageSource) -> bool:
    sender = message.from_ or message.sender
    return bool(source.owner and sender and sender.address.lower() == source.owner.address)


def _owner(tag_name: str) -> Builder:
    def build(message: Message, shape: ItemShape, source: MessageSource) -> etree._Element | None:
        if source.owner is None:
            return None
        owner = Address(source.owner.address, source.owner.display_name)
        return T(tag_name, mailbox_element(owner))

    return build


def _optional(tag_name: str, value: Callable[[Message], str | None]) -> Builder:
    def build(message: Message, shape: ItemShape, source: MessageSource) -> etree._Element | None:
        text = value(message)
        return None if text is None else T(tag_name, text)

    return build


def _flag_status(message: Message, source: MessageSource) -> str:
    stored = message.id and source.store is not None
    value = flags.status(source.store, message.id) if stored else "notFlagged"  # type: ignore[arg-type]
    return value[0].upper() + value[1:]


# (FieldURI, builder) in the XSD order of ItemType followed by MessageType.
MESSAGE_FIELDS: list[tuple[str, Builder]] = [
    ("item:MimeContent", _mime),
    ("item:ItemId", _item_id),
    ("item:ParentFolderId", _parent),
    ("item:ItemClass", _text("ItemClass", lambda m: "IPM.Note")),
    ("item:Subject", _text("Subject", lambda m: m.subject)),
    ("item:Sensitivity", _text("Sensitivity", lambda m: "Normal")),
    ("item:Body", _body("Body")),
    ("item:Attachments", _attachments),
    ("item:DateTimeReceived", _text("DateTimeReceived", lambda m: ews_datetime(m.received_at))),
    ("item:Size", _text("Size", lambda m: m.size)),
    ("item:Categories", _categories),
    ("item:Importance", _text("Importance", lambda m: m.importance.capitalize())),
    ("item:InReplyTo", _optional("InReplyTo", lambda m: m.in_reply_to)),
    ("item:IsSubmitted", _text("IsSubmitted", lambda m: boolean(not m.is_draft))),
    ("item:IsDraft", _text("IsDraft", lambda m: boolean(m.is_draft))),
    ("item:IsFromMe", lambda m, s, src: T.IsFromMe(boolean(_is_from_me(m, src)))),
    ("item:IsResend", _text("IsResend", lambda m: "false")),
    ("item:IsUnmodified", _text("IsUnmodified", lambda m: boolean(not m.is_draft))),
    ("item:InternetMessageHeaders", _headers),
    ("item:DateTimeSent", _text("DateTimeSent", lambda m: ews_datetime(m.sent_at or m.created_at))),
    ("item:DateTimeCreated", _text("DateTimeCreated", lambda m: ews_datetime(m.created_at))),
    ("item:DisplayCc", _text("DisplayCc", lambda m: _display(m.cc))),
    ("item:DisplayTo", _text("DisplayTo", lambda m: _display(m.to))),
    ("item:DisplayBcc", _text("DisplayBcc", lambda m: _display(m.bcc))),
    ("item:HasAttachments", _text("HasAttachments", lambda m: boolean(m.has_attachments))),
    ("item:Culture", _text("Culture", lambda m: "en-US")),
    ("item:LastModifiedTime", _text("LastModifiedTime", lambda m: ews_datetime(m.modified_at))),
    ("item:ConversationId", lambda m, s, src: T.ConversationId(Id=m.conversation_id)),
    ("item:UniqueBody", _body("UniqueBody", "HTML")),
    ("item:Flag", lambda m, s, src: T.Flag(T.FlagStatus(_flag_status(m, src)))),
    ("item:Preview", _text("Preview", lambda m: m.body_preview)),
    ("item:TextBody", _body("TextBody", "Text")),
    ("message:Sender", lambda m, s, src: _single("Sender", m.sender)),
    ("message:ToRecipients", lambda m, s, src: _recipients("ToRecipients", m.to)),
    ("message:CcRecipients", lambda m, s, src: _recipients("CcRecipients", m.cc)),
    ("message:BccRecipients", lambda m, s, src: _recipients("BccRecipients", m.bcc)),
    ("message:IsReadReceiptRequested", _text("IsReadReceiptRequested", lambda m: "false")),
    ("message:IsDeliveryReceiptRequested", _text("IsDeliveryReceiptRequested", lambda m: "false")),
    ("message:ConversationTopic", _text("ConversationTopic", lambda m: m.subject)),
    ("message:From", lambda m, s, src: _single("From", m.from_)),
    ("message:InternetMessageId", _optional("InternetMessageId", lambda m: m.internet_message_id)),
    ("message:IsRead", _text("IsRead", lambda m: boolean(m.is_read))),
    ("message:References", _optional("References", lambda m: m.in_reply_to)),
    ("message:ReplyTo", lambda m, s, src: _recipients("ReplyTo", m.reply_to)),
    ("message:ReceivedBy", _owner("ReceivedBy")),
    ("message:ReceivedRepresenting", _owner("ReceivedRepresenting")),
]  # fmt: skip


def message_element(message: Message, shape: ItemShape, source: MessageSource) -> etree._Element:
    """``t:Message`` with the properties ``shape`` asks for, in schema order."""
    element = T.Message()
    for uri, build in MESSAGE_FIELDS:
        if uri in shape.properties:
            child = build(message, shape, source)
            if child is not None:
                element.append(child)
    return element


def attachment_id(attachment: Attachment, root: Message | None = None) -> etree._Element:
    """``t:AttachmentId``; with the root item's id and change key when ``root`` is given."""
    element = T.AttachmentId(Id=attachment.id)
    if root is not None:
        element.set("RootItemId", ews_item_id(root))
        element.set("RootItemChangeKey", ids.change_key(root.version))
    return element


def attachment_element(
    attachment: Attachment,
    *,
    content: bytes | None = None,
    item: etree._Element | None = None,
    root: Message | None = None,
) -> etree._Element:
    """``t:FileAttachment`` (with Content when given) or ``t:ItemAttachment`` (with its item)."""
    is_file = attachment.kind == "file"
    element = T.FileAttachment() if is_file else T.ItemAttachment()
    element.append(attachment_id(attachment, root))
    element.append(T.Name(attachment.name))
    element.append(T.ContentType(attachment.content_type))
    if attachment.content_id:
        element.append(T.ContentId(attachment.content_id))
    element.append(T.Size(str(attachment.size)))
    element.append(T.LastModifiedTime(ews_datetime(attachment.last_modified)))
    element.append(T.IsInline(boolean(attachment.is_inline)))
    if is_file:
        element.append(T.IsContactPhoto("false"))
        if content is not None:
            element.append(T.Content(base64.b64encode(content).decode("ascii")))
    elif item is not None:
        element.append(item)
    return element


_FOLDER_CLASS = {"contacts": "IPF.Contact"}
# Folders Exchange shows without a FolderClass (the non-IPM subtree).
_NO_FOLDER_CLASS = {
    "root",
    "searchfolders",
    "recoverableitemsroot",
    "recoverableitemsdeletions",
    "recoverableitemsversions",
    "recoverableitemspurges",
}


def folder_element(folder: Folder, parent: Folder | None = None) -> etree._Element:
    """``t:Folder`` / ``t:ContactsFolder`` with ids, class, name and counts (Default shape)."""
    folder_class = _FOLDER_CLASS.get(folder.well_known or "", "IPF.Note")
    element = T.ContactsFolder() if folder_class == "IPF.Contact" else T.Folder()
    element.append(folder_id(folder))
    if folder.parent_id:
        element.append(T.ParentFolderId(Id=folder.parent_id, ChangeKey="AQAAAA=="))
    if folder.well_known not in _NO_FOLDER_CLASS:
        element.append(T.FolderClass(folder_class))
    element.append(T.DisplayName(folder.display_name))
    element.append(T.TotalCount(str(folder.total_count)))
    element.append(T.ChildFolderCount(str(folder.child_folder_count)))
    if folder_class != "IPF.Contact":
        element.append(T.UnreadCount(str(folder.unread_count)))
    return element


_PHONE_KEYS = {"business": "BusinessPhone", "mobile": "MobilePhone", "home": "HomePhone"}


def contact_element(contact: Contact, *, with_id: bool = True) -> etree._Element:
    """``t:Contact`` with names, e-mail addresses, phones and company."""
    element = T.Contact()
    if with_id:
        element.append(T.ItemId(Id=contact.id, ChangeKey="EQAAABYAAAA="))
        element.append(T.ItemClass("IPM.Contact"))
        element.append(T.Subject(contact.display_name))
    element.append(T.FileAs(contact.display_name))
    element.append(T.DisplayName(contact.display_name))
    if contact.given_name:
        element.append(T.GivenName(contact.given_name))
    if contact.company:
        element.append(T.CompanyName(contact.company))
    if contact.emails:
        emails = T.EmailAddresses()
        emails.extend(
            T.Entry(a.address, Key=f"EmailAddress{i + 1}") for i, a in enumerate(contact.emails[:3])
        )
        element.append(emails)
    phones = [p for p in contact.phones if p.get("type") in _PHONE_KEYS]
    if phones:
        container = T.PhoneNumbers()
        container.extend(T.Entry(p["number"], Key=_PHONE_KEYS[p["type"]]) for p in phones)
        element.append(container)
    if contact.department:
        element.append(T.Department(contact.department))
    if contact.job_title:
        element.append(T.JobTitle(contact.job_title))
    if contact.surname:
        element.append(T.Surname(contact.surname))
    return element
