"""search_emails_extended across one, several or all mailboxes, with per-mailbox statuses.

A first run over several mailboxes goes through ``Backend.search_many`` (bounded concurrency,
``$batch`` on Graph) in chunks, so progress can be reported; a single mailbox and every
continuation page through ``MailboxBackend.search``. ``limit`` bounds each mailbox, then
``max_results`` the whole answer; whatever either cut off is reachable through ``next_cursor``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..backend import Backend, MailboxBackend, from_mailbox
from ..errors import (
    AccessDeniedError,
    ExchangePackError,
    InternalError,
    MailboxNotFoundError,
    ThrottledError,
)
from ..models import MailboxStatus, MessageSummary, SearchCriteria
from . import Progress
from .cursor import (
    CursorBudget,
    Position,
    SearchCursor,
    decode_cursor,
    fingerprint,
    rest_size,
)
from .outputs import MailboxOutcome, SearchResult
from .targets import normalize_internet_message_id

CRITERIA_KEYS = tuple(SearchCriteria.model_fields)


@dataclass
class Located:
    """A found message and where it sits: its page (by cursor) and index in that page."""

    message: MessageSummary
    page_cursor: str | None
    index: int


@dataclass
class Harvest:
    """One mailbox's share of the run."""

    mailbox: str
    status: MailboxStatus
    found: list[Located] = field(default_factory=list)
    resume: Position | None = None  # where the next run continues; None when exhausted
    error: ExchangePackError | None = None


def criteria_from(params: Mapping[str, Any]) -> SearchCriteria:
    """The filters among the action's parameters (absent ones stay None: no filter)."""
    values = {key: params[key] for key in CRITERIA_KEYS if params.get(key) not in (None, "")}
    for key in ("received_after", "received_before"):
        if isinstance(values.get(key), str):
            values[key] = dt.datetime.fromisoformat(values[key].replace("Z", "+00:00"))
    if values.get("internet_message_id"):
        values["internet_message_id"] = normalize_internet_message_id(values["internet_message_id"])
    return SearchCriteria(**values)


def error_of(status: MailboxStatus) -> ExchangePackError:
    """The error a failed status stands for, to raise when every mailbox failed."""
    text = status.error or f"Searching {status.mailbox} failed ({status.status})."
    if status.status == "not_found":
        return MailboxNotFoundError(text)
    if status.status == "access_denied":
        return AccessDeniedError(text, hint="Grant Mail.Read (Graph) or full_access_as_app (EWS).")
    if status.status == "throttled":
        return ThrottledError(text, retry_after_seconds=status.retry_after_seconds)
    return InternalError(text)


def page_through(
    mailbox: MailboxBackend, criteria: SearchCriteria, limit: int, start: Position
) -> Harvest:
    """Up to ``limit`` messages from ``start`` on, following the backend's page cursors."""
    address = start.mailbox
    found: list[Located] = []
    page_cursor, skip = start.page_cursor, start.skip
    try:
        while True:
            page = mailbox.search(criteria, limit, page_cursor)
            for index in range(skip, len(page.items)):
                if len(found) == limit:
                    return _ok(
                        address,
                        found,
                        Position(mailbox=address, page_cursor=page_cursor, skip=index),
                    )
                found.append(Located(page.items[index], page_cursor, index))
            skip = 0
            if not page.next_cursor or not page.items:
                return _ok(address, found, None)
            page_cursor = page.next_cursor
            if len(found) == limit:
                return _ok(address, found, Position(mailbox=address, page_cursor=page_cursor))
    except ExchangePackError as error:
        return _failed(address, error)


def first_pages(
    backend: Backend,
    addresses: Sequence[str] | None,
    criteria: SearchCriteria,
    limit: int,
    progress: Progress,
    start_at: str | None = None,
    enough: int | None = None,
) -> tuple[list[Harvest], str | None]:
    """The first page of every mailbox through one ``search_many`` call (``addresses`` None:
    every searchable mailbox, through ``search_all``, which may stop starting mailboxes once
    the first hold ``enough`` messages), from mailbox ``start_at`` on; with the first mailbox
    left unsearched."""
    harvests: list[Harvest] = []
    rest_from = None
    # One call for every mailbox, so the backend keeps its whole concurrency busy.
    if addresses is None:
        answers, rest_from = backend.search_all(
            criteria,
            limit,
            progress=lambda done: progress(done, None, f"searched {done} mailboxes"),
            start_at=start_at,
            enough=enough,
        )
    else:
        addresses = from_mailbox(addresses, start_at) if start_at else addresses
        total = len(addresses)
        answers = backend.search_many(
            addresses,
            criteria,
            limit,
            progress=lambda done: progress(done, total, f"searched {done} of {total} mailboxes"),
        )
    for status, messages in answers:
        found = [Located(m, None, i) for i, m in enumerate(messages)]
        resume = None
        if status.status == "ok" and status.next_cursor:
            resume = Position(mailbox=status.mailbox, page_cursor=status.next_cursor)
        elif status.status == "ok" and len(messages) >= limit:
            # No cursor from the backend: the next run fetches this page again and skips.
            resume = Position(mailbox=status.mailbox, skip=len(messages))
        harvests.append(Harvest(status.mailbox, status, found, resume))
    return harvests, rest_from


