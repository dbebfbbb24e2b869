"""search_emails_extended's assembly logic: limits, max_results, cursors, per-mailbox status.

Pure logic: an in-memory backend pages through lists (the real backends are covered by the
end-to-end tests against the sandbox).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from exchange_pack.actions.cursor import SearchCursor, decode_cursor
from exchange_pack.actions.search import criteria_from, search
from exchange_pack.errors import AccessDeniedError, InputError, MailboxNotFoundError
from exchange_pack.models import MailboxStatus, MessageSummary, Page, SearchCriteria


class MemoryMailbox:
    def __init__(self, address: str, count: int, page_size: int | None = None) -> None:
        self.address = address
        self.items = [
            MessageSummary(mailbox=address, id=f"{address}-{i}", internet_message_id=None)
            for i in range(count)
        ]
        self.page_size = page_size
        self.calls: list[str | None] = []

    def search(self, criteria: SearchCriteria, limit: int, cursor: str | None = None) -> Page:
        self.calls.append(cursor)
        start = int(cursor or 0)
        size = min(limit, self.page_size or limit)
        end = start + size
        more = str(end) if end < len(self.items) else None
        return Page(items=self.items[start:end], next_cursor=more)


class MemoryBackend:
    name = "memory"

    def __init__(self, mailboxes: dict[str, int], failing: dict[str, Exception] | None = None):
        self.boxes = {a: MemoryMailbox(a, n) for a, n in mailboxes.items()}
        self.failing = failing or {}
        self.search_many_calls = 0

    def mailbox(self, address: str) -> MemoryMailbox:
        if address in self.failing:
            raise self.failing[address]
        return self.boxes[address]

    def search_many(
        self, addresses: Sequence[str], criteria: SearchCriteria, limit: int, progress=None
    ):
        self.search_many_calls += 1
        out = []
        for address in addresses:
            if progress:
                progress(len(out) + 1)
            if address in self.failing:
                error = self.failing[address]
                status = "access_denied" if isinstance(error, AccessDeniedError) else "not_found"
                out.append((MailboxStatus(mailbox=address, status=status, error=str(error)), []))
                continue
            items = self.boxes[address].items[:limit]
            out.append((MailboxStatus(mailbox=address, status="ok", count=len(items)), items))
        return out


def run(backend, addresses, *, limit=10, max_results=1000, cursor=None):
    progress: list[tuple[int, int]] = []
    result, _ = search(
        backend,
        addresses,
        SearchCriteria(),
        limit=limit,
        max_results=max_results,
        cursor=cursor,
        scope_key=",".join(addresses),
        progress=lambda done, total, text: progress.append((done, total)),
    )
    return result, progress


def ids(result) -> list[str]:
    return [m.id for m in result.messages]


def collect_all(backend, addresses, **kwargs) -> list[str]:
    result, _ = run(backend, addresses, **kwargs)
    seen = ids(result)
    for _ in range(100):
        if not result.next_cursor:
            return seen
        result, _ = run(backend, addresses, cursor=result.next_cursor, **kwargs)
        seen += ids(result)
    raise AssertionError("cursor never ended")


def test_single_mailbox_pages_with_the_backend_cursor() -> None:
    backend = MemoryBackend({"a@x": 25})
    result, _ = run(backend, ["a@x"], limit=10)
    assert ids(result) == [f"a@x-{i}" for i in range(10)]
    assert result.truncated and result.next_cursor
    assert collect_all(backend, ["a@x"], limit=10) == [f"a@x-{i}" for i in range(25)]
    assert backend.search_many_calls == 0


def test_exact_fit_is_not_truncated() -> None:
    result, _ = run(MemoryBackend({"a@x": 10}), ["a@x"], limit=10)
    assert result.total == 10 and not result.truncated and result.next_cursor is None


def test_many_mailboxes_use_search_many_and_resume_without_a_backend_cursor() -> None:
    backend = MemoryBackend({"a@x": 12, "b@x": 3, "c@x": 0})
    result, progress = run(backend, ["a@x", "b@x", "c@x"], limit=5)
    assert backend.search_many_calls == 1
    assert [(s.mailbox, s.status, s.count) for s in result.mailboxes] == [
        ("a@x", "ok", 5),
        ("b@x", "ok", 3),
        ("c@x", "ok", 0),
    ]
    assert progress == [(1, 3), (2, 3), (3, 3)]  # one step per mailbox done
    everything = collect_all(backend, ["a@x", "b@x", "c@x"], limit=5)
    assert sorted(everything) == sorted(
        [f"a@x-{i}" for i in range(12)] + [f"b@x-{i}" for i in range(3)]
    )
    assert len(everything) == len(set(everything))


def test_max_results_cuts_and_the_cursor_returns_the_rest_once() -> None:
    backend = MemoryBackend({"a@x": 4, "b@x": 4, "c@x": 4})
    result, _ = run(backend, ["a@x", "b@x", "c@x"], limit=10, max_results=6)
    assert result.total == 6 and result.truncated
    assert [s.count for s in result.mailboxes] == [4, 2, 0]
    everything = collect_all(backend, ["a@x", "b@x", "c@x"], limit=10, max_results=6)
    assert sorted(everything) == sorted(f"{b}-{i}" for b in ("a@x", "b@x", "c@x") for i in range(4))


def test_backend_pages_smaller_than_limit_are_followed() -> None:
    backend = MemoryBackend({"a@x": 9})
    backend.boxes["a@x"].page_size = 2
    result, _ = run(backend, ["a@x"], limit=5)
    assert ids(result) == [f"a@x-{i}" for i in range(5)]
    assert collect_all(backend, ["a@x"], limit=5) == [f"a@x-{i}" for i in range(9)]


def test_a_failing_mailbox_does_not_fail_the_rest() -> None:
    backend = MemoryBackend({"a@x": 2}, failing={"b@x": AccessDeniedError("denied")})
    result, _ = run(backend, ["a@x", "b@x"])
    assert [(s.mailbox, s.status) for s in result.mailboxes] == [
        ("a@x", "ok"),
        ("b@x", "access_denied"),
    ]
    assert result.total == 2


def test_when_every_mailbox_fails_the_error_is_raised() -> None:
    backend = MemoryBackend({}, failing={"gone@x": MailboxNotFoundError("no such mailbox")})
    with pytest.raises(MailboxNotFoundError):
        run(backend, ["gone@x"])
    backend = MemoryBackend(
        {}, failing={"a@x": AccessDeniedError("no"), "b@x": AccessDeniedError("no")}
    )
    with pytest.raises(AccessDeniedError):
        run(backend, ["a@x", "b@x"])


def test_cursor_from_another_search_is_refused() -> None:
    backend = MemoryBackend({"a@x": 30})
    result, _ = run(backend, ["a@x"], limit=10)
    with pytest.raises(InputError, match="other filters"):
        run(backend, ["a@x"], limit=20, cursor=result.next_cursor)
    with pytest.raises(InputError, match="not a next_cursor"):
        run(backend, ["a@x"], limit=10, cursor="garbage!")
    stale = SearchCursor(v=99, fingerprint="x", positions=[]).encode()
    with pytest.raises(InputError):
        decode_cursor(stale, "x")


def test_criteria_from_parameters() -> None:
    criteria = criteria_from(
        {
            "mailbox": "alice@contoso.com",
            "sender": "billing@contoso-payments.com",
            "received_after": "2026-11-01T00:00:00Z",
            "internet_message_id": "inv-20931-alice@contoso-payments.com",
            "has_attachments": False,
            "limit": 5,
        }
    )
    assert criteria.sender == "billing@contoso-payments.com"
    assert criteria.received_after is not None and criteria.received_after.tzinfo is not None
    assert criteria.internet_message_id == "<inv-20931-alice@contoso-payments.com>"
    assert criteria.has_attachments is False
    assert criteria.subject is None
