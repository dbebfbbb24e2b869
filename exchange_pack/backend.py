"""The capability interface both backends implement (``graph/`` and ``ews/``).

Actions only see these two protocols: a ``Backend`` for the tenant (searchable mailboxes,
fan-out search, connection facts) and a ``MailboxBackend`` per mailbox with one method per
capability. Messages are addressed by ``ref``: a Graph id, an EWS ItemId, or an
``internet_message_id`` (``<...@...>``); ``resolve`` turns any of those into the message.
Errors are ``exchange_pack.errors`` exceptions, never backend-specific ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, NamedTuple, Protocol

from .errors import ExchangePackError, directory_changed
from .models import (
    AttachmentInfo,
    Contact,
    DeleteType,
    FolderChanges,
    JunkResult,
    MailboxInfo,
    MailboxStatus,
    MessageRef,
    MessageSummary,
    OutgoingMessage,
    OutOfOffice,
    Page,
    Removal,
    SearchCriteria,
    SentMessage,
    SentReply,
)

ByteStream = AbstractContextManager[Iterator[bytes]]
MailboxesDone = Callable[[int], None]


class TenantSearch(NamedTuple):
    """``search_all``'s answer: each mailbox searched, in directory order, and the first
    mailbox it left for a rerun (None: every mailbox was searched)."""

    results: list[tuple[MailboxStatus, list[MessageSummary]]]
    rest_from: str | None = None


def from_mailbox(
    addresses: Sequence[str],
    mailbox: str,
    gone: Callable[[str], ExchangePackError] = directory_changed,
) -> list[str]:
    """``addresses`` from ``mailbox`` on (a cursor's resume point; case-insensitive); raises
    ``gone(mailbox)`` when they no longer hold it."""
    wanted = mailbox.lower()
    for index, address in enumerate(addresses):
        if address.lower() == wanted:
            return list(addresses[index:])
    raise gone(mailbox)


def is_internet_message_id(ref: str) -> bool:
    """``<local@domain>``: the one message reference both backends understand."""
    return ref.startswith("<") and ref.endswith(">") and "@" in ref


def is_unresolved(message: MessageRef) -> bool:
    """A reference built from a backend id alone: subject and internet_message_id not read."""
    return message.internet_message_id is None and message.subject is None


def is_not_looked_up(message: MessageRef) -> bool:
    """A reference by internet_message_id alone (empty ``id``): the request doing the work
    looks it up on the way (``MailboxBackend.reference(..., deferred=True)``)."""
    return not message.id


class MailboxBackend(Protocol):
    address: str

    def resolve(self, ref: str) -> MessageSummary:
        """The message named by a backend id or internet_message_id (MessageNotFoundError)."""

    def resolve_in(self, ref: str, folder: str) -> tuple[MessageSummary, bool]:
        """``resolve``, and whether the message sits in the well-known ``folder`` (Graph reads
        both in one ``$batch``; EWS searches that folder for its internet_message_id)."""

    def reference(
        self, ref: str, *, resolved: bool = False, deferred: bool = False
    ) -> MessageSummary:
        """The message's reference as cheaply as the backend has it: a backend id unresolved
        (no request; only ``id`` known, in this backend's form) unless ``resolved`` (one
        read); an internet_message_id in its one lookup, with the reference fields, folder
        and sender (EWS FindItem returns no recipients or preview, so those stay empty).
        ``deferred`` (for mark_junk): a backend whose work can look an internet_message_id up
        itself (Graph's junk ``$batch``) returns it not looked up (``is_not_looked_up``)."""

    def message_attachments(self, ref: str) -> tuple[MessageRef, list[AttachmentInfo]]:
        """The message's reference and its attachments (no content) in one read (after the
        lookup of an internet_message_id on EWS)."""

    def search(
        self, criteria: SearchCriteria, limit: int, cursor: str | None = None
    ) -> Page[MessageSummary]: ...

    def open_mime(self, message: MessageRef) -> ByteStream:
        """Streams the full RFC 5322 MIME."""

    def attachments(self, message: MessageRef) -> list[AttachmentInfo]: ...

    def open_attachment(self, message: MessageRef, attachment: AttachmentInfo) -> ByteStream:
        """Streams a file attachment's bytes, or an item attachment as MIME (.eml)."""

    def delete_attachment(self, message: MessageRef, attachment: AttachmentInfo) -> None: ...

    def copy(
        self, message: MessageRef, destination_folder: str, destination_mailbox: str | None
    ) -> MessageRef:
        """The copy's reference; it carries the subject and internet_message_id of the
        original, so an unresolved ``message`` is completed from it."""

    def move(self, message: MessageRef, destination_folder: str) -> MessageRef: ...

    def delete(self, message: MessageRef, delete_type: DeleteType) -> None: ...

    def mark_junk(
        self, message: MessageRef, *, is_junk: bool, move: bool, block_sender: bool
    ) -> JunkResult:
        """Accepts an unresolved or not looked up ``message``; the result names its subject and
        sender (and its id before the move when the backend looked it up)."""

    def send(self, draft: OutgoingMessage) -> SentMessage: ...

    def reply(self, message: MessageRef, draft: OutgoingMessage, *, reply_all: bool) -> SentReply:
        """Sends the reply once; an unresolved ``message`` is read within the reply's own
        requests, so the result names it without an extra round trip."""

    def out_of_office(self) -> OutOfOffice: ...

    def folder_changes(self, folder: str, sync_token: str | None) -> FolderChanges:
        """Messages created in ``folder`` since ``sync_token`` (every message without one) and
        the token after them; SyncStateExpiredError when the server forgot the token."""

    def mark_read(self, message: MessageRef) -> None: ...

    def contacts(
        self, query: str | None, limit: int, cursor: str | None = None
    ) -> Page[Contact]: ...


class Backend(Protocol):
    name: str  # "graph" | "ews"

    def mailbox(self, address: str) -> MailboxBackend: ...

    def searchable_mailboxes(self, limit: int | None = None) -> list[MailboxInfo]: ...

    def search_many(
        self,
        addresses: Sequence[str],
        criteria: SearchCriteria,
        limit: int,
        progress: MailboxesDone | None = None,
    ) -> list[tuple[MailboxStatus, list[MessageSummary]]]:
        """One search per mailbox with bounded concurrency (Graph: ``$batch``); a failing
        mailbox gets its status, the others still answer. ``progress(n)`` hears how many
        mailboxes are done, from the calling thread."""

    def delete_many(self, messages: Sequence[MessageRef], delete_type: DeleteType) -> list[Removal]:
        """Removes many messages of many mailboxes in as few calls as the API allows (Graph
        ``$batch`` of 20, at most 4 per mailbox at once; EWS DeleteItem with many ItemIds per
        mailbox); one outcome per message, in order; a message already gone is not_found."""

    def search_all(
        self,
        criteria: SearchCriteria,
        limit: int,
        progress: MailboxesDone | None = None,
        start_at: str | None = None,
        enough: int | None = None,
    ) -> TenantSearch:
        """``search_many`` over every searchable mailbox (from mailbox ``start_at`` on, in the
        directory's order; InputError when it is gone); Graph reads the directory inside the
        search's own stream of batches instead of before it. Both start no further mailbox
        once the first ones in order hold ``enough`` messages (``rest_from``: the first left)."""

    def probe(self, mailbox: str | None = None) -> dict[str, Any]:
        """For test_connection: token facts (auth method, expiry, roles) and reachability from
        ONE read of ``mailbox``'s Inbox (default: the config's ``default_mailbox``); a failed
        read is in ``error`` (its envelope form) and ``probe_error`` (the exception)."""
