"""search_many on Graph: the same search in many mailboxes through ``$batch``.

Work is cut into ``$batch`` requests of 20 sub-requests, one per mailbox, kept in flight on the
shared session. When all folders are searched, each mailbox with hits needs its folder listing
(its folders name the hits): listings go out beside the searches still running, never in a
second round after them. ``search_directory`` reads the directory (``GET /users``) inside the
same stream: the first page's mailboxes are searched while the next page is read, and a user
without a mailbox is known from its search's 404, so no per-user ``mailboxSettings`` read.

How many batches are in flight adapts: it starts at ``CONCURRENCY``, grows by one per batch
answered without throttling up to ``MAX_CONCURRENCY``, and halves when Graph throttles. A
throttled sub-request (429/503 with ``Retry-After``) waits in a queue until it is due, bounded
per request by ``max_retries`` and ``max_retry_wait_seconds``: no thread sleeps holding a slot
while others could use it. A mailbox that fails gets its status while the others still answer.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import Any, Literal

from ..backend import MailboxesDone, TenantSearch
from ..errors import ExchangePackError, ThrottledError, TransientError, directory_changed
from ..models import MailboxStatus, MessageSummary, SearchCriteria
from .errors import retry_after_seconds
from .folders import FolderDirectory, listing_path, well_known
from .search import Check, FirstPage, Found, named, summary
from .shape import mailbox_info
from .transport import (
    BATCH_LIMIT,
    REPEATABLE_METHODS,
    RETRY_STATUSES,
    BatchRequest,
    BatchResponse,
    GraphClient,
    RetryBudget,
    with_query,
)

# Outlook's limit of 4 concurrent requests is per app AND mailbox, and a mailbox has at most two
# sub-requests in flight here (a search page and its folder listing), so the mailbox limit
# never caps the batches in flight; nor does Graph's global 130,000 requests per 10 seconds
# per app at these rates. Each batch in flight holds one connection of the session's pool of
# 32 (exchange_pack/session.py HTTP_POOL_SIZE): the window starts at 16 and stays below 32,
# leaving connections for the token endpoint.
CONCURRENCY = 16
MAX_CONCURRENCY = 28
MIN_CONCURRENCY = 2
DIRECTORY_FIELDS = "id,displayName,mail,userPrincipalName"
DIRECTORY_PAGE = 999  # Graph's largest page of users

Kind = Literal["search", "listing"]
Job = tuple[Callable[[], Any], Callable[[Any], None]]


@dataclass
class MailboxSearch:
    """The progress of one mailbox's search across rounds."""

    address: str
    link: str | None  # root-relative URL of the next page to fetch
    check: Check | None
    limit: int
    criteria: SearchCriteria
    # Summarised as the pages arrive, while the batches still in flight keep the main thread
    # idle; the folders are named once every listing is in.
    items: list[Found] = field(default_factory=list)
    status: MailboxStatus | None = None
    answered: bool = False  # a page came back (a 404 before that: no mailbox)
    started: bool = False  # its first page went out in a batch

    def take(self, client: GraphClient, page: dict[str, Any]) -> None:
        """Keeps the page's matching messages; the next link only while the limit allows."""
        self.answered = True
        for item in page.get("value") or []:
            if len(self.items) < self.limit and (self.check is None or self.check(item)):
                found = summary(item, self.address, self.criteria)
                self.items.append((found, item.get("parentFolderId")))
        next_link = page.get("@odata.nextLink")
        more = next_link and len(self.items) < self.limit
        self.link = client.relative(next_link) if more else None

    def fail(self, error: ExchangePackError) -> None:
        """Records the mailbox's failure as its status and stops its search."""
        self.link = None
        self.status = MailboxStatus.failed(self.address, error)


@dataclass
class _Sub:
    """One sub-request waiting for a batch: a search page or a folder listing, with what is
    left of its retry budget."""

    kind: Kind
    mailbox: str
    url: str
    budget: RetryBudget
    search: MailboxSearch | None = None


class _Directory:
    """``GET /users`` page by page, feeding the pipeline; one page in flight at a time."""

    def __init__(self, client: GraphClient, start_at: str | None = None) -> None:
        query = {"$select": DIRECTORY_FIELDS, "$top": DIRECTORY_PAGE}
        self.link: str | None = with_query("/users", query)
        self.start_at = start_at.lower() if start_at else None  # users before it are skipped
        self.busy = False
        self.due = 0.0
        self.budget = RetryBudget(client.config.max_retries, client.config.max_retry_wait_seconds)
        self.seen: set[str] = set()

    @property
    def pending(self) -> bool:
        return self.link is not None


