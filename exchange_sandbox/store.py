"""The tenant's one store (SQLite), shared by the Graph and EWS faces.

INTERFACE DRAFT — the signatures and dataclasses below are the contract the Graph face, the
EWS face, the seeds and the admin API code against. Implement the bodies; keep the names.

Messages are kept as RFC 5322 MIME (the truth) plus indexed columns parsed from it (for
queries) and their mutable flags (read, folder, categories...). Attachments are parsed from the
MIME on insert and kept in their own table with stable ids; deleting one rewrites the MIME.
Thread-safe: one SQLite connection per thread (WAL), writes serialised by a lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

MailboxType = Literal["user", "shared", "room", "equipment"]
Importance = Literal["low", "normal", "high"]

# Well-known folder names, Graph spelling -> EWS DistinguishedFolderId and display name.
WELL_KNOWN_FOLDERS: dict[str, tuple[str, str]] = {
    "msgfolderroot": ("msgfolderroot", "Top of Information Store"),
    "inbox": ("inbox", "Inbox"),
    "sentitems": ("sentitems", "Sent Items"),
    "drafts": ("drafts", "Drafts"),
    "deleteditems": ("deleteditems", "Deleted Items"),
    "junkemail": ("junkemail", "Junk Email"),
    "archive": ("archive", "Archive"),
    "outbox": ("outbox", "Outbox"),
    "contacts": ("contacts", "Contacts"),
    "recoverableitemsdeletions": ("recoverableitemsdeletions", "Deletions"),
    "recoverableitemspurges": ("recoverableitemspurges", "Purges"),
}


@dataclass
class Address:
    address: str
    name: str = ""


@dataclass
class App:
    client_id: str
    display_name: str
    client_secret: str | None
    secret_expires_at: dt.datetime | None
    certificate_pem: str | None  # the registered public certificate (PEM)
    roles: list[str]  # Graph app roles and/or "full_access_as_app"
    mailbox_scope: list[str] | None = None  # RBAC for Applications; None = all mailboxes


@dataclass
class Mailbox:
    id: int
    address: str  # primary SMTP address, lower case
    display_name: str
    type: MailboxType
    guid: str  # Exchange mailbox GUID (also the Graph user id)
    aliases: list[str] = field(default_factory=list)
    sid: str = ""  # for EWS impersonation by SID
    enabled: bool = True  # False -> Graph MailboxNotEnabledForRESTAPI


@dataclass
class Folder:
    id: str  # EWS-form id (ids.canonical)
    mailbox_id: int
    parent_id: str | None
    well_known: str | None  # key of WELL_KNOWN_FOLDERS or None
    display_name: str
    total_count: int = 0
    unread_count: int = 0
    child_folder_count: int = 0


@dataclass
class Attachment:
    id: str  # EWS-form id
    message_id: str
    name: str
    content_type: str
    size: int
    is_inline: bool
    content_id: str | None
    kind: Literal["file", "item"]  # item = an attached message (message/rfc822)
    last_modified: dt.datetime | None = None


@dataclass
class Message:
    id: str  # EWS-form id
    mailbox_id: int
    folder_id: str
    version: int  # bumps on every change (ChangeKey, @odata.etag)
    internet_message_id: str
    conversation_id: str
    subject: str
    sender: Address | None
    from_: Address | None
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    reply_to: list[Address]
    sent_at: dt.datetime | None
    received_at: dt.datetime
    created_at: dt.datetime
    modified_at: dt.datetime
    is_read: bool
    is_draft: bool
    importance: Importance
    has_attachments: bool
    size: int  # bytes of MIME
    body_type: Literal["text", "html"]
    body: str  # the body as the message's preferred type
    body_preview: str  # first 255 chars of the text body, whitespace folded
    categories: list[str] = field(default_factory=list)
    in_reply_to: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)  # internet headers, in order


@dataclass
class Contact:
    id: str
    mailbox_id: int
    display_name: str
    given_name: str
    surname: str
    emails: list[Address]
    phones: list[dict[str, str]]  # {"type": "business"|"mobile"|"home", "number": ...}
    company: str = ""
    job_title: str = ""
    department: str = ""


@dataclass
class OutOfOffice:
    status: Literal["disabled", "alwaysEnabled", "scheduled"]
    external_audience: Literal["none", "contactsOnly", "all"]
    start: dt.datetime | None
    end: dt.datetime | None
    internal_reply: str
    external_reply: str


@dataclass
class Rule:
    id: str
    mailbox_id: int
    display_name: str
    sequence: int
    is_enabled: bool
    conditions: dict[str, Any]  # Graph messageRulePredicates JSON
    actions: dict[str, Any]  # Graph messageRuleActions JSON


class Store:
    """SQLite-backed tenant state. ``Store(path)`` creates the schema when new."""

    def __init__(self, path: Path | str) -> None: ...

    # -- tenant, apps ------------------------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any: ...
    def set_setting(self, key: str, value: Any) -> None: ...
    def add_app(self, app: App) -> None: ...
    def app(self, client_id: str) -> App | None: ...
    def apps(self) -> list[App]: ...

    # -- mailboxes ----------------------------------------------------------------------------
    def add_mailbox(
        self,
        address: str,
        display_name: str,
        type: MailboxType = "user",
        aliases: Iterable[str] = (),
    ) -> Mailbox:
        """Creates the mailbox and its well-known folders."""

    def mailbox(self, ref: str | int) -> Mailbox | None:
        """By id, primary address or alias (case-insensitive), guid, or SID."""

    def mailboxes(self, *, offset: int = 0, limit: int | None = None) -> list[Mailbox]: ...
    def count_mailboxes(self) -> int: ...

    # -- folders ------------------------------------------------------------------------------
    def folder(self, mailbox_id: int, ref: str) -> Folder | None:
        """By id (either id form) or well-known name (Graph or EWS spelling, case-insensitive)."""

    def folders(
        self, mailbox_id: int, parent_id: str | None = None, *, deep: bool = False
    ) -> list[Folder]: ...
    def folder_by_path(self, mailbox_id: int, path: str) -> Folder | None:
        """``Inbox/Phishing`` style paths, case-insensitive, from the message-folder root."""

    def create_folder(self, mailbox_id: int, parent_id: str, display_name: str) -> Folder: ...

    # -- messages -----------------------------------------------------------------------------
    def add_message(
        self,
        mailbox_id: int,
        folder_id: str,
        mime: bytes,
        *,
        received_at: dt.datetime | None = None,
        is_read: bool = False,
        is_draft: bool = False,
        categories: Iterable[str] = (),
    ) -> Message:
        """Parses the MIME, stores it with its attachments, returns the new message."""

    def message(self, message_id: str) -> Message | None:
        """By either id form; None when absent or malformed."""

    def messages(
        self,
        mailbox_id: int,
        folder_ids: Iterable[str] | None = None,
        *,
        include_drafts: bool = True,
    ) -> list[Message]:
        """Every message of a mailbox (or of these folders), newest received first."""

    def find_by_internet_message_id(
        self, mailbox_id: int, internet_message_id: str
    ) -> list[Message]: ...
    def mime(self, message_id: str) -> bytes: ...
    def iter_mime(self, message_id: str, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """Streams the stored MIME (sqlite blob I/O), for large messages."""

    def update_message(self, message_id: str, **fields: Any) -> Message:
        """Mutable fields: is_read, categories, importance, subject, body, body_type, to, cc,
        bcc, reply_to, is_draft, folder_id. Draft edits regenerate the MIME."""

    def replace_mime(self, message_id: str, mime: bytes) -> Message: ...
    def move_message(self, message_id: str, folder_id: str) -> Message:
        """Same mailbox: keeps the id (immutable ids). Another mailbox: new id."""

    def copy_message(self, message_id: str, mailbox_id: int, folder_id: str) -> Message: ...
    def delete_message(self, message_id: str) -> None: ...

    # -- attachments --------------------------------------------------------------------------
    def attachments(self, message_id: str) -> list[Attachment]: ...
    def attachment(self, attachment_id: str) -> Attachment | None: ...
    def attachment_content(self, attachment_id: str) -> bytes: ...
    def iter_attachment_content(
        self, attachment_id: str, chunk_size: int = 1 << 16
    ) -> Iterator[bytes]: ...
    def add_attachment(
        self,
        message_id: str,
        name: str,
        content_type: str,
        content: bytes,
        *,
        is_inline: bool = False,
        content_id: str | None = None,
        kind: Literal["file", "item"] = "file",
    ) -> Attachment:
        """Adds a part to the message's MIME and indexes it."""

    def delete_attachment(self, attachment_id: str) -> None:
        """Removes the part from the message's MIME; other attachments keep their ids."""

    # -- contacts, settings, rules, junk ------------------------------------------------------
    def add_contact(self, mailbox_id: int, contact: Contact) -> Contact: ...
    def contacts(self, mailbox_id: int) -> list[Contact]: ...
    def contact(self, contact_id: str) -> Contact | None: ...
    def out_of_office(self, mailbox_id: int) -> OutOfOffice: ...
    def set_out_of_office(self, mailbox_id: int, oof: OutOfOffice) -> None: ...
    def mailbox_settings(self, mailbox_id: int) -> dict[str, Any]:
        """timeZone, language, workingHours... (Graph mailboxSettings shape, minus OOF)."""

    def rules(self, mailbox_id: int) -> list[Rule]: ...
    def add_rule(self, mailbox_id: int, rule: Rule) -> Rule: ...
    def update_rule(self, rule_id: str, **fields: Any) -> Rule: ...
    def delete_rule(self, rule_id: str) -> None: ...
    def blocked_senders(self, mailbox_id: int) -> list[str]: ...
    def block_sender(self, mailbox_id: int, address: str, blocked: bool = True) -> None: ...

    # -- whole tenant -------------------------------------------------------------------------
    def reset(self) -> None:
        """Deletes every row (the caller then re-seeds)."""

    def close(self) -> None: ...


def build_mime(
    *,
    sender: Address,
    to: list[Address],
    cc: list[Address] = (),  # type: ignore[assignment]
    bcc: list[Address] = (),  # type: ignore[assignment]
    reply_to: list[Address] = (),  # type: ignore[assignment]
    subject: str,
    body: str,
    body_type: Literal["text", "html"] = "text",
    attachments: list[tuple[str, str, bytes, bool, str | None]] = (),  # type: ignore[assignment]
    attached_messages: list[bytes] = (),  # type: ignore[assignment]
    importance: Importance = "normal",
    internet_message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    date: dt.datetime | None = None,
    extra_headers: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> bytes:
    """RFC 5322 MIME for a message the faces create (send, reply, drafts, seeds).

    ``attachments``: (name, content_type, content, is_inline, content_id).
    """
