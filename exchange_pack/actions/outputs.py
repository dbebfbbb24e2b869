"""Each action's ``data``: pydantic models mirrored by ``schemas/<action_id>.output.json``.

Built only from ``exchange_pack.models`` objects, so Graph and EWS give identical data for the
same mailbox content (backend ids aside).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..models import (
    AttachmentInfo,
    Contact,
    DeleteOutcome,
    DeleteType,
    FileDigest,
    MailboxInfo,
    MailboxStatusValue,
    MessageRef,
    MessageSummary,
    Model,
    OutOfOffice,
    SavedAttachment,
    SentMessage,
)
from .eml import EmlHeaders


class ActionCheck(Model):
    """test_connection: whether the granted roles allow one action on this backend."""

    id: str
    allowed: bool
    required: list[str]
    missing: list[str]


class MailboxProbe(Model):
    mailbox: str | None
    status: Literal["ok", "not_found", "access_denied", "error", "skipped"]
    error: str | None = None


class ConnectionReport(Model):
    backend: Literal["graph", "ews"]
    auth_method: str
    token_expires_at: str | None = None
    roles: list[str] = []
    endpoint: str | None = None
    ews_status: Literal["reachable", "blocked", "unreachable"] | None = None
    usable: bool
    mailbox_probe: MailboxProbe
    actions: list[ActionCheck]


class MailboxOutcome(Model):
    """A searched mailbox's status and how many of its messages this run returned."""

    mailbox: str
    status: MailboxStatusValue
    count: int = 0
    error: str | None = None
    retry_after_seconds: float | None = None


class SearchResult(Model):
    messages: list[MessageSummary]
    mailboxes: list[MailboxOutcome]
    total: int
    truncated: bool
    next_cursor: str | None = None


class AttachmentsResult(Model):
    message: MessageRef
    output_dir: str
    attachments: list[SavedAttachment]


class EmlResult(Model):
    message: MessageRef
    file: FileDigest
    headers: EmlHeaders


class ContactsResult(Model):
    mailbox: str
    contacts: list[Contact]
    count: int
    next_cursor: str | None = None


class SearchableMailboxesResult(Model):
    mailboxes: list[MailboxInfo]
    count: int


class CopyResult(Model):
    source: MessageRef
    copy_: MessageRef = Field(alias="copy")  # ``copy`` is a pydantic method name
    destination_mailbox: str
    destination_folder: str


class AttachmentRemoval(AttachmentInfo):
    status: Literal["deleted", "would_delete", "failed"]
    error: str | None = None
    copy_: FileDigest | None = Field(default=None, alias="copy")


class DeleteAttachmentsResult(Model):
    message: MessageRef
    dry_run: bool
    copies_dir: str | None
    attachments: list[AttachmentRemoval]


class DeleteEmailResult(Model):
    delete_type: DeleteType
    dry_run: bool
    results: list[DeleteOutcome]


class JunkOutcome(Model):
    message: MessageRef  # the id is the message's id after any move
    original_id: str
    is_junk: bool
    moved_to: str | None
    sender: str | None
    sender_blocked: bool | None


class SendResult(Model):
    message: SentMessage
    to: list[str]
    cc: list[str]
    bcc: list[str]
    attachment_names: list[str]


class ReplyResult(Model):
    in_reply_to: MessageRef
    reply: SentMessage
    reply_all: bool
    attachment_names: list[str]


def output_models() -> dict[str, type[Model]]:
    """The model behind each action's ``data`` (schemas/<action_id>.output.json mirrors it).

    The later actions' models live with their logic and are imported here, not by every action
    process that needs only its own output model.
    """
    from ..campaign.models import SearchAndDeleteResult
    from ..enrich.models import EmailResult
    from .polling import PollResult

    return {
        "test_connection": ConnectionReport,
        "get_attachments": AttachmentsResult,
        "get_contacts": ContactsResult,
        "get_searchable_mailboxes": SearchableMailboxesResult,
        "get_out_of_office": OutOfOffice,
        "search_emails_extended": SearchResult,
        "copy_email": CopyResult,
        "delete_attachments": DeleteAttachmentsResult,
        "delete_email": DeleteEmailResult,
        "download_mail_as_eml": EmlResult,
        "junk_mail": JunkOutcome,
        "send_email": SendResult,
        "reply_to_email": ReplyResult,
        "poll_mailbox": PollResult,
        "get_email": EmailResult,
        "search_and_delete_emails": SearchAndDeleteResult,
    }