def continue_pages(
    backend: Backend,
    positions: Sequence[Position],
    criteria: SearchCriteria,
    limit: int,
    progress: Progress,
) -> list[Harvest]:
    """The next page of each mailbox a previous run's cursor named, in the cursor's order:
    mailboxes searched from their start together through ``search_many``, the others one by
    one from their page cursor."""
    fresh = [p.mailbox for p in positions if p.fresh]
    by_mailbox: dict[str, Harvest] = {}
    if fresh:
        for harvest in first_pages(backend, fresh, criteria, limit, progress)[0]:
            by_mailbox[harvest.mailbox.lower()] = harvest
    resumed = [p for p in positions if not p.fresh]
    for done, position in enumerate(resumed, start=1):
        try:
            mailbox = backend.mailbox(position.mailbox)
        except ExchangePackError as error:
            by_mailbox[position.mailbox.lower()] = _failed(position.mailbox, error)
            continue
        by_mailbox[position.mailbox.lower()] = page_through(mailbox, criteria, limit, position)
        progress(done, len(resumed), f"resumed {done} of {len(resumed)} mailboxes")
    return [by_mailbox[p.mailbox.lower()] for p in positions]


def search(
    backend: Backend,
    addresses: Sequence[str] | None,
    criteria: SearchCriteria,
    *,
    limit: int,
    max_results: int,
    cursor: str | None,
    scope_key: str,
    progress: Progress,
) -> tuple[SearchResult, list[Harvest]]:
    """Runs the search and assembles messages, statuses, truncation and the next cursor.

    ``addresses`` None searches every searchable mailbox. Raises the mailbox's error when
    every searched mailbox failed (one mailbox: its error)."""
    print_key = fingerprint(criteria.model_dump(mode="json"), limit, scope_key)
    resumed: list[Position] = []  # a continuation's named mailboxes, before its rest
    unsearched: str | None = None  # the first mailbox the backend left for the next run
    if cursor:
        state = decode_cursor(cursor, print_key)
        resumed = state.positions
        harvests = continue_pages(backend, resumed, criteria, limit, progress)
        if state.rest_from:
            rest, unsearched = first_pages(
                backend,
                addresses,
                criteria,
                limit,
                progress,
                start_at=state.rest_from,
                enough=max_results,
            )
            harvests += rest
    elif addresses is not None and len(addresses) == 1:
        address = addresses[0]
        try:
            harvests = [
                page_through(backend.mailbox(address), criteria, limit, Position(mailbox=address))
            ]
        except ExchangePackError as error:
            harvests = [_failed(address, error)]
    else:
        harvests, unsearched = first_pages(
            backend, addresses, criteria, limit, progress, enough=max_results
        )

    if harvests and all(h.status.status != "ok" for h in harvests):
        first = harvests[0]
        raise first.error or error_of(first.status)

    answer = _Answer(max_results)
    # What the named mailboxes of the input cursor would take if re-emitted unchanged.
    still_named = [0] * (len(resumed) + 1)
    for index in range(len(resumed) - 1, -1, -1):
        still_named[index] = still_named[index + 1] + resumed[index].size
    rest_from = state.rest_from if cursor else None
    # Room kept for a rest_from naming the mailbox at hand or the first one left unsearched.
    rest_reserve = rest_size(max(rest_from or "", unsearched or "", key=len))
    for index, harvest in enumerate(harvests):
        resume = answer.resume_point(harvest)
        if index < len(resumed):
            reserve = still_named[index + 1] + rest_reserve
            if resume is not None and not answer.budget.fits(resume, reserve):
                # No room for this mailbox's progress: it and the rest resume where they stood.
                for position in resumed[index:]:
                    answer.budget.take(position)
                    answer.positions.append(position)
                break
        elif resume is not None and not answer.budget.fits(
            resume, max(rest_reserve, rest_size(harvest.mailbox))
        ):
            # The cursor could not name every mailbox left: from this one on, the scope's
            # mailboxes are searched again by the next run (none of their messages is returned).
            rest_from = harvest.mailbox
            break
        else:
            rest_from = None
        answer.keep(harvest, resume)
    else:
        rest_from = unsearched  # every mailbox searched was answered in full or named
    next_cursor = (
        SearchCursor(fingerprint=print_key, positions=answer.positions, rest_from=rest_from)
        if answer.positions or rest_from
        else None
    )
    result = SearchResult(
        messages=answer.messages,
        mailboxes=answer.statuses,
        total=len(answer.messages),
        truncated=next_cursor is not None,
        next_cursor=next_cursor.encode() if next_cursor else None,
    )
    return result, harvests


class _Answer:
    """The run's answer as it is assembled: messages up to ``max_results``, statuses, and the
    positions the next cursor names, within its budget."""

    def __init__(self, max_results: int) -> None:
        self.max_results = max_results
        self.messages: list[MessageSummary] = []
        self.statuses: list[MailboxOutcome] = []
        self.positions: list[Position] = []
        self.budget = CursorBudget()

    def resume_point(self, harvest: Harvest) -> Position | None:
        """Where the next run continues in this mailbox, once the room left is applied."""
        room = max(0, self.max_results - len(self.messages))
        if room < len(harvest.found):
            cut = harvest.found[room]
            return Position(mailbox=harvest.mailbox, page_cursor=cut.page_cursor, skip=cut.index)
        return harvest.resume

    def keep(self, harvest: Harvest, resume: Position | None) -> None:
        room = max(0, self.max_results - len(self.messages))
        kept = harvest.found[:room]
        self.messages.extend(item.message for item in kept)
        if resume is not None:
            self.budget.take(resume)
            self.positions.append(resume)
        outcome = harvest.status.model_dump(exclude={"next_cursor"}) | {"count": len(kept)}
        self.statuses.append(MailboxOutcome.model_validate(outcome))


def _ok(address: str, found: list[Located], resume: Position | None) -> Harvest:
    status = MailboxStatus(mailbox=address, status="ok", count=len(found))
    return Harvest(address, status, found, resume)


def _failed(address: str, error: ExchangePackError) -> Harvest:
    return Harvest(address, MailboxStatus.failed(address, error), error=error)
