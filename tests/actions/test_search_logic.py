"""search_emails_extended's assembly logic: limits, max_results, cursors, per-mailbox status.

Pure logic: an in-memory backend pages through lists (the real backends are covered by the
end-to-end tests against the sandbox).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

import pytest

from exchange_pack.actions import cursor as cursor_module
from exchange_pack.actions.cursor import MAX_CURSOR_LENGTH, SearchCursor, decode_cursor
from exchange_pack.actions.search import criteria_from, search
from exchange_pack.backend import TenantSearch
from exchange_pack.errors import (
    AccessDeniedError,
    InputError,
    MailboxNotFoundError,
    directory_changed,
)
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
        self.page_cursors = False  # search_many answers with the backend's page cursor
        self.early_stop = False  # search_all starts no mailbox once enough are found

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
            every = self.boxes[address].items
            items = every[:limit]
            more = str(limit) if len(every) > limit and self.page_cursors else None
            status = MailboxStatus(mailbox=address, status="ok", count=len(items), next_cursor=more)
            out.append((status, items))
        return out

    def search_all(
        self, criteria: SearchCriteria, limit: int, progress=None, start_at=None, enough=None
    ) -> TenantSearch:
        """Every mailbox from ``start_at`` on; with ``early_stop``, none after the first ones
        in order that hold ``enough`` messages (as the Graph pipeline stops)."""
        addresses = list(self.boxes)
        if start_at is not None:
            if start_at not in self.boxes:
                raise directory_changed(start_at)
            addresses = addresses[addresses.index(start_at) :]
        rest_from = None
        if self.early_stop and enough is not None:
            found = 0
            for index, address in enumerate(addresses):
                if found >= enough:
                    rest_from = address
                    addresses = addresses[:index]
                    break
                found += min(limit, len(self.boxes[address].items))
        return TenantSearch(self.search_many(addresses, criteria, limit, progress), rest_from)


def run(backend, addresses, *, limit=10, max_results=1000, cursor=None):
    progress: list[tuple[int, int]] = []
    result, _ = search(
        backend,
        addresses,
        SearchCriteria(),
        limit=limit,
        max_results=max_results,
        cursor=cursor,
        scope_key="all" if addresses is None else ",".join(addresses),
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
        assert len(result.next_cursor) <= MAX_CURSOR_LENGTH
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


def _tenant(mailboxes: int, hits: int) -> MemoryBackend:
    return MemoryBackend(
        {f"security.operations.user{i:05d}@contoso.com": hits for i in range(mailboxes)}
    )


def _cursor_body(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


@pytest.mark.parametrize("everything", [True, False])
def test_a_tenant_wide_cursor_stays_within_the_cursor_parameter(everything: bool) -> None:
    # (A backend that searches every mailbox: Graph's stops early, EWS's does not.)
    # 5,000 mailboxes with hits and max_results 10: naming each left mailbox would take
    # ~230 KB; the cursor names what fits and resumes the scope from the next mailbox on.
    backend = _tenant(5_000, 2)
    addresses = None if everything else list(backend.boxes)
    result, _ = run(backend, addresses, limit=10, max_results=2_500)
    assert result.total == 2_500 and len(result.next_cursor) <= MAX_CURSOR_LENGTH
    body = _cursor_body(result.next_cursor)
    assert body["v"] == 2 and body["rest_from"] in backend.boxes
    assert all(isinstance(p, str) for p in body["positions"])  # fresh starts: bare addresses
    # The mailboxes the cursor resumes from are not reported as done in this run.
    assert body["rest_from"] not in {s.mailbox for s in result.mailboxes}
    everything_found = collect_all(backend, addresses, limit=10, max_results=2_500)
    assert sorted(everything_found) == sorted(m.id for b in backend.boxes.values() for m in b.items)


def test_a_continuation_keeps_its_named_mailboxes_when_their_progress_does_not_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Resumed mailboxes whose page cursors no longer fit keep the position they came with.
    backend = _tenant(30, 7)
    backend.page_cursors = True
    monkeypatch.setattr(cursor_module, "_JSON_BUDGET", 900)
    found = collect_all(backend, list(backend.boxes), limit=3, max_results=20)
    assert sorted(found) == sorted(m.id for b in backend.boxes.values() for m in b.items)


def test_a_cursor_of_the_previous_version_is_still_read() -> None:
    backend = MemoryBackend({"a@x": 4, "b@x": 4})
    result, _ = run(backend, ["a@x", "b@x"], limit=10, max_results=5)
    body = _cursor_body(result.next_cursor)
    old = {
        "v": 1,
        "fingerprint": body["fingerprint"],
        "positions": [
            p if isinstance(p, dict) else {"mailbox": p, "page_cursor": None, "skip": 0}
            for p in body["positions"]
        ],
    }
    token = base64.urlsafe_b64encode(json.dumps(old).encode()).decode().rstrip("=")
    again, _ = run(backend, ["a@x", "b@x"], limit=10, max_results=5, cursor=token)
    assert ids(again) == ["b@x-1", "b@x-2", "b@x-3"]


@pytest.mark.parametrize("limit", [1, 3, 10])
def test_a_search_that_stops_early_hands_the_rest_to_the_next_run(limit: int) -> None:
    backend = _tenant(200, 3)
    backend.early_stop = True
    result, _ = run(backend, None, limit=limit, max_results=25)
    assert result.total == 25
    body = _cursor_body(result.next_cursor)
    assert body["rest_from"] in backend.boxes
    searched = {s.mailbox for s in result.mailboxes}
    assert body["rest_from"] not in searched
    assert len(searched) < 30  # not the 200 mailboxes
    found = collect_all(backend, None, limit=limit, max_results=25)
    assert sorted(found) == sorted(m.id for b in backend.boxes.values() for m in b.items)


def test_a_rest_that_left_the_directory_is_refused() -> None:
    backend = _tenant(3_000, 2)
    result, _ = run(backend, None, limit=2, max_results=10)
    rest = _cursor_body(result.next_cursor)["rest_from"]
    del backend.boxes[rest]
    with pytest.raises(InputError, match="no longer among the mailboxes"):
        run(backend, None, limit=2, max_results=10, cursor=result.next_cursor)


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
