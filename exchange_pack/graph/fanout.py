"""search_many on Graph: the same search in many mailboxes through ``$batch``.

Work is cut into ``$batch`` requests of 20 sub-requests, one per mailbox, and up to
``CONCURRENCY`` of them stay in flight on the shared session. When all folders are searched,
each mailbox with hits needs its folder listing (its folders name the hits): listings go out
beside the searches still running, never in a second round after them. Throttled
sub-requests are retried on their own by the transport; a mailbox that fails gets its status
while the others still answer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import Any

from ..backend import MailboxesDone
from ..errors import ExchangePackError
from ..models import MailboxStatus, MessageSummary, SearchCriteria
from .folders import FolderDirectory, well_known
from .search import Check, message_query, summaries
from .transport import BATCH_LIMIT, BatchRequest, BatchResponse, GraphClient

# Outlook's limit of 4 concurrent requests is per app AND mailbox, and a mailbox has at most two
# sub-requests in flight here (a search page and its folder listing), so the mailbox limit
# never caps the batches in flight. Each batch in flight holds one connection of the
# session's pool of 32 (exchange_pack/session.py HTTP_POOL_SIZE): 16 keeps every batch on a
# pooled keep-alive connection with room to spare, and 16 x 20 = 320 mailboxes at once covers
# the 1,000-mailbox fan-out in four waves.
CONCURRENCY = 16


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


class _Pipeline:
    """Keeps up to ``CONCURRENCY`` ``$batch`` requests in flight: full batches of search pages,
    then of folder listings for mailboxes done with hits; a slot that would sit idle lists the
    folders of mailboxes still being searched, so the listings ride in the searches' round."""

    def __init__(
        self,
        client: GraphClient,
        folders: FolderDirectory,
        name_folders: bool,
        progress: MailboxesDone | None,
    ):
        self.client = client
        self.folders = folders
        self.name_folders = name_folders
        self.progress = progress
        self.finished = 0  # mailboxes whose search is over
        self.searches: deque[MailboxSearch] = deque()
        self.listings: deque[str] = deque()  # done with hits, folders not listed yet
        self.unlisted: dict[str, None] = {}  # still searching, folders not listed yet
        self.listed: set[str] = set()
        self.searching = 0  # search batches in flight: their answers may queue more work

    def run(self, searches: Sequence[MailboxSearch]) -> None:
        """Sends every page and listing the searches need; returns when all are answered."""
        self.searches.extend(s for s in searches if s.link)
        self.finished = len(searches) - len(self.searches)  # failed before any request
        if self.name_folders:
            self.unlisted = dict.fromkeys(s.address for s in self.searches)
        in_flight: dict[Future[Any], Callable[[Any], None]] = {}
        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            while True:
                while len(in_flight) < CONCURRENCY and (job := self._next_job()) is not None:
                    work, done = job
                    in_flight[pool.submit(work)] = done
                if not in_flight:
                    return
                finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    in_flight.pop(future)(future.result())

    def _next_job(self) -> tuple[Callable[[], Any], Callable[[Any], None]] | None:
        # A part-filled batch goes out only when no search in flight could still fill it.
        last_call = self.searching == 0
        if len(self.searches) >= BATCH_LIMIT or (last_call and self.searches):
            return self._search_job()
        if len(self.listings) >= BATCH_LIMIT or (last_call and self.listings):
            return self._listing_job([self.listings.popleft() for _ in self._take(self.listings)])
        if self.unlisted:  # an idle slot: list ahead for mailboxes whose search is in flight
            return self._listing_job(list(islice(self.unlisted, BATCH_LIMIT)))
        return None

    @staticmethod
    def _take(queue: deque[Any]) -> range:
        return range(min(BATCH_LIMIT, len(queue)))

    def _search_job(self) -> tuple[Callable[[], Any], Callable[[Any], None]]:
        chunk = [self.searches.popleft() for _ in self._take(self.searches)]
        requests = [BatchRequest(id=str(i), url=s.link or "") for i, s in enumerate(chunk)]
        self.searching += 1
        return partial(self.client.batch_round, requests), partial(self._searched, requests, chunk)

    def _listing_job(self, mailboxes: list[str]) -> tuple[Callable[[], Any], Callable[[Any], None]]:
        self.listed.update(mailboxes)
        for mailbox in mailboxes:
            self.unlisted.pop(mailbox, None)
        return partial(self.folders.prefetch, mailboxes), lambda _: None

    def _searched(
        self,
        requests: list[BatchRequest],
        chunk: list[MailboxSearch],
        answers: dict[str, BatchResponse],
    ) -> None:
        self.searching -= 1
        for request, search in zip(requests, chunk, strict=True):
            answer = answers[request.id]
            if answer.ok and isinstance(answer.body, dict):
                search.take(self.client, answer.body)
            else:
                search.fail(answer.error(request))
            if search.link:
                self.searches.append(search)
                continue
            self.finished += 1
            self.unlisted.pop(search.address, None)
            if search.items and self.name_folders and search.address not in self.listed:
                self.listed.add(search.address)
                self.listings.append(search.address)
        if self.progress:
            self.progress(self.finished)


def search_many(
    client: GraphClient,
    folders: FolderDirectory,
    addresses: Sequence[str],
    criteria: SearchCriteria,
    limit: int,
    progress: MailboxesDone | None = None,
) -> list[tuple[MailboxStatus, list[MessageSummary]]]:
    """One search per mailbox (pages through ``$batch``) and, when all folders are searched,
    one folder listing per mailbox with hits to name the folders, in the same stream of
    batches."""
    searches = [_start(folders, address, criteria, limit) for address in addresses]
    _Pipeline(client, folders, criteria.folder is None, progress).run(searches)
    results = []
    for search in searches:
        found = summaries(
            search.items, search.address, criteria, partial(folders.name_of, search.address)
        )
        status = search.status or MailboxStatus(mailbox=search.address, status="ok")
        results.append((status.model_copy(update={"count": len(found)}), found))
    return results
