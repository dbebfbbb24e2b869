"""The Graph fan-out's scheduling against the sandbox: the directory read inside the search,
throttled sub-requests waiting outside any slot, and the adaptive window."""

from __future__ import annotations

import json
from typing import Any

import pytest
from graph_backend_support import CAMPAIGN_SENDER, GraphHarness, harness

from exchange_pack.graph import fanout
from exchange_pack.models import SearchCriteria
from exchange_sandbox.process import Sandbox

USERS = ["alice@contoso.com", "bob@contoso.com", "carol@contoso.com"]
NO_MAILBOX = {
    "error": {
        "code": "MailboxNotEnabledForRESTAPI",
        "message": "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
    }
}


@pytest.fixture
def graph(fresh_sandbox: Sandbox) -> GraphHarness:
    return harness(fresh_sandbox)


def _spy(graph: GraphHarness, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Records, in order, each directory page read and each $batch's sub-request URLs."""
    calls: list[tuple[str, Any]] = []
    client = graph.backend.client
    post_json, get_json = client.post_json, client.get_json

    def spy_post(path: str, body: Any, **options: Any) -> dict[str, Any]:
        if path == "/$batch":
            calls.append(("batch", [r["url"] for r in body["requests"]]))
        return post_json(path, body, **options)

    def spy_get(path: str, **options: Any) -> dict[str, Any]:
        calls.append(("get", path))
        return get_json(path, **options)

    monkeypatch.setattr(client, "post_json", spy_post)
    monkeypatch.setattr(client, "get_json", spy_get)
    return calls


def test_every_mailbox_is_searched_without_reading_mailbox_settings(graph: GraphHarness) -> None:
    expected = [m.address for m in graph.backend.searchable_mailboxes()]
    graph.start_counting()
    results, rest = graph.backend.search_all(SearchCriteria(sender=CAMPAIGN_SENDER), 10)
    assert rest is None
    assert [status.mailbox for status, _ in results] == expected
    found = {status.mailbox: len(messages) for status, messages in results}
    assert {user: found[user] for user in USERS} == dict.fromkeys(USERS, 1)
    assert all(status.status == "ok" for status, _ in results)
    # GET /users, one $batch of searches, one of folder listings: no mailboxSettings round.
    assert graph.session.stats.requests == 3


def test_a_user_whose_search_says_no_mailbox_is_left_out(graph: GraphHarness) -> None:
    graph.sandbox.fault(
        method="GET",
        path=r"/users/dave@contoso\.com/messages$",
        status=404,
        body=json.dumps(NO_MAILBOX),
        headers={"Content-Type": "application/json"},
    )
    results, rest = graph.backend.search_all(SearchCriteria(sender=CAMPAIGN_SENDER), 10)
    assert rest is None
    searched = [status.mailbox for status, _ in results]
    assert "dave@contoso.com" not in searched
    assert set(USERS) <= set(searched)
    # Named mailboxes keep reporting it: there a 404 is an answer the analyst needs.
    named = graph.backend.search_many(["nobody@contoso.com", *USERS], SearchCriteria(), 1)
    assert named[0][0].status == "not_found"


def test_searches_start_before_the_directory_is_read(
    graph: GraphHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fanout, "DIRECTORY_PAGE", 2)
    monkeypatch.setattr(fanout, "BATCH_LIMIT", 2)
    calls = _spy(graph, monkeypatch)
    results, rest = graph.backend.search_all(SearchCriteria(sender=CAMPAIGN_SENDER), 10)
    assert rest is None
    pages = [i for i, (kind, path) in enumerate(calls) if kind == "get" and "/users?" in path]
    batches = [i for i, (kind, _) in enumerate(calls) if kind == "batch"]
    assert len(pages) >= 3  # the demo tenant has more than 4 users with a mailbox
    assert batches[0] < pages[-1]  # the first mailboxes were searched while paging went on
    assert len(results) == len(graph.backend.searchable_mailboxes())


def test_no_mailbox_is_started_once_the_first_in_order_hold_enough(
    graph: GraphHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fanout, "DIRECTORY_PAGE", 2)
    monkeypatch.setattr(fanout, "BATCH_LIMIT", 2)
    monkeypatch.setattr(fanout, "CONCURRENCY", 1)
    order = [m.address for m in graph.backend.searchable_mailboxes()]
    every, _ = graph.backend.search_all(SearchCriteria(), 1)  # one message from each mailbox
    results, rest = graph.backend.search_all(SearchCriteria(), 1, enough=2)
    searched = [status.mailbox for status, _ in results]
    assert rest is not None and rest in order and rest not in searched
    assert searched == order[: order.index(rest)]  # a prefix of the directory, nothing after
    assert 2 <= sum(len(messages) for _, messages in results) < len(every)
    # The next run takes the directory up from there: together, every mailbox once.
    later, end = graph.backend.search_all(SearchCriteria(), 1, start_at=rest)
    assert end is None
    assert searched + [status.mailbox for status, _ in later] == [s.mailbox for s, _ in every]


def test_a_throttled_search_waits_outside_the_only_slot(
    graph: GraphHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fanout, "CONCURRENCY", 1)  # one batch in flight, never more
    graph.sandbox.fault(
        method="GET",
        path=r"/users/bob@contoso\.com/messages$",
        status=429,
        headers={"Retry-After": "3"},
        count=1,
    )
    calls = _spy(graph, monkeypatch)
    results = graph.backend.search_many(USERS, SearchCriteria(sender=CAMPAIGN_SENDER), 5)
    assert [(s.status, s.count) for s, _ in results] == [("ok", 1)] * 3
    batches = [urls for kind, urls in calls if kind == "batch"]
    bob_searches = [
        i for i, urls in enumerate(batches) if any("bob" in u and "/messages" in u for u in urls)
    ]
    carol_listing = next(
        i
        for i, urls in enumerate(batches)
        if any("carol" in u and "mailFolders" in u for u in urls)
    )
    # The slot served alice's and carol's folder listings while bob's retry waited its turn.
    assert bob_searches[0] < carol_listing < bob_searches[1]
    assert graph.session.stats.throttled == 1
    assert len(graph.sleeps) == 1 and 0 < graph.sleeps[0] <= 3.0


class _Stats:
    def note_retry(self) -> None: ...
    def note_throttle(self, seconds: float) -> None: ...


class _Client:
    """Enough of GraphClient for the pipeline's bookkeeping (no request is sent)."""

    class config:
        max_retries = 3
        max_retry_wait_seconds = 60

    class session:
        stats = _Stats()


def test_the_window_grows_while_clean_and_halves_when_throttled() -> None:
    pipeline = fanout._Pipeline(_Client(), None, SearchCriteria(), 10, None)  # type: ignore[arg-type]
    assert pipeline.window == fanout.CONCURRENCY
    for _ in range(100):
        pipeline._adapt(throttled=False)
    assert pipeline.window == fanout.MAX_CONCURRENCY
    pipeline._adapt(throttled=True)
    assert pipeline.window == fanout.MAX_CONCURRENCY / 2
    for _ in range(10):
        pipeline._adapt(throttled=True)
    assert pipeline.window == fanout.MIN_CONCURRENCY
    assert pipeline.peak_window == fanout.MAX_CONCURRENCY
