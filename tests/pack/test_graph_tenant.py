"""Graph backend tenant-wide calls against the sandbox: $batch, fan-out search, directory,
out-of-office and the connection probe."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from graph_backend_support import CAMPAIGN_SENDER, GraphHarness, campaign_id, harness

from exchange_pack.graph import search
from exchange_pack.graph.settings import out_of_office
from exchange_pack.graph.transport import BatchRequest, graph_path, with_query
from exchange_pack.models import SearchCriteria
from exchange_sandbox.process import Sandbox

USERS = ["alice@contoso.com", "bob@contoso.com", "carol@contoso.com"]


@pytest.fixture
def graph(fresh_sandbox: Sandbox) -> GraphHarness:
    return harness(fresh_sandbox)


def _inbox(address: str, request_id: str) -> BatchRequest:
    path = graph_path("/users/{}/mailFolders/inbox", address)
    return BatchRequest(id=request_id, url=with_query(path, {"$select": "id"}))


# -- $batch --------------------------------------------------------------------------------
def test_batch_splits_into_rounds_of_twenty(graph: GraphHarness) -> None:
    requests = [_inbox(USERS[i % 3], str(i)) for i in range(45)]
    answers = graph.backend.client.batch(requests)
    assert sorted(answers, key=int) == [str(i) for i in range(45)]
    assert all(answer.status == 200 for answer in answers.values())
    assert graph.session.stats.requests == 3


def test_a_throttled_sub_request_is_retried_on_its_own(graph: GraphHarness) -> None:
    graph.sandbox.fault(
        method="GET",
        path=r"/users/bob@contoso\.com/mailFolders/inbox$",
        status=429,
        headers={"Retry-After": "3"},
    )
    answers = graph.backend.client.batch([_inbox(user, user) for user in USERS])
    assert {key: a.status for key, a in answers.items()} == dict.fromkeys(USERS, 200)
    assert graph.session.stats.requests == 2
    assert graph.sleeps == [3.0]
    assert graph.session.stats.throttled == 1


def test_a_sub_request_throttled_beyond_the_budget_keeps_its_answer(
    fresh_sandbox: Sandbox,
) -> None:
    graph = harness(fresh_sandbox, max_retries=1)
    graph.sandbox.fault(
        method="GET",
        path=r"/users/bob@contoso\.com/mailFolders/inbox$",
        status=429,
        headers={"Retry-After": "1"},
        count=5,
    )
    answers = graph.backend.client.batch([_inbox(user, user) for user in USERS])
    assert answers["bob@contoso.com"].status == 429
    assert answers["alice@contoso.com"].status == 200
    assert graph.session.stats.requests == 2


# -- fan-out search ------------------------------------------------------------------------
def test_search_many_reports_each_mailbox(graph: GraphHarness) -> None:
    addresses = [*USERS, "soc@contoso.com", "nobody@contoso.com"]
    results = graph.backend.search_many(addresses, SearchCriteria(sender=CAMPAIGN_SENDER), 10)
    by_mailbox = {status.mailbox: (status, found) for status, found in results}
    for user in USERS:
        status, found = by_mailbox[user]
        assert (status.status, status.count) == ("ok", 1)
        assert found[0].internet_message_id == campaign_id(user.split("@")[0])
        assert found[0].folder == "inbox" and found[0].mailbox == user
    assert by_mailbox["soc@contoso.com"][0].status == "ok"
    assert by_mailbox["nobody@contoso.com"][0].status == "not_found"
    assert graph.session.stats.requests == 2  # one $batch of searches + one of folder lists


def test_search_many_pages_each_mailbox_up_to_the_limit(graph: GraphHarness) -> None:
    totals = {u: len(graph.mailbox(u).search(SearchCriteria(), 500).items) for u in USERS}
    graph.start_counting()
    results = graph.backend.search_many(USERS, SearchCriteria(folder="inbox"), 3)
    for status, found in results:
        assert status.count == len(found) == min(3, totals[status.mailbox])
        assert all(m.folder == "inbox" for m in found)
    assert graph.session.stats.requests == 1


def test_search_many_follows_next_links_in_later_rounds(
    graph: GraphHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = {u: graph.mailbox(u).search(SearchCriteria(), 500).items for u in USERS}
    monkeypatch.setattr(search, "MAX_PAGE_SIZE", 4)
    graph.start_counting()
    results = graph.backend.search_many(USERS, SearchCriteria(), 200)
    for status, found in results:
        assert [m.id for m in found] == [m.id for m in everything[status.mailbox]]
    # One $batch per round; folder names are cached from the searches above.
    rounds = math.ceil(max(len(v) for v in everything.values()) / 4)
    assert graph.session.stats.requests in (rounds, rounds + 1)
    assert rounds > 1


def test_search_many_marks_throttled_and_denied_mailboxes(fresh_sandbox: Sandbox) -> None:
    app = fresh_sandbox.add_app(
        name="scoped", roles=["Mail.Read"], mailbox_scope=USERS[:2], client_secret="scoped-secret"
    )
    graph = harness(
        fresh_sandbox, client_id=app["client_id"], client_secret="scoped-secret", max_retries=1
    )
    graph.sandbox.fault(
        method="GET",
        path=r"/users/bob@contoso\.com/messages$",
        status=429,
        headers={"Retry-After": "7"},
        count=5,
    )
    results = graph.backend.search_many(USERS, SearchCriteria(sender=CAMPAIGN_SENDER), 5)
    statuses = {s.mailbox: s for s, _ in results}
    assert statuses["alice@contoso.com"].status == "ok"
    assert statuses["bob@contoso.com"].status == "throttled"
    assert statuses["bob@contoso.com"].retry_after_seconds == 7
    assert statuses["carol@contoso.com"].status == "access_denied"


# -- directory, settings, probe ------------------------------------------------------------
def test_searchable_mailboxes_have_types(graph: GraphHarness) -> None:
    mailboxes = {m.address: m for m in graph.backend.searchable_mailboxes()}
    assert mailboxes["alice@contoso.com"].type == "user"
    assert mailboxes["soc@contoso.com"].type == "shared"
    assert mailboxes["room-boardroom@contoso.com"].type == "room"
    assert all(m.id and m.display_name for m in mailboxes.values())
    assert graph.session.stats.requests == 2  # GET /users + one $batch of userPurpose


def test_out_of_office_scheduled_and_disabled(graph: GraphHarness) -> None:
    dave = graph.mailbox("dave@contoso.com").out_of_office()
    assert dave.status == "scheduled" and dave.start and dave.end
    start = dt.datetime.fromisoformat(dave.start.replace("Z", "+00:00"))
    end = dt.datetime.fromisoformat(dave.end.replace("Z", "+00:00"))
    now = dt.datetime.now(dt.timezone.utc)
    assert dave.active_now == (start <= now < end)
    assert dave.internal_reply
    during = out_of_office(graph.backend.client, "dave@contoso.com", now=start)
    after = out_of_office(graph.backend.client, "dave@contoso.com", now=end)
    assert (during.active_now, after.active_now) == (True, False)
    alice = graph.mailbox().out_of_office()
    assert (alice.status, alice.active_now) == ("disabled", False)


def test_probe_reports_token_and_reachability(graph: GraphHarness) -> None:
    probe = graph.backend.probe()
    assert probe["reachable"] is True
    assert "Mail.ReadWrite" in probe["token"]["roles"]
    assert graph.session.stats.requests == 1


def test_probe_of_an_unknown_default_mailbox(fresh_sandbox: Sandbox) -> None:
    graph = harness(fresh_sandbox, default_mailbox="ghost@contoso.com")
    probe = graph.backend.probe()
    assert probe["reachable"] is False
    assert probe["error"]["code"] == "MAILBOX_NOT_FOUND"
