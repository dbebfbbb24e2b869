"""reply_to_email on EWS: CreateItem with ReplyToItem / ReplyAllToItem, then SendItem.

The reply is saved as a draft (SaveOnly), so extra recipients and attachments can be added
(CreateAttachment: ReplyToItem elements cannot carry attachments) and its InternetMessageId
read before it is sent.
"""

from __future__ import annotations

from exchangelib import Account
from exchangelib.items import Item, ReplyAllToItem, ReplyToItem
from exchangelib.properties import Mailbox, ReferenceItemId

from ..backend import is_unresolved
from ..models import MessageRef, OutgoingMessage, SentReply
from .compose import attach, body, save_draft, send_draft
from .messages import ews_item_id, get_items
from .shape import REF_FIELDS, message_ref
from .transport import EwsTransport

RECIPIENT_FIELDS = ("author", "reply_to", "to_recipients", "cc_recipients")


def reply(
    transport: EwsTransport,
    account: Account,
    message: MessageRef,
    draft: OutgoingMessage,
    *,
    reply_all: bool,
) -> SentReply:
    """EWS CreateItem (ReplyToItem/ReplyAllToItem, SaveOnly) + CreateAttachment + GetItem +
    SendItem. An unresolved ``message`` is read in that GetItem beside the draft, or in the
    GetItem that extra recipients need first."""
    kind = ReplyAllToItem if reply_all else ReplyToItem
    address = account.primary_smtp_address
    to = cc = None
    if draft.to or draft.cc:
        fields = (*REF_FIELDS, *RECIPIENT_FIELDS)
        original = get_items(transport, account, [ews_item_id(message.id)], fields)[0]
        message = message_ref(address, original) if is_unresolved(message) else message
        to, cc = _recipients(original, address, draft, reply_all)
    response = kind(
        account=account,
        reference_item_id=ReferenceItemId(id=ews_item_id(message.id)),
        subject=draft.subject or None,
        new_body=body(draft),
        to_recipients=to,
        cc_recipients=cc,
        bcc_recipients=[Mailbox(email_address=a) for a in draft.bcc] or None,
    )
    draft_id = save_draft(transport, account, response)
    attach(transport, account, draft_id, draft.attachment_paths)
    read_along = ews_item_id(message.id) if is_unresolved(message) else None
    sent, original = send_draft(
        transport, account, draft_id, draft.save_to_sent_items, read_along=read_along
    )
    in_reply_to = message_ref(address, original) if original is not None else message
    return SentReply(in_reply_to=in_reply_to, reply=sent)


def _recipients(
    original: Item, address: str, draft: OutgoingMessage, reply_all: bool
) -> tuple[list[Mailbox], list[Mailbox] | None]:
    """The whole (to, cc) of a reply with extra recipients.

    EWS fills a reply's recipients only when none are given, so with extra ones the pack
    spells out the whole list: the original's Reply-To (else From), plus for reply-all the
    original To and Cc except this mailbox, plus the extras."""
    me = address.lower()
    to = list(original.reply_to or []) or ([original.author] if original.author else [])
    cc: list[Mailbox] = []
    if reply_all:
        cc = [
            m
            for m in [*(original.to_recipients or []), *(original.cc_recipients or [])]
            if (m.email_address or "").lower() != me
        ]
    to += [Mailbox(email_address=a) for a in draft.to]
    cc += [Mailbox(email_address=a) for a in draft.cc]
    return _unique(to), _unique(cc) or None


def _unique(people: list[Mailbox]) -> list[Mailbox]:
    seen: set[str] = set()
    kept = []
    for person in people:
        key = (person.email_address or "").lower()
        if key and key not in seen:
            seen.add(key)
            kept.append(person)
    return kept
