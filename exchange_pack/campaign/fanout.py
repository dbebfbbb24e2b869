"""The ``fanout`` engine: the pack's own search in every mailbox (``Backend.search_many``:
Graph ``$batch``, EWS concurrency), then the removals batched (``Backend.delete_many``:
Graph ``$batch`` of 20, EWS DeleteItem with many ItemIds).

A delete run searches again, so messages that arrived since the estimate and match are
removed too; with ``move_to_deleted_items`` the copies already in Deleted Items are left alone
(deleting them again would purge them), which makes a rerun delete nothing twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..actions import Progress
from ..actions.cursor import Position
from ..actions.search import Harvest, page_through
from ..backend import Backend
from ..errors import ExchangePackError
from ..models import DeleteType, MailboxStatus, MessageSummary, SearchCriteria
from .audit import AuditRecord, now_text
from .models import MailboxCount

DELETED_ITEMS = "deleteditems"


@dataclass
class Found:
    """One mailbox's matches (at most ``limit``) and whether more match."""

    status: MailboxStatus
    messages: list[MessageSummary]
    more: bool
    error: ExchangePackError | None = None  # the failure itself, when the backend kept it


@dataclass
class Deletion:
    """What a delete run did: counts per mailbox, audit records, mailboxes to run again."""

    counts: list[MailboxCount]
    records: list[AuditRecord] = field(default_factory=list)
    resume: list[str] = field(default_factory=list)


def find(
    backend: Backend,
    addresses: Sequence[str],
    criteria: SearchCriteria,
    limit: int,
    progress: Progress,
) -> list[Found]:
    """The search in every mailbox; one more than ``limit`` is asked for to tell ``more``."""
    total = len(addresses)
    if total == 1:  # one mailbox: its own search, as search_emails_extended does
        harvest = page_through_one(backend, addresses[0], criteria, limit + 1)
        messages = [located.message for located in harvest.found]
        more = len(messages) > limit or harvest.resume is not None
        return [Found(harvest.status, messages[:limit], more, harvest.error)]
    answers = backend.search_many(
        addresses,
        criteria,
        limit + 1,
        progress=lambda done: progress(done, total, f"searched {done} of {total} mailboxes"),
    )
    found = []
    for status, messages in answers:
        more = len(messages) > limit or (status.status == "ok" and bool(status.next_cursor))
        found.append(Found(status, messages[:limit], more))
    return found


def page_through_one(
    backend: Backend, address: str, criteria: SearchCriteria, limit: int
) -> Harvest:
    """One mailbox's first ``limit`` matches, its failure as its status."""
    try:
        mailbox = backend.mailbox(address)
    except ExchangePackError as error:
        return Harvest(address, MailboxStatus.failed(address, error), error=error)
    return page_through(mailbox, criteria, limit, Position(mailbox=address))


def count_of(found: Found) -> MailboxCount:
    """The mailbox's line in the output before any removal."""
    status = found.status
    return MailboxCount(
        mailbox=status.mailbox,
        status=status.status,
        matched=len(found.messages),
        more=found.more,
        error=status.error,
    )


def record(
    message: MessageSummary,
    outcome: str,
    *,
    run: str,
    delete_type: DeleteType,
    error: str | None = None,
) -> AuditRecord:
    """The audit line for one message."""
    sender = message.from_ or message.sender
    return AuditRecord(
        at=now_text(),
        run=run,
        engine="fanout",
        delete_type=delete_type,
        mailbox=message.mailbox,
        message_id=message.id,
        internet_message_id=message.internet_message_id,
        subject=message.subject,
        sender=sender.address if sender else None,
        received=message.received_at,
        outcome=outcome,
        error=error,
    )


def delete(
    backend: Backend,
    found: Sequence[Found],
    delete_type: DeleteType,
    *,
    run: str,
    previously: Counter[str],
    progress: Progress,
) -> Deletion:
    """Removes every match found (batched), counting outcomes per mailbox."""
    counts = {f.status.mailbox.lower(): count_of(f) for f in found}
    result = Deletion(counts=list(counts.values()))
    targets: list[MessageSummary] = []
    for mailbox_found in found:
        count = counts[mailbox_found.status.mailbox.lower()]
        count.already_deleted = previously.get(count.mailbox.lower(), 0)
        for message in mailbox_found.messages:
            if delete_type == "move_to_deleted_items" and message.folder == DELETED_ITEMS:
                count.in_deleted_items += 1
                result.records.append(
                    record(message, "in_deleted_items", run=run, delete_type=delete_type)
                )
            else:
                targets.append(message)
    progress(0, len(targets), f"removing {len(targets)} messages")
    removals = backend.delete_many(targets, delete_type) if targets else []
    for message, removal in zip(targets, removals, strict=True):
        count = counts[message.mailbox.lower()]
        if removal.status == "deleted":
            count.deleted += 1
        elif removal.status == "not_found":
            count.not_found += 1
        else:
            count.failed += 1
            count.error = count.error or removal.error
        result.records.append(
            record(message, removal.status, run=run, delete_type=delete_type, error=removal.error)
        )
    progress(len(targets), len(targets), f"removed {len(targets)} messages")
    result.resume = [c.mailbox for c in result.counts if c.status != "ok" or c.failed or c.more]
    return result
