"""One mailbox over EWS: the MailboxBackend protocol, each capability in its own module."""

from __future__ import annotations

from exchangelib import Account

from ..backend import ByteStream
from ..models import (
    AttachmentInfo,
    Contact,
    DeleteType,
    FolderChanges,
    JunkResult,
    MessageRef,
    MessageSummary,
    OutgoingMessage,
    OutOfOffice,
    Page,
    SearchCriteria,
    SentMessage,
    SentReply,
)
from . import (
    attachments,
    contacts,
    junk,
    messages,
    mime,
    mutate,
    reply,
    search,
    send,
    settings,
    sync,
)
from .transport import EwsTransport

MAX_SAME_ID_COPIES = 50  # copies of one message (same internet_message_id) in one folder


class EwsMailbox:
    """The capabilities of one mailbox, acting as it (impersonation) or as its delegate."""

    def __init__(self, transport: EwsTransport, address: str) -> None:
        self.transport = transport
        self.address = address

    @property
    def account(self) -> Account:
        """The exchangelib Account (built on first use; no request)."""
        return self.transport.account(self.address)

    def resolve(self, ref: str) -> MessageSummary:
        """EWS GetItem (after FindItem for an internet_message_id)."""
        return messages.resolve(self.transport, self.account, ref)

    def resolve_in(self, ref: str, folder: str) -> tuple[MessageSummary, bool]:
        """EWS GetItem (FindItem for an internet_message_id), then FindItem in ``folder`` for
        the message's internet_message_id, matched by ItemId."""
        message = self.reference(ref, resolved=True)
        if not message.internet_message_id:
            return message, False
        criteria = SearchCriteria(internet_message_id=message.internet_message_id, folder=folder)
        page = self.search(criteria, MAX_SAME_ID_COPIES)
        if any(found.id == message.id for found in page.items):
            return message.model_copy(update={"folder": folder}), True
        return message, False

    def reference(
        self, ref: str, *, resolved: bool = False, deferred: bool = False
    ) -> MessageSummary:
        """An EWS ItemId without a request (GetItem when ``resolved``); FindItem alone for an
        internet_message_id, even when ``deferred`` (every EWS operation needs the ItemId)."""
        return messages.reference(self.transport, self.account, ref, resolved=resolved)

    def message_attachments(self, ref: str) -> tuple[MessageRef, list[AttachmentInfo]]:
        """EWS GetItem of the reference fields and attachments (FindItem first for a
        Message-ID)."""
        return attachments.message_attachments(self.transport, self.account, ref)

    def search(
        self, criteria: SearchCriteria, limit: int, cursor: str | None = None
    ) -> Page[MessageSummary]:
        """EWS FindItem + GetItem."""
        return search.search(self.transport, self.account, criteria, limit, cursor)

    def open_mime(self, message: MessageRef) -> ByteStream:
        """EWS GetItem with IncludeMimeContent (streamed)."""
        return mime.open_mime(self.transport, self.account, message)

    def attachments(self, message: MessageRef) -> list[AttachmentInfo]:
        """EWS GetItem of item:Attachments."""
        return attachments.list_attachments(self.transport, self.account, message)

    def open_attachment(self, message: MessageRef, attachment: AttachmentInfo) -> ByteStream:
        """EWS GetAttachment (file content streamed; attached messages as MIME)."""
        return attachments.open_attachment(self.transport, self.account, attachment)

    def delete_attachment(self, message: MessageRef, attachment: AttachmentInfo) -> None:
        """EWS DeleteAttachment."""
        attachments.delete_attachment(self.transport, self.account, attachment)

    def copy(
        self, message: MessageRef, destination_folder: str, destination_mailbox: str | None
    ) -> MessageRef:
        """EWS CopyItem (to a folder of this or another mailbox)."""
        target = self.transport.account(destination_mailbox) if destination_mailbox else None
        return mutate.copy(self.transport, self.account, message, destination_folder, target)

    def move(self, message: MessageRef, destination_folder: str) -> MessageRef:
        """EWS MoveItem."""
        return mutate.move(self.transport, self.account, message, destination_folder)

    def delete(self, message: MessageRef, delete_type: DeleteType) -> None:
        """EWS DeleteItem (MoveToDeletedItems, SoftDelete or HardDelete)."""
        mutate.delete(self.transport, self.account, message, delete_type)

    def mark_junk(
        self, message: MessageRef, *, is_junk: bool, move: bool, block_sender: bool
    ) -> JunkResult:
        """EWS MarkAsJunk."""
        return junk.mark_junk(
            self.transport, self.account, message, is_junk=is_junk, move=move, block=block_sender
        )

    def send(self, draft: OutgoingMessage) -> SentMessage:
        """EWS CreateItem (SendAndSaveCopy / SendOnly)."""
        return send.send(self.transport, self.account, draft)

    def reply(self, message: MessageRef, draft: OutgoingMessage, *, reply_all: bool) -> SentReply:
        """EWS CreateItem with ReplyToItem / ReplyAllToItem, GetItem, SendItem."""
        return reply.reply(self.transport, self.account, message, draft, reply_all=reply_all)

    def out_of_office(self) -> OutOfOffice:
        """EWS GetUserOofSettings."""
        return settings.out_of_office(self.transport, self.account)

    def contacts(self, query: str | None, limit: int, cursor: str | None = None) -> Page[Contact]:
        """EWS FindItem + GetItem on the Contacts folder."""
        return contacts.contacts(self.transport, self.account, query, limit, cursor)

    def folder_changes(self, folder: str, sync_token: str | None) -> FolderChanges:
        """EWS SyncFolderItems (Creates only) until IncludesLastItemInRange."""
        return sync.folder_changes(self.transport, self.account, folder, sync_token)

    def mark_read(self, message: MessageRef) -> None:
        """EWS UpdateItem of message:IsRead."""
        sync.mark_read(self.transport, self.account, message.id)
