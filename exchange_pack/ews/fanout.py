"""search_many on EWS: one search per mailbox, a few at a time, each with its own status.

EWS has no cross-mailbox batch (each request impersonates one mailbox), so mailboxes are
searched concurrently by a small thread pool sharing the one Protocol (its connection pool is
sized to the pool). A failing mailbox gets its status; the others still answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

from ..backend import MailboxesDone
from ..errors import ExchangePackError
from ..models import MailboxStatus, MessageSummary, SearchCriteria
from .search import search
from .transport import MAX_CONNECTIONS, EwsTransport


def search_many(
    transport: EwsTransport,
    addresses: Sequence[str],
    criteria: SearchCriteria,
    limit: int,
    progress: MailboxesDone | None = None,
) -> list[tuple[MailboxStatus, list[MessageSummary]]]:
    """EWS FindItem + GetItem per mailbox with bounded concurrency, in the given order."""

    def one(address: str) -> tuple[MailboxStatus, list[MessageSummary]]:
        try:
            page = search(transport, transport.account(address), criteria, limit)
        except ExchangePackError as exc:
            return MailboxStatus.failed(address, exc), []
        return (
            MailboxStatus(
                mailbox=address, status="ok", count=len(page.items), next_cursor=page.next_cursor
            ),
            page.items,
        )

    if not addresses:
        return []
    transport.version  # noqa: B018 - probe once before the threads start
    with ThreadPoolExecutor(max_workers=min(MAX_CONNECTIONS, len(addresses))) as pool:
        futures = [pool.submit(one, address) for address in addresses]
        for done, _ in enumerate(as_completed(futures), start=1):
            if progress:
                progress(done)
        return [future.result() for future in futures]
