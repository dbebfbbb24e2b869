"""poll_mailbox: the new messages of one folder since a checkpoint, each delivered once.

A run asks the backend for the messages created in the folder since the checkpoint's sync
token (``MailboxBackend.folder_changes``), drops those delivered before (keys in the
checkpoint), orders the rest by received time and delivers at most ``limit``. When it
delivered them all, the next checkpoint carries the backend's new token; when ``limit`` cut
the list, the old token stays and the delivered keys join it, so the next run fetches the same
changes and delivers the following ones (never skipping, never doubling). An expired token
restarts the folder's initial round from the newest delivered received time, less LOOKBACK,
skipping what the checkpoint says was delivered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ..backend import MailboxBackend
from ..enrich import Enrichment, enrich_message
from ..errors import ExchangePackError, InputError, SyncStateExpiredError
from ..models import FolderChanges, MessageSummary, Model, iso_utc
from . import Warn
from .checkpoint import LOOKBACK, Checkpoint, Journal, decode, encode, message_key, parse_time


class PolledMessage(MessageSummary):
    """A delivered message: the fields of a search result, its dedup key, and what the run did."""

    key: str
    redelivered: bool = False  # delivered before from the same checkpoint (a lost run)
    marked_read: bool = False
    moved_to: str | None = None
    enrichment: Enrichment | None = None


class PollResult(Model):
    mailbox: str
    folder: str
    messages: list[PolledMessage]
    count: int
    checkpoint: str
    more: bool  # more new messages wait: poll again now
    resynced: bool  # the sync token had expired; the folder was read again from the watermark
    redelivered: int


def _order(message: MessageSummary) -> tuple[str, str, str]:
    return (message.received_at or "", message.internet_message_id or "", message.subject or "")


def start(params: Mapping[str, Any], backend: str, mailbox: str, folder: str) -> Checkpoint:
    """The checkpoint of a first run: from ``since`` (default now), nothing delivered."""
    since = params.get("since")
    try:
        when = parse_time(since) if since else dt.datetime.now(dt.timezone.utc)
    except ValueError:
        raise InputError(f"since: {since!r} is not an ISO 8601 date-time.") from None
    stamp = iso_utc(when)
    assert stamp is not None
    return Checkpoint(backend=backend, mailbox=mailbox, folder=folder, floor=stamp, watermark=stamp)


def _restart(checkpoint: Checkpoint, backend: str) -> Checkpoint:
    """The initial round again, from the watermark less LOOKBACK (never before the floor)."""
    floor = max(parse_time(checkpoint.floor), parse_time(checkpoint.watermark) - LOOKBACK)
    return checkpoint.model_copy(update={"sync": None, "floor": iso_utc(floor), "backend": backend})


def resume(text: str, backend: str, mailbox: str, folder: str, warn: Warn) -> Checkpoint:
    """A given checkpoint, checked to be this mailbox's and folder's."""
    checkpoint = decode(text)
    if checkpoint.mailbox != mailbox or checkpoint.folder.casefold() != folder.casefold():
        raise InputError(
            f"checkpoint: written for {checkpoint.mailbox} {checkpoint.folder}, "
            f"not {mailbox} {folder}.",
            hint="Keep one checkpoint per mailbox and folder.",
        )
    if checkpoint.backend != backend:
        warn(
            f"The checkpoint was written on {checkpoint.backend}; the folder is read again on "
            f"{backend} from {checkpoint.watermark} less {int(LOOKBACK.total_seconds() / 60)} "
            "minutes, skipping what was delivered."
        )
        return _restart(checkpoint, backend)
    return checkpoint


def _changes(
    mailbox: MailboxBackend, checkpoint: Checkpoint, backend: str, warn: Warn
) -> tuple[Checkpoint, FolderChanges, bool]:
    try:
        return checkpoint, mailbox.folder_changes(checkpoint.folder, checkpoint.sync), False
    except SyncStateExpiredError as error:
        restarted = _restart(checkpoint, backend)
        warn(
            f"The sync state had expired ({error.backend_code}); the folder was read again from "
            f"{restarted.floor}, skipping what was delivered."
        )
        return restarted, mailbox.folder_changes(checkpoint.folder, None), True


def poll(
    mailbox: MailboxBackend,
    backend: str,
    params: Mapping[str, Any],
    *,
    journal: Journal | None,
    warn: Warn,
) -> PollResult:
    """One poll run: deliver, then mark read / move, and the next checkpoint."""
    address, folder, limit = mailbox.address.lower(), params["folder"], params["limit"]
    given: str | None = params.get("checkpoint") or None
    if given:
        checkpoint = resume(given, backend, address, folder, warn)
    else:
        checkpoint = start(params, backend, address, folder)
    checkpoint, changes, resynced = _changes(mailbox, checkpoint, backend, warn)
    floor = parse_time(checkpoint.floor)
    skip = set(checkpoint.held) | {key for _, key in checkpoint.recent}
    fresh: list[tuple[MessageSummary, str]] = []
    for message in sorted(changes.messages, key=_order):
        received = parse_time(message.received_at) if message.received_at else None
        if checkpoint.sync is None and (received is None or received < floor):
            continue  # an initial round: only what arrived since the floor
        key = message_key(message)
        if key not in skip:
            skip.add(key)
            fresh.append((message, key))
    batch = fresh[:limit]
    more = len(fresh) > limit or not changes.complete
    if not changes.complete:
        warn("The folder has more changes than one run reads; poll again to continue.")
    keys = [key for _, key in batch]
    following = _next(checkpoint, changes, batch, more)
    before = journal.delivered(given) if journal and given else set()
    delivered = [_deliver(mailbox, m, k, k in before, params, warn) for m, k in batch]
    if journal and given and keys:
        journal.record(given, keys)
    return PollResult(
        mailbox=address,
        folder=folder,
        messages=delivered,
        count=len(delivered),
        checkpoint=encode(following),
        more=more,
        resynced=resynced,
        redelivered=sum(1 for m in delivered if m.redelivered),
    )


def _next(
    checkpoint: Checkpoint,
    changes: FolderChanges,
    batch: list[tuple[MessageSummary, str]],
    more: bool,
) -> Checkpoint:
    """The checkpoint after delivering ``batch``: token held back while more wait."""
    watermark = parse_time(checkpoint.watermark)
    for message, _ in batch:
        if message.received_at:
            watermark = max(watermark, parse_time(message.received_at))
    horizon = watermark - LOOKBACK
    recent = [
        (received, key)
        for received, key in [*checkpoint.recent, *((m.received_at or "", k) for m, k in batch)]
        if received and parse_time(received) >= horizon
    ]
    keys = [key for _, key in batch]
    return checkpoint.model_copy(
        update={
            "sync": checkpoint.sync if more else changes.sync_token,
            "held": [*checkpoint.held, *keys] if more else [],
            "watermark": iso_utc(watermark),
            "recent": recent,
        }
    )


def _deliver(
    mailbox: MailboxBackend,
    message: MessageSummary,
    key: str,
    redelivered: bool,
    params: Mapping[str, Any],
    warn: Warn,
) -> PolledMessage:
    """Enrich (when asked), then mark read and move; a failure there is a warning."""
    # Graph's delta cannot expand the size property; both backends leave it out alike.
    polled = PolledMessage(
        **{**message.model_dump(), "size": None}, key=key, redelivered=redelivered
    )
    label = message.subject or message.internet_message_id or message.id
    if params.get("enrich"):
        try:
            found = enrich_message(
                mailbox, message.id, max_size_bytes=params["max_size_bytes"], warn=warn
            )
            polled.enrichment = found.enrichment
        except ExchangePackError as error:
            warn(f"{label}: delivered without enrichment: {error.message}")
    try:
        if params.get("mark_as_read") and not message.is_read:
            mailbox.mark_read(message)
            polled.marked_read = polled.is_read = True
        if params.get("move_to"):
            moved = mailbox.move(message, params["move_to"])
            polled.id, polled.moved_to = moved.id, params["move_to"]
    except ExchangePackError as error:
        warn(f"{label}: delivered, but {error.message}")
    return polled
