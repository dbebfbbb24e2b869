"""``GraphMailbox``: one mailbox over Microsoft Graph, one method per capability.

Each method delegates to the module of its operation; this class only binds the mailbox
address, the shared transport and the folder directory (exchange_pack.backend.MailboxBackend).
"""

from __future__ import annotations

from ..backend import ByteStream, is_internet_message_id
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
from . import attachments, contacts, delta, junk, messages, move, reply, search, send, settings
from .folders import FolderDirectory, well_known
from .paging import collect
from .shape import ATTACHMENTS_EXPAND, REF_FIELDS, attachment_info, message_ref, message_summary
from .transport import GraphClient


class GraphMailbox:
    """A mailbox addressed through ``/users/{address}`` on Microsoft Graph v1.0."""

    def __init__(self, client: GraphClient, folders: FolderDirectory, address: str) -> None:
        self.client = client
        self.folders = folders
        self.address = address

    def _ref(self, message: MessageRef) -> MessageRef:
        return message.model_copy(update={"mailbox": self.address})

    def _folder_name(self, folder_id: str | None) -> str | None:
        return self.folders.name_of(self.address, folder_id)

    def resolve(self, ref: str) -> MessageSummary:
        """``GET messages/{id}`` or one ``internetMessageId`` lookup (folder left unnamed)."""
        data = messages.get_message(self.client, self.address, ref.strip())
        return message_summary(data, self.address, None)

    def resolve_in(self, ref: str, folder: str) -> tuple[MessageSummary, bool]:
        """One ``$batch``: ``GET messages/{id}`` (or the lookup) beside ``GET
        mailFolders/{folder}``, whose id is compared with the message's ``parentFolderId``."""
        data, inside = messages.get_message_in(self.client, self.address, ref.strip(), folder)
        return message_summary(data, self.address, folder if inside else None), inside

    def reference(
        self, ref: str, *, resolved: bool = False, deferred: bool = False
    ) -> MessageSummary:
        """A Graph id (REST form) without a request (``GET messages/{id}`` when ``resolved``);
        one ``internetMessageId`` lookup, or none yet when ``deferred``."""
        ref = ref.strip()
        if deferred and is_internet_message_id(ref):
            return MessageSummary(mailbox=self.address, id="", internet_message_id=ref)
        if resolved or is_internet_message_id(ref):
            return self.resolve(ref)
        return MessageSummary(
            mailbox=self.address, id=messages.rest_id(ref), internet_message_id=None
        )

    def message_attachments(self, ref: str) -> tuple[MessageRef, list[AttachmentInfo]]:
        """``GET messages/{id}`` (or the ``internetMessageId`` lookup) with
        ``$expand=attachments($select=...)``: one request, no content."""
        data = messages.get_message(
            self.client, self.address, ref.strip(), REF_FIELDS, (ATTACHMENTS_EXPAND,)
        )
        found = [attachment_info(item) for item in data.get("attachments") or []]
        return message_ref(data, self.address), found

    def search(
        self, criteria: SearchCriteria, limit: int, cursor: str | None = None
    ) -> Page[MessageSummary]:
        """``GET messages`` with ``$filter`` or ``$search`` (+ local check), then folder names."""
        folder = self.folders.resolve(self.address, criteria.folder) if criteria.folder else None
        first, check = search.FirstPage.of(criteria, limit).request(self.address, folder)
        items, next_cursor = collect(self.client, first, limit, cursor, check)
        found = search.summaries(items, self.address, criteria, self._folder_name)
        return Page[MessageSummary](items=found, next_cursor=next_cursor)

    def open_mime(self, message: MessageRef) -> ByteStream:
        """``GET messages/{id}/$value``, streamed."""
        return messages.open_mime(self.client, self.address, message.id)

    def attachments(self, message: MessageRef) -> list[AttachmentInfo]:
        """``GET messages/{id}/attachments`` without content."""
        return attachments.list_attachments(self.client, self.address, message.id)

    def open_attachment(self, message: MessageRef, attachment: AttachmentInfo) -> ByteStream:
        """``GET messages/{id}/attachments/{id}/$value``, streamed."""
        return attachments.open_attachment(self.client, self.address, message.id, attachment)

    def delete_attachment(self, message: MessageRef, attachment: AttachmentInfo) -> None:
        """``DELETE messages/{id}/attachments/{id}``."""
        attachments.delete_attachment(self.client, self.address, message.id, attachment)

    def copy(
        self, message: MessageRef, destination_folder: str, destination_mailbox: str | None
    ) -> MessageRef:
        """``POST messages/{id}/copy``, or MIME export + import into another mailbox."""
        return move.copy(
            self.client, self.folders, self._ref(message), destination_folder, destination_mailbox
        )

    def move(self, message: MessageRef, destination_folder: str) -> MessageRef:
        """``POST messages/{id}/move``."""
        return move.move(self.client, self.folders, self._ref(message), destination_folder)

    def delete(self, message: MessageRef, delete_type: DeleteType) -> None:
        """``move`` to deleteditems / recoverableitemsdeletions, or ``permanentDelete``."""
        move.delete(self.client, self._ref(message), delete_type)

    def mark_junk(
        self, message: MessageRef, *, is_junk: bool, move: bool, block_sender: bool
    ) -> JunkResult:
        """Move to junkemail/inbox; block the sender with an inbox rule (no markAsJunk in v1.0)."""
        return junk.mark_junk(
            self.client, self._ref(message), is_junk=is_junk, move=move, block_sender=block_sender
        )

    def send(self, draft: OutgoingMessage) -> SentMessage:
        """MIME ``sendMail`` (or draft + upload sessions + ``send`` for large attachments)."""
        return send.send(self.client, self.address, draft)

    def reply(self, message: MessageRef, draft: OutgoingMessage, *, reply_all: bool) -> SentReply:
        """``createReply``/``createReplyAll`` (in a ``$batch`` with the original's ``GET`` when
        unresolved) then ``send``."""
        return reply.reply(self.client, self._ref(message), draft, reply_all=reply_all)

    def out_of_office(self) -> OutOfOffice:
        """``GET mailboxSettings/automaticRepliesSetting``."""
        return settings.out_of_office(self.client, self.address)

    def contacts(self, query: str | None, limit: int, cursor: str | None = None) -> Page[Contact]:
        """``GET contacts`` with a local text filter."""
        return contacts.contacts(self.client, self.address, query, limit, cursor)

    def folder_changes(self, folder: str, sync_token: str | None) -> FolderChanges:
        """``GET mailFolders/{id}/messages/delta?changeType=created`` through to its deltaLink."""
        label = well_known(folder) or folder.strip().strip("/")
        return delta.folder_changes(
            self.client, self.folders, self.address, folder, label, sync_token
        )

    def mark_read(self, message: MessageRef) -> None:
        """``PATCH messages/{id}`` with isRead true."""
        delta.mark_read(self.client, self.address, message.id)
