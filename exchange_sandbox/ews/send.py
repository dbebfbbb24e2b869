"""CreateItem (messages, ReplyToItem, ReplyAllToItem, ForwardItem) and SendItem.

Sent mail is delivered (without its Bcc header) to the Inbox of every recipient that is a tenant
mailbox, and a copy is kept in Sent Items (or SavedItemFolderId) for SendAndSaveCopy, as
Exchange's transport does. A message given whole as MimeContent keeps its Message-ID.
"""

from __future__ import annotations

import html

from lxml import etree

from ..graph.delivery import without_bcc
from ..mime import parse_mime
from ..store import Address, Folder, Mailbox, Message, build_mime
from .compose import AttachmentPart, Draft, read_draft
from .errors import EwsError
from .serialize import item_id, render_body
from .service import EwsContext, item_id_elements, operation, per_item
from .soap import M, T, m, t

_SMART_RESPONSES = {"ReplyToItem": "RE: ", "ReplyAllToItem": "RE: ", "ForwardItem": "FW: "}


def deliver(context: EwsContext, mime: bytes, recipients: list[Address]) -> None:
    """Puts a sent message in the Inbox of each recipient that has a mailbox in the tenant."""
    delivered: set[int] = set()
    mime = without_bcc(mime)
    for recipient in recipients:
        mailbox = context.store.mailbox(recipient.address)
        if mailbox is None or mailbox.id in delivered:
            continue
        inbox = context.store.folder(mailbox.id, "inbox")
        if inbox is not None:
            context.store.add_message(mailbox.id, inbox.id, mime, received_at=context.tenant.now())
            delivered.add(mailbox.id)


def _sender_of(context: EwsContext, draft: Draft) -> Address:
    mailbox = context.require_mailbox()
    own = Address(mailbox.address, mailbox.display_name)
    if draft.sender is None or draft.sender.address.lower() == mailbox.address:
        return own
    other = context.store.mailbox(draft.sender.address)
    # Send-as a shared mailbox the caller can open is allowed; anyone else is denied.
    if other is None or other.type != "shared":
        raise EwsError("ErrorSendAsDenied")
    context.accessible(other)
    return Address(other.address, other.display_name)


def _quoted(original: Message, body_type: str) -> str:
    sender = original.from_ or original.sender
    header = f"From: {sender.name or sender.address if sender else ''}\nSubject: {original.subject}"
    _, text = render_body(original, "HTML" if body_type == "html" else "Text")
    if body_type == "html":
        return f"<hr><div>{html.escape(header).replace(chr(10), '<br>')}</div>{text}"
    return f"\n\n-----Original Message-----\n{header}\n\n{text}"


def _smart_response(context: EwsContext, element: etree._Element) -> tuple[Draft, Message]:
    """A reply or forward: recipients, subject and quoted body from the referenced item."""
    kind = etree.QName(element).localname
    reference = element.find(t("ReferenceItemId"))
    if reference is None:
        raise EwsError("ErrorInvalidRequest", "ReferenceItemId is required.")
    original = context.message(reference)
    draft = read_draft(element)
    new_body = element.find(t("NewBodyContent"))
    if new_body is not None or element.find(t("Body")) is None:
        draft.body_type = "html" if original.body_type == "html" else draft.body_type
        prefix = draft.body if new_body is not None else ""
        draft.body = prefix + _quoted(original, draft.body_type)
    if not draft.subject:
        draft.subject = _SMART_RESPONSES[kind] + original.subject
    me = context.require_mailbox().address
    if kind != "ForwardItem" and not draft.to:
        author = original.reply_to or [a for a in (original.from_ or original.sender,) if a]
        draft.to = list(author)
        if kind == "ReplyAllToItem":
            others = [a for a in original.to + original.cc if a.address.lower() != me]
            known = {a.address.lower() for a in draft.to}
            draft.cc = draft.cc + [a for a in others if a.address.lower() not in known]
    if kind == "ForwardItem":
        draft.attachments = _original_attachments(context, original) + draft.attachments
    return draft, original


