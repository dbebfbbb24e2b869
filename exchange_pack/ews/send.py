"""send_email on EWS: CreateItem (SaveOnly draft with its attachments) + GetItem + SendItem."""

from __future__ import annotations

from exchangelib import Account, Message
from exchangelib.properties import Mailbox

from ..errors import InputError
from ..models import OutgoingMessage, SentMessage
from .compose import body, file_attachments, save_draft, send_draft
from .transport import EwsTransport


def send(transport: EwsTransport, account: Account, draft: OutgoingMessage) -> SentMessage:
    """EWS CreateItem + GetItem + SendItem: the message sent, with its internet_message_id."""
    if not (draft.to or draft.cc or draft.bcc):
        raise InputError("send_email needs at least one recipient in to, cc or bcc.")
    message = Message(
        account=account,
        subject=draft.subject,
        body=body(draft),
        to_recipients=[Mailbox(email_address=a) for a in draft.to] or None,
        cc_recipients=[Mailbox(email_address=a) for a in draft.cc] or None,
        bcc_recipients=[Mailbox(email_address=a) for a in draft.bcc] or None,
        reply_to=[Mailbox(email_address=a) for a in draft.reply_to] or None,
        importance=draft.importance.capitalize(),
        attachments=file_attachments(draft.attachment_paths),
    )
    draft_id = save_draft(transport, account, message)
    return send_draft(transport, account, draft_id, draft.save_to_sent_items, draft.subject)
