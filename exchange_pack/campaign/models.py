"""The ``data`` of search_and_delete_emails (mirrored by its output schema)."""

from __future__ import annotations

from typing import Literal

from ..models import DeleteType, MailboxStatusValue, MessageSummary, Model
from .audit import AuditFile

Mode = Literal["estimate", "delete"]
EngineName = Literal["fanout", "ediscovery"]


class MailboxCount(Model):
    """One mailbox: how many messages match and, on delete, what happened to them."""

    mailbox: str
    status: MailboxStatusValue
    matched: int = 0
    more: bool = False  # more match than this run's per-mailbox limit
    deleted: int = 0
    failed: int = 0
    not_found: int = 0  # matched, then gone before the removal reached it
    already_deleted: int = 0  # removed by an earlier run of this approval
    in_deleted_items: int = 0  # move_to_deleted_items: copies already there, left alone
    error: str | None = None


class Totals(Model):
    mailboxes_searched: int
    mailboxes_with_matches: int
    failed_mailboxes: int
    matched: int
    deleted: int = 0
    failed: int = 0
    not_found: int = 0
    already_deleted: int = 0
    in_deleted_items: int = 0


class PurgeRound(Model):
    """eDiscovery: one purgeData operation and the estimate after it."""

    round: int
    operation_id: str
    status: str
    removed: int
    remaining: int


class EDiscoveryReport(Model):
    """eDiscovery: the case and search the work ran in, and the purge rounds."""

    case_id: str
    search_id: str
    estimate_operation_id: str | None = None
    indexed_items: int = 0
    unindexed_items: int = 0
    mailboxes_with_hits: int = 0
    purge_rounds: list[PurgeRound] = []
    purge_limit_note: str = (
        "purgeData removes at most 100 items per mailbox per call; the pack repeats it until "
        "the search's estimate is zero."
    )


class SearchAndDeleteResult(Model):
    mode: Mode
    engine: EngineName
    delete_type: DeleteType | None
    all_mailboxes: bool
    totals: Totals
    mailboxes: list[MailboxCount]  # mailboxes with matches, removals or a failure
    sample: list[MessageSummary]
    approval_token: str | None = None
    approval_expires_at: str | None = None
    estimated_at_approval: int | None = None
    audit_file: AuditFile | None = None
    truncated: bool = False
    next_cursor: str | None = None
    ediscovery: EDiscoveryReport | None = None
    notes: list[str] = []
