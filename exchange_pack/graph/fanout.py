"""search_many on Graph: the same search in many mailboxes through ``$batch``.

Each round sends one sub-request per mailbox still needing a page, 20 per ``$batch``, at most
``CONCURRENCY`` batches in flight on the shared session (Outlook allows 4 concurrent requests
per app and mailbox). Throttled sub-requests are retried on their own by the transport; a
mailbox that fails gets its status while the others still answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..errors import ExchangePackError
from ..models import MailboxStatus, MessageSummary, SearchCriteria
from .folders import FolderDirectory, well_known
from .search import Check, message_query, summaries
from .transport import BatchRequest, GraphClient

CONCURRENCY = 4


@dataclass
class MailboxSearch:
    """The progress of one mailbox's search across rounds."""

    address: str
    link: str | None  # root-relative URL of the next page to fetch
    check: Check | None
    limit: int
    items: list[dict[str, Any]] = field(default_factory=list)
    status: MailboxStatus | None = None

    def take(self, client: GraphClient, page: dict[str, Any]) -> None:
        """Keeps the page's matching messages; the next link only while the limit allows."""
        for item in page.get("value") or []:
            if len(self.items) < self.limit and (self.check is None or self.check(item)):
                self.items.append(item)
        next_link = page.get("@odata.nextLink")
        more = next_link and len(self.items) < self.limit
        self.link = client.relative(next_link) if more else None

    def fail(self, error: ExchangePackError) -> None:
        """Records the mailbox's failure as its status and stops its search."""
        self.link = None
        self.status = MailboxStatus.failed(self.address, error)


def _start(
    folders: FolderDirectory, address: str, criteria: SearchCriteria, limit: int
) -> MailboxSearch:
    folder = criteria.folder
    try:
        target = None
        if folder is not None:
            target = well_known(folder) or folders.resolve(address, folder)
        link, check = message_query(criteria, address, target, limit)
        return MailboxSearch(address, link, check, limit)
    except ExchangePackError as error:
        search = MailboxSearch(address, None, None, limit)
        search.fail(error)
        return search


def _round(client: GraphClient, searches: list[MailboxSearch]) -> None:
    pending = [s for s in searches if s.link]
    requests = [BatchRequest(id=str(i), url=s.link or "") for i, s in enumerate(pending)]
    answers = client.batch(requests, concurrency=CONCURRENCY)
    for request, search in zip(requests, pending, strict=True):
        answer = answers[request.id]
        if answer.ok and isinstance(answer.body, dict):
            search.take(client, answer.body)
        else:
            search.fail(answer.error(request))


def search_many(
    client: GraphClient,
    folders: FolderDirectory,
    addresses: Sequence[str],
    criteria: SearchCriteria,
    limit: int,
) -> list[tuple[MailboxStatus, list[MessageSummary]]]:
    """One search per mailbox (rounds of ``$batch``), then one ``$batch`` of folder listings
    per 20 mailboxes with results to name the folders."""
    searches = [_start(folders, address, criteria, limit) for address in addresses]
    while any(search.link for search in searches):
        _round(client, searches)
    if criteria.folder is None:
        folders.prefetch([s.address for s in searches if s.items], concurrency=CONCURRENCY)
    results = []
    for search in searches:
        found = summaries(
            search.items, search.address, criteria, partial(folders.name_of, search.address)
        )
        status = search.status or MailboxStatus(mailbox=search.address, status="ok")
        results.append((status.model_copy(update={"count": len(found)}), found))
    return results
