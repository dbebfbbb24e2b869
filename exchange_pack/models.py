"""Pydantic models for what crosses module boundaries: backend results and action outputs.

Both backends produce these, so an action's ``data`` is identical on Graph and EWS for the
same mailbox content (backend ids aside). Timestamps are ISO 8601 UTC strings ending in ``Z``.
"""

from __future__ import annotations

import datetime as dt
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from .errors import (
    AccessDeniedError,
    ExchangePackError,
    MailboxNotFoundError,
    MessageNotFoundError,
    ThrottledError,
)

T = TypeVar("T")

DeleteType = Literal["move_to_deleted_items", "soft", "hard"]
BodyType = Literal["text", "html"]
Importance = Literal["low", "normal", "high"]
MailboxStatusValue = Literal["ok", "not_found", "access_denied", "throttled", "error"]


def iso_utc(value: dt.datetime | None) -> str | None:
    """``2026-11-22T06:43:43Z``: second precision, UTC, the form both backends agree on."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    def dump(self) -> dict:
        """The JSON-ready dict used in outputs (aliases applied, e.g. ``from``)."""
        return self.model_dump(mode="json", by_alias=True)


class Recipient(Model):
    address: str
    name: str = ""


class MessageRef(Model):
    """The minimum every message in an output carries."""

    mailbox: str
    id: str
    internet_message_id: str | None
    subject: str | None = None


class MessageSummary(MessageRef):
    folder: str | None = None  # well-known name (inbox, junkemail...) or the folder's path
    from_: Recipient | None = Field(default=None, alias="from")
    sender: Recipient | None = None
    to: list[Recipient] = []
    cc: list[Recipient] = []
    received_at: str | None = None
    sent_at: str | None = None
    has_attachments: bool = False
    is_read: bool = False
    importance: Importance = "normal"
    size: int | None = None
    preview: str = ""
    attachment_names: list[str] | None = None  # filled only when a search filtered on them


class AttachmentInfo(Model):
    id: str
    name: str
    content_type: str
    size: int
    is_inline: bool = False
    kind: Literal["file", "item"] = "file"
    content_id: str | None = None


class FileDigest(Model):
    """A file the action wrote under ``output_dir``, with digests computed while streaming."""

    path: str
    file_name: str
    size: int
    sha256: str
    sha1: str
    md5: str
    content_base64: str | None = None


class SavedAttachment(AttachmentInfo):
    file: FileDigest | None = None
    skipped_reason: str | None = None


class Contact(Model):
    id: str
    display_name: str
    given_name: str = ""
    surname: str = ""
    email_addresses: list[str] = []
    phones: list[dict[str, str]] = []
    company: str = ""
    job_title: str = ""
    department: str = ""


class MailboxInfo(Model):
    address: str
    display_name: str
    id: str
    type: Literal["user", "shared", "room", "equipment", "unknown"] = "user"


class OutOfOffice(Model):
    mailbox: str
    status: Literal["disabled", "always_enabled", "scheduled"]
    active_now: bool
    start: str | None = None
    end: str | None = None
    internal_reply: str = ""
    external_reply: str = ""
    external_audience: Literal["none", "contacts_only", "all"] = "none"


class MailboxStatus(Model):
    mailbox: str
    status: MailboxStatusValue
    count: int = 0
    error: str | None = None
    retry_after_seconds: float | None = None
    # The backend's page cursor when more messages match than ``limit`` (search_many); the
    # search action folds it into its own cursor and does not output it.
    next_cursor: str | None = None

    @classmethod
    def failed(cls, mailbox: str, error: ExchangePackError) -> MailboxStatus:
        """The status of a mailbox whose search failed with ``error``."""
        return cls(
            mailbox=mailbox,
            status=status_of(error),
            error=error.message,
            retry_after_seconds=error.retry_after_seconds,
        )


def status_of(error: ExchangePackError) -> MailboxStatusValue:
    """The per-mailbox status an error stands for."""
    if isinstance(error, MailboxNotFoundError):
        return "not_found"
    if isinstance(error, AccessDeniedError):
        return "access_denied"
    if isinstance(error, ThrottledError):
        return "throttled"
    return "error"


class Page(Model, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class SearchCriteria(Model):
    """Search filters shared by both backends; each backend splits them between server query
    and local check, never silently dropping one."""

    query: str | None = None
    sender: str | None = None
    recipient: str | None = None
    subject: str | None = None
    body: str | None = None
    internet_message_id: str | None = None
    has_attachments: bool | None = None
    attachment_name: str | None = None
    is_read: bool | None = None
    received_after: dt.datetime | None = None
    received_before: dt.datetime | None = None
    folder: str | None = None  # None = all mail folders


class OutgoingMessage(Model):
    """What send_email and reply_to_email hand to a backend."""

    to: list[str] = []
    cc: list[str] = []
    bcc: list[str] = []
    subject: str = ""
    body: str = ""
    body_type: BodyType = "text"
    attachment_paths: list[str] = []
    importance: Importance = "normal"
    reply_to: list[str] = []
    save_to_sent_items: bool = True


class SentMessage(Model):
    mailbox: str
    internet_message_id: str
    id: str | None = None  # the Sent Items copy, when the backend can tell it
    subject: str | None = None


class SentReply(Model):
    """A reply as sent, and the message it answers (read on the way when it was unresolved)."""

    in_reply_to: MessageRef
    reply: SentMessage


class JunkResult(Model):
    mailbox: str
    id: str  # id after the move (the message's new id when it changed)
    internet_message_id: str | None
    is_junk: bool
    moved_to: str | None  # junkemail / inbox, or None when not moved
    sender_blocked: bool | None = None  # whether the sender is now on the blocked list
    subject: str | None = None  # when the backend read the message on the way
    sender: str | None = None  # the sender's address, when the backend read it
    original_id: str | None = None  # the id before the move, when the backend looked it up


class Removal(Model):
    """One message's outcome in a bulk removal (search_and_delete_emails)."""

    mailbox: str
    id: str
    status: Literal["deleted", "not_found", "failed"]
    error: str | None = None
    retryable: bool = False

    @classmethod
    def of(cls, mailbox: str, message_id: str, error: ExchangePackError | None) -> Removal:
        """deleted (no error), not_found (the message was gone), else failed with the reason."""
        if error is None:
            return cls(mailbox=mailbox, id=message_id, status="deleted")
        if isinstance(error, MessageNotFoundError):
            return cls(mailbox=mailbox, id=message_id, status="not_found")
        return cls(
            mailbox=mailbox,
            id=message_id,
            status="failed",
            error=error.message,
            retryable=error.retryable,
        )


class DeleteOutcome(Model):
    mailbox: str
    message: str  # the message reference as given
    id: str | None = None
    internet_message_id: str | None = None
    subject: str | None = None
    status: Literal["deleted", "would_delete", "not_found", "failed"]
    error: str | None = None


class FolderChanges(Model):
    """Messages created in a folder since a sync token (Graph delta with changeType=created,
    EWS SyncFolderItems Creates), oldest received first, and the token after them."""

    messages: list[MessageSummary]
    sync_token: str  # the backend's state after these changes (delta token / SyncState)
    complete: bool = True  # False: the page bound stopped before the end of the changes