class _Pipeline:
    """Keeps an adaptive number of ``$batch`` requests in flight: full batches of search pages
    (a part-filled one topped up with folder listings), then batches of listings for mailboxes
    done with hits; a slot that would sit idle lists the folders of mailboxes still being
    searched, so the listings ride in the searches' round. Throttled sub-requests wait, due at
    a time, outside any slot."""

    def __init__(
        self,
        client: GraphClient,
        folders: FolderDirectory,
        criteria: SearchCriteria,
        limit: int,
        progress: MailboxesDone | None,
        directory: _Directory | None = None,
        enough: int | None = None,
    ):
        self.client = client
        self.folders = folders
        self.criteria = criteria
        self.limit = limit
        self.first_page = FirstPage.of(criteria, limit)
        self.name_folders = criteria.folder is None
        self.progress = progress
        self.directory = directory
        self.searches: list[MailboxSearch] = []  # every mailbox, in order
        self.finished = 0  # mailboxes whose search is over
        self.ready: dict[Kind, deque[_Sub]] = {"search": deque(), "listing": deque()}
        self.delayed: list[tuple[float, int, _Sub]] = []  # (due, tie-breaker, sub) heap
        self._order = itertools.count()
        self.unlisted: dict[str, None] = {}  # still searching, folders not listed yet
        self.listed: set[str] = set()
        self.searching = 0  # batches with searches in flight: their answers may queue more
        self.ceiling = MAX_CONCURRENCY if CONCURRENCY > 1 else 1
        self.window = float(min(CONCURRENCY, self.ceiling))
        self.peak_window = self.window
        self.stats = client.session.stats
        # Early stop: once the mailboxes done first, in order, hold ``enough`` messages, no
        # further mailbox is started; ``rest`` is the index of the first one left for a rerun.
        self.enough = enough
        self.done_prefix = 0
        self.done_items = 0
        self.rest: int | None = None

    # -- feeding ---------------------------------------------------------------------------
    def start(self, address: str) -> MailboxSearch:
        """A mailbox's search before its first page: the folder searched resolved, if any."""
        folder = self.criteria.folder
        try:
            target = None
            if folder is not None:
                target = well_known(folder) or self.folders.resolve(address, folder)
            link, check = self.first_page.request(address, target)
            return MailboxSearch(address, link, check, self.limit, self.criteria)
        except ExchangePackError as error:
            search = MailboxSearch(address, None, None, self.limit, self.criteria)
            search.fail(error)
            return search

    def add(self, searches: Sequence[MailboxSearch]) -> None:
        """Queues the first page of each new mailbox's search (none once enough are found)."""
        if self.enough_found:
            if searches and self.rest is None:
                self.rest = len(self.searches)
            self.searches.extend(searches)
            return
        self.searches.extend(searches)
        for search in searches:
            if not search.link:
                self.finished += 1  # failed before any request
                continue
            self.ready["search"].append(self._sub("search", search.address, search.link, search))
            if self.name_folders:
                self.unlisted[search.address] = None

    @property
    def enough_found(self) -> bool:
        return self.enough is not None and self.done_items >= self.enough

    def _note_done(self) -> None:
        """Advances over the mailboxes done in order; at ``enough`` messages, leaves every
        mailbox not started yet (a suffix of the order: first pages go out first in, first out)
        to the rerun that ``rest`` names."""
        if self.enough is None or self.rest is not None:
            return
        while self.done_prefix < len(self.searches) and not self.searches[self.done_prefix].link:
            self.done_items += len(self.searches[self.done_prefix].items)
            self.done_prefix += 1
        if not self.enough_found:
            return
        waiting = [i for i, s in enumerate(self.searches) if s.link and not s.started]
        if not waiting:
            return  # every mailbox fed so far is started: the next directory page sets rest
        self.rest = waiting[0]
        left = {id(s) for s in self.searches[self.rest :] if not s.started}
        self.ready["search"] = deque(
            sub for sub in self.ready["search"] if id(sub.search) not in left
        )
        for search in self.searches[self.rest :]:
            self.unlisted.pop(search.address, None)

    def _directory_open(self) -> bool:
        """More directory pages to read (none once the rerun's starting mailbox is known)."""
        directory = self.directory
        return directory is not None and directory.pending and self.rest is None

    def _sub(self, kind: Kind, mailbox: str, url: str, search: MailboxSearch | None) -> _Sub:
        config = self.client.config
        budget = RetryBudget(config.max_retries, config.max_retry_wait_seconds)
        return _Sub(kind, mailbox, url, budget, search)

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> None:
        """Sends every page and listing the searches need; returns when all are answered."""
        in_flight: dict[Future[Any], Callable[[Any], None]] = {}
        with ThreadPoolExecutor(max_workers=self.ceiling) as pool:
            while True:
                self._release_due(time.monotonic())
                while len(in_flight) < int(self.window) and (job := self._next_job()):
                    work, done = job
                    in_flight[pool.submit(work)] = done
                due = self._next_due()
                if in_flight:
                    timeout = None if due is None else max(0.0, due - time.monotonic())
                    finished, _ = wait(in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
                    for future in finished:
                        in_flight.pop(future)(future.result())
                    continue
                if due is None:
                    return
                # Nothing in flight: only throttled work is left, so wait for it here.
                self.client.sleep(max(0.0, due - time.monotonic()))
                self._release_due(due)

    def _next_due(self) -> float | None:
        """When the earliest throttled sub-request (or directory page) may go again."""
        dues = [self.delayed[0][0]] if self.delayed else []
        directory = self.directory if self._directory_open() else None
        if directory is not None and not directory.busy:
            dues.append(directory.due)
        return min(dues) if dues else None

    def _release_due(self, until: float) -> None:
        while self.delayed and self.delayed[0][0] <= until:
            _, _, sub = heapq.heappop(self.delayed)
            self.ready[sub.kind].append(sub)
        if self.directory is not None and self.directory.due <= until:
            self.directory.due = 0.0

    def _next_job(self) -> Job | None:
        directory = self.directory if self._directory_open() else None
        if directory is not None and not directory.busy and not directory.due:
            return self._directory_job(directory)
        searches, listings = self.ready["search"], self.ready["listing"]
        # A part-filled batch goes out only when nothing in flight could still fill it.
        last_call = self.searching == 0 and not self._directory_open()
        if len(searches) >= BATCH_LIMIT or (last_call and searches):
            chunk = _take(searches)
            return self._batch_job(chunk + _take(listings, BATCH_LIMIT - len(chunk)))
        if len(listings) >= BATCH_LIMIT or (last_call and listings):
            return self._batch_job(_take(listings))
        if self.unlisted:  # an idle slot: list ahead for mailboxes whose search is in flight
            ahead = list(islice(self.unlisted, BATCH_LIMIT))
            return self._batch_job([self._listing(mailbox) for mailbox in ahead])
        return None

    def _listing(self, mailbox: str) -> _Sub:
        self.listed.add(mailbox)
        self.unlisted.pop(mailbox, None)
        return self._sub("listing", mailbox, listing_path(mailbox), None)

    # -- batches ---------------------------------------------------------------------------
    def _batch_job(self, subs: list[_Sub]) -> Job:
        requests = [BatchRequest(id=str(i), url=sub.url) for i, sub in enumerate(subs)]
        searches = any(sub.kind == "search" for sub in subs)
        for sub in subs:
            if sub.search is not None:
                sub.search.started = True
        self.searching += searches
        return partial(self._send, requests), partial(self._answered, requests, subs, searches)

    def _send(self, requests: list[BatchRequest]) -> dict[str, BatchResponse] | ExchangePackError:
        """One ``POST $batch``; a throttled or failed round trip comes back as its error."""
        body = {"requests": [request.payload() for request in requests]}
        try:
            answer = self.client.post_json(
                "/$batch", body, repeatable=True, wait_when_throttled=False
            )
        except (ThrottledError, TransientError) as error:
            return error
        answers: dict[str, BatchResponse] = {}
        for item in answer.get("responses") or []:
            response = BatchResponse.model_validate({**item, "headers": item.get("headers") or {}})
            answers[response.id] = response
        return answers

    def _answered(
        self,
        requests: list[BatchRequest],
        subs: list[_Sub],
        searches: bool,
        answers: dict[str, BatchResponse] | ExchangePackError,
    ) -> None:
        self.searching -= searches
        throttled = False
        for request, sub in zip(requests, subs, strict=True):
            if isinstance(answers, ExchangePackError):  # the whole round trip was refused
                wait_for = answers.retry_after_seconds
                if self._retry_later(sub, wait_for):
                    throttled = True
                    continue
                self._settle(sub, request, None, answers)
                continue
            answer = answers.get(request.id) or BatchResponse(id=request.id, status=500)
            if answer.status in RETRY_STATUSES and request.method in REPEATABLE_METHODS:
                throttled = True
                if self._retry_later(sub, retry_after_seconds(answer.headers)):
                    continue
            self._settle(sub, request, answer, None)
        self._adapt(throttled)
        self._note_done()
        if searches and self.progress:
            self.progress(self.finished)

    def _retry_later(self, sub: _Sub, retry_after: float | None) -> bool:
        """Queues the sub-request again when its budget allows the wait Graph asked for."""
        wait_for = sub.budget.next_wait(retry_after)
        if wait_for is None:
            return False
        self.stats.note_retry()
        self.stats.note_throttle(wait_for)
        due = time.monotonic() + wait_for
        heapq.heappush(self.delayed, (due, next(self._order), sub))
        return True

    def _adapt(self, throttled: bool) -> None:
        if throttled:
            self.window = max(float(MIN_CONCURRENCY), self.window / 2)
        else:
            self.window = min(float(self.ceiling), self.window + 1)
        self.peak_window = max(self.peak_window, self.window)

    def _settle(
        self,
        sub: _Sub,
        request: BatchRequest,
        answer: BatchResponse | None,
        error: ExchangePackError | None,
    ) -> None:
        if sub.kind == "listing":
            ok = answer is not None and answer.ok and isinstance(answer.body, dict)
            self.folders.remember(sub.mailbox, answer.body if ok and answer else None)
            return
        search = sub.search
        assert search is not None
        if answer is not None and answer.ok and isinstance(answer.body, dict):
            search.take(self.client, answer.body)
        else:
            search.fail(error or (answer or BatchResponse(id="", status=500)).error(request))
        if search.link:
            self.ready["search"].append(self._sub("search", search.address, search.link, search))
            return
        self.finished += 1
        self.unlisted.pop(search.address, None)
        if search.items and self.name_folders and search.address not in self.listed:
            self.ready["listing"].append(self._listing(search.address))

    # -- the directory ---------------------------------------------------------------------
    def _directory_job(self, directory: _Directory) -> Job:
        directory.busy = True
        link = directory.link or ""

        def work() -> dict[str, Any] | ExchangePackError:
            try:
                return self.client.get_json(link, wait_when_throttled=False)
            except (ThrottledError, TransientError) as error:
                return error

        return work, partial(self._directory_page, directory)

    def _directory_page(
        self, directory: _Directory, page: dict[str, Any] | ExchangePackError
    ) -> None:
        directory.busy = False
        if isinstance(page, ExchangePackError):
            wait_for = directory.budget.next_wait(page.retry_after_seconds)
            if wait_for is None:
                raise page
            self.stats.note_retry()
            self.stats.note_throttle(wait_for)
            directory.due = time.monotonic() + wait_for
            return
        fresh = []
        for user in page.get("value") or []:
            if not user.get("mail"):
                continue
            address = mailbox_info(user, None).address
            if address.lower() in directory.seen:
                continue
            directory.seen.add(address.lower())
            if directory.start_at is not None:
                if address.lower() != directory.start_at:
                    continue
                directory.start_at = None
            fresh.append(self.start(address))
        self.add(fresh)
        next_link = page.get("@odata.nextLink")
        if next_link:
            self.client.check_link(next_link)
        directory.link = next_link or None


def _take(queue: deque[_Sub], most: int | None = None) -> list[_Sub]:
    count = min(BATCH_LIMIT if most is None else most, len(queue))
    return [queue.popleft() for _ in range(count)]


def _results(
    pipeline: _Pipeline, folders: FolderDirectory, drop_missing: bool
) -> list[tuple[MailboxStatus, list[MessageSummary]]]:
    results = []
    criteria = pipeline.criteria
    for search in pipeline.searches[: pipeline.rest]:
        status = search.status or MailboxStatus(mailbox=search.address, status="ok")
        if drop_missing and status.status == "not_found" and not search.answered:
            continue  # a directory user without a mailbox (Graph: 404 on its messages)
        found = named(search.items, criteria, partial(folders.name_of, search.address))
        results.append((status.model_copy(update={"count": len(found)}), found))
    return results


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
    pipeline = _Pipeline(client, folders, criteria, limit, progress)
    pipeline.add([pipeline.start(address) for address in addresses])
    pipeline.run()
    return _results(pipeline, folders, drop_missing=False)


def search_directory(
    client: GraphClient,
    folders: FolderDirectory,
    criteria: SearchCriteria,
    limit: int,
    progress: MailboxesDone | None = None,
    start_at: str | None = None,
    enough: int | None = None,
) -> TenantSearch:
    """``search_many`` over every user with a mail address (``GET /users``, paged), searched
    as the pages arrive, from user ``start_at`` on; users whose search answers 404 (no
    mailbox) are left out, as ``searchable_mailboxes`` leaves them out. Once the first users
    in directory order hold ``enough`` messages, no further user is started: ``rest_from``
    names the first of them."""
    directory = _Directory(client, start_at)
    pipeline = _Pipeline(client, folders, criteria, limit, progress, directory, enough)
    pipeline.run()
    if directory.start_at is not None:
        raise directory_changed(directory.start_at)
    rest = pipeline.rest
    return TenantSearch(
        _results(pipeline, folders, drop_missing=True),
        pipeline.searches[rest].address if rest is not None else None,
    )
