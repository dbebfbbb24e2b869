"""send_email on EWS: CreateItem (SaveOnly draft with its attachments) + GetItem + SendItem."""

from __future__ import annotations

from exchangelib import Account, Message
from exchangelib.items import SAVE_ONLY, SEND_TO_NONE
from exchangelib.properties import Mailbox
from exchangelib.services import CreateItem

from ..errors import InputError
from ..models import OutgoingMessage, SentMessage
from . import folders as folder_lookup
from .compose import body, created_id, file_attachments, send_draft
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
    drafts = folder_lookup.distinguished(account, "drafts")

    def create() -> list:
        return list(
            CreateItem(account=account).call(
                items=[message],
                folder=drafts,
                message_disposition=SAVE_ONLY,
                send_meeting_invitations=SEND_TO_NONE,
            )
        )

    answers = transport.call(create, mailbox=account.primary_smtp_address, idempotent=False)
    draft_id = created_id(answers)
    return send_draft(transport, account, draft_id, draft.save_to_sent_items, draft.subject)
