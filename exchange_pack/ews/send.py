"""send_email on EWS: one CreateItem (SendAndSaveCopy, or SendOnly) whose MimeContent carries a
Message-ID the pack generates (the same MIME as Graph's ``sendMail``).

CreateItem that sends returns no ItemId and no InternetMessageId; Exchange keeps the Message-ID
of the MIME it is given, so the pack names the message it sent without reading it back. The
one request changes state, so a timeout or a reset raises AmbiguousOutcomeError instead of
sending again (``EwsTransport.call(idempotent=False)``).
"""

from __future__ import annotations

from exchangelib import Account, Message
from exchangelib.items import SEND_AND_SAVE_COPY, SEND_ONLY, SEND_TO_NONE
from exchangelib.services import CreateItem

from ..errors import InputError
from ..models import OutgoingMessage, SentMessage
from ..outgoing_mime import compose_mime, new_message_id
from . import folders as folder_lookup
from .errors import checked_answers
from .transport import EwsTransport


def send(transport: EwsTransport, account: Account, draft: OutgoingMessage) -> SentMessage:
    """EWS CreateItem with MimeContent: the message sent, with its internet_message_id."""
    if not (draft.to or draft.cc or draft.bcc):
        raise InputError("send_email needs at least one recipient in to, cc or bcc.")
    mailbox = account.primary_smtp_address
    message_id = new_message_id(mailbox)
    # Properties sent beside MimeContent override the MIME's, and exchangelib always writes
    # Importance, so it must say what the MIME says.
    message = Message(
        account=account,
        mime_content=compose_mime(draft, mailbox, message_id),
        importance=draft.importance.capitalize(),
    )
    save = draft.save_to_sent_items
    sent_items = folder_lookup.distinguished(account, "sentitems") if save else None

    def create() -> None:
        checked_answers(
            CreateItem(account=account).call(
                items=[message],
                folder=sent_items,
                message_disposition=SEND_AND_SAVE_COPY if save else SEND_ONLY,
                send_meeting_invitations=SEND_TO_NONE,
            )
        )

    transport.call(create, mailbox=mailbox, idempotent=False)
    return SentMessage(
        mailbox=mailbox, internet_message_id=message_id, id=None, subject=draft.subject
    )
