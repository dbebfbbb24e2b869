"""search_many on EWS: one search per mailbox, a few at a time, each with its own status.

EWS has no cross-mailbox batch (each request impersonates one mailbox), so mailboxes are
searched concurrently by a small thread pool sharing the one Protocol (its connection pool is
sized to the pool). A failing mailbox gets its status; the others still answer. Across the
whole directory, no further mailbox is started once the first ones in order hold enough
messages for the answer; the cursor resumes from the first one left.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from ..backend import MailboxesDone, TenantSearch
from ..errors import ExchangePackError
from ..models import MailboxStatus, MessageSummary, SearchCriteria
from .search import search
from .transport import MAX_CONNECTIONS, EwsTransport


def _search_one(
    transport: EwsTransport, address: str, criteria: SearchCriteria, limit: int
) -> tuple[MailboxStatus, list[MessageSummary]]:
    """One mailbox's search and its status (a failure is the mailbox's, not the run's)."""
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


def search_many(
    transport: EwsTransport,
    addresses: Sequence[str],
    criteria: SearchCriteria,
    limit: int,
    progress: MailboxesDone | None = None,
) -> list[tuple[MailboxStatus, list[MessageSummary]]]:
    """EWS FindItem + GetItem per mailbox with bounded concurrency, in the given order."""
    return search_until(transport, addresses, criteria, limit, progress).results


def search_until(
    transport: EwsTransport,
    addresses: Sequence[str],
    criteria: SearchCriteria,
    limit: int,
    progress: MailboxesDone | None = None,
    enough: int | None = None,
) -> TenantSearch:
    """``search_many`` that starts no further mailbox once the mailboxes done first, in
    order, hold ``enough`` messages (``rest_from``: the first one left), as Graph's does."""
    if not addresses:
        return TenantSearch([])
    transport.version  # noqa: B018 - probe once before the threads start
    results: dict[int, tuple[MailboxStatus, list[MessageSummary]]] = {}
    running: dict[Future[tuple[MailboxStatus, list[MessageSummary]]], int] = {}
    started = prefix = held = 0
    workers = min(MAX_CONNECTIONS, len(addresses))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while True:
            while (
                len(running) < workers
                and started < len(addresses)
                and (enough is None or held < enough)
            ):
                future = pool.submit(_search_one, transport, addresses[started], criteria, limit)
                running[future] = started
                started += 1
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                results[running.pop(future)] = future.result()
            while prefix in results:
                held += len(results[prefix][1])
                prefix += 1
            if progress:
                progress(len(results))
    rest_from = addresses[started] if started < len(addresses) else None
    return TenantSearch([results[i] for i in range(started)], rest_from)