def _original_attachments(context: EwsContext, original: Message) -> list[AttachmentPart]:
    store = context.store
    return [
        (a.name, a.content_type, store.attachment_content(a.id), a.is_inline, a.content_id)
        for a in store.attachments(original.id)
    ]


def _mime(context: EwsContext, draft: Draft, original: Message | None) -> bytes:
    if draft.mime is not None and original is None:
        if draft.sender is None:
            draft.sender = parse_mime(draft.mime).from_
        _sender_of(context, draft)  # a whole MIME message is checked for send-as too
        return draft.mime
    references = None
    if original is not None and original.internet_message_id:
        references = original.internet_message_id
    return build_mime(
        sender=_sender_of(context, draft),
        to=draft.to,
        cc=draft.cc,
        bcc=draft.bcc,
        reply_to=draft.reply_to,
        subject=draft.subject,
        body=draft.body,
        body_type=draft.body_type,
        attachments=draft.attachments,
        importance=draft.importance,
        in_reply_to=references,
        references=references,
        date=context.tenant.now(),
    )


def _default_folder(context: EwsContext, mailbox: Mailbox, name: str) -> Folder:
    folder = context.store.folder(mailbox.id, name)
    if folder is None:
        raise EwsError("ErrorFolderNotFound")
    return folder


def _recipients_of(mime: bytes) -> list[Address]:
    parsed = parse_mime(mime)
    return parsed.to + parsed.cc + parsed.bcc


@operation("CreateItem")
def create_item(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS CreateItem for messages and smart responses (SaveOnly, SendOnly,
    SendAndSaveCopy, SavedItemFolderId, inline attachments)."""
    disposition = request.get("MessageDisposition", "SaveOnly")
    saved_folder = context.target_folder(request.find(m("SavedItemFolderId")))
    container = request.find(m("Items"))
    elements = [] if container is None else [c for c in container if isinstance(c.tag, str)]
    store = context.store

    def one(element: etree._Element) -> list[etree._Element]:
        name = etree.QName(element).localname
        mailbox = context.require_mailbox()
        if name in _SMART_RESPONSES:
            draft, original = _smart_response(context, element)
        elif name == "Message":
            draft, original = read_draft(element), None
        else:
            raise EwsError("ErrorInvalidRequest", f"CreateItem does not support {name} here.")
        mime = _mime(context, draft, original)
        if disposition == "SaveOnly":
            folder = saved_folder or _default_folder(context, mailbox, "drafts")
            saved = store.add_message(
                folder.mailbox_id, folder.id, mime, is_draft=True, is_read=True,
                received_at=context.tenant.now(),
            )  # fmt: skip
            return [M.Items(T.Message(item_id(saved)))]
        recipients = _recipients_of(mime)
        if not recipients:
            raise EwsError("ErrorInvalidRecipients")
        deliver(context, mime, recipients)
        if disposition == "SendAndSaveCopy":
            folder = saved_folder or _default_folder(context, mailbox, "sentitems")
            store.add_message(
                folder.mailbox_id, folder.id, mime, is_read=True, received_at=context.tenant.now()
            )
        return [M.Items()]

    return per_item("CreateItem", elements, one, lambda: [M.Items()])


@operation("SendItem")
def send_item(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS SendItem: sends drafts, saving them to Sent Items or SavedItemFolderId."""
    save = request.get("SaveItemToFolder") == "true"
    saved_folder = context.target_folder(request.find(m("SavedItemFolderId")))
    store = context.store

    def one(element: etree._Element) -> list[etree._Element]:
        draft = context.message(element)
        mime = store.mime(draft.id)
        recipients = _recipients_of(mime)
        if not recipients:
            raise EwsError("ErrorInvalidRecipients")
        deliver(context, mime, recipients)
        if not save:
            store.delete_message(draft.id)
            return []
        owner = store.mailbox(draft.mailbox_id) or context.require_mailbox()
        folder = saved_folder or _default_folder(context, owner, "sentitems")
        store.update_message(draft.id, is_draft=False, is_read=True)
        if folder.id != draft.folder_id:
            store.move_message(draft.id, folder.id)
        return []

    return per_item("SendItem", item_id_elements(request.find(m("ItemIds"))), one)
