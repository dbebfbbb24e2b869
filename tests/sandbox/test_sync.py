"""Folder change tracking on one store: Graph message delta and EWS SyncFolderItems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ews_face_support import (
    assert_schema_valid,
    body_payload,
    envelope,
    ews_token,
    oauth_account,
    post,
)
from graph_support import GraphClient, assert_graph_error, graph_token, openapi

from exchange_sandbox.process import Sandbox

pytestmark = pytest.mark.sandbox

REPORTS = "phish-report@contoso.com"
DELTA = f"/users/{REPORTS}/mailFolders/inbox/messages/delta"


@pytest.fixture
def graph(fresh_sandbox: Sandbox) -> GraphClient:
    return GraphClient(fresh_sandbox, graph_token(fresh_sandbox))


def _round(graph: GraphClient, url: str, page_size: int = 10) -> tuple[list[dict[str, Any]], str]:
    """Every item of one delta round, and the round's deltaLink."""
    items: list[dict[str, Any]] = []
    headers = {"Prefer": f"odata.maxpagesize={page_size}"}
    while True:
        page = graph.ok("GET", url, headers=headers)
        items.extend(page["value"])
        assert not ("@odata.nextLink" in page and "@odata.deltaLink" in page)
        if "@odata.deltaLink" in page:
            return items, page["@odata.deltaLink"]
        url = page["@odata.nextLink"]


def _send(graph: GraphClient, subject: str) -> None:
    mail = {
        "message": {
            "subject": subject,
            "body": {"contentType": "Text", "content": "reported"},
            "toRecipients": [{"emailAddress": {"address": REPORTS}}],
        },
        "saveToSentItems": False,
    }
    graph.ok("POST", "/users/dave@contoso.com/sendMail", 202, json=mail)


def test_delta_items_are_graph_messages(graph: GraphClient, shared_dir: Path) -> None:
    items, _ = _round(graph, DELTA)
    assert items
    for item in items:
        assert item.pop("@odata.type") == "#microsoft.graph.message"
        path = "/users/{user-id}/mailFolders/{mailFolder-id}/messages/{message-id}"
        openapi(shared_dir).validate("GET", path, item)


def test_delta_round_pages_then_reports_only_changes(graph: GraphClient) -> None:
    first, delta_link = _round(graph, f"{DELTA}?$select=subject,receivedDateTime", page_size=1)
    assert len(first) == 2
    assert all(set(item) >= {"id", "subject", "receivedDateTime"} for item in first)
    assert "body" not in first[0]  # $select rides in the tokens
    nothing, delta_link = _round(graph, delta_link)
    assert nothing == []

    _send(graph, "report 3")
    removed_id = first[0]["id"]
    graph.ok("DELETE", f"/users/{REPORTS}/messages/{removed_id}", 204)
    changes, delta_link = _round(graph, delta_link)
    added = [c for c in changes if "@removed" not in c]
    gone = [c for c in changes if "@removed" in c]
    assert [c["subject"] for c in added] == ["report 3"]
    assert gone == [
        {
            "@odata.type": "#microsoft.graph.message",
            "id": removed_id,
            "@removed": {"reason": "deleted"},
        }
    ]
    graph.ok("PATCH", f"/users/{REPORTS}/messages/{added[0]['id']}", json={"isRead": True})
    updated, _ = _round(graph, delta_link)
    assert [(c["id"], c["subject"]) for c in updated] == [(added[0]["id"], "report 3")]


def test_delta_filter_and_change_type(graph: GraphClient) -> None:
    since = "2026-11-20T14:10:00Z"
    items, _ = _round(graph, f"{DELTA}?$filter=receivedDateTime ge {since}")
    assert len(items) == 1 and items[0]["receivedDateTime"] >= since
    bad = graph.get(DELTA, params={"$filter": "subject eq 'x'"})
    assert_graph_error(bad, 400, "BadRequest")


def test_expired_or_unknown_delta_token_is_410(fresh_sandbox: Sandbox, graph: GraphClient) -> None:
    _, delta_link = _round(graph, DELTA)
    fresh_sandbox.admin("POST", "/_sandbox/sync-states/expire")
    assert_graph_error(graph.get(delta_link), 410, "SyncStateNotFound")
    assert_graph_error(graph.get(f"{DELTA}?$deltatoken=nope"), 410, "SyncStateNotFound")
    assert_graph_error(graph.get(f"{DELTA}?$skiptoken=nope.1"), 410, "SyncStateNotFound")


def test_sync_folder_items_through_exchangelib(fresh_sandbox: Sandbox, graph: GraphClient) -> None:
    account = oauth_account(fresh_sandbox, REPORTS, ews_token(fresh_sandbox))
    inbox = account.inbox
    created = list(inbox.sync_items(only_fields=["subject"], max_changes_returned=1))
    assert [kind for kind, _ in created] == ["create", "create"]
    state = inbox.item_sync_state
    assert list(inbox.sync_items(sync_state=state)) == []

    _send(graph, "report via EWS")
    changes = list(inbox.sync_items(sync_state=inbox.item_sync_state, only_fields=["subject"]))
    assert [(kind, item.subject) for kind, item in changes] == [("create", "report via EWS")]


def test_sync_folder_items_schema_valid_and_invalid_state(fresh_sandbox: Sandbox) -> None:
    token = ews_token(fresh_sandbox)
    body = (
        "<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>"
        "<m:SyncFolderId><t:DistinguishedFolderId Id='inbox'/></m:SyncFolderId>"
        "<m:SyncState>{state}</m:SyncState>"
        "<m:MaxChangesReturned>1</m:MaxChangesReturned></m:SyncFolderItems>"
    )
    first = body_payload(
        post(
            fresh_sandbox,
            envelope(body.replace("<m:SyncState>{state}</m:SyncState>", ""), impersonate=REPORTS),
            token,
        )
    )
    assert_schema_valid(first)
    text = "".join(first.itertext())
    assert "NoError" in text and "false" in text  # one of two changes: more to come
    fresh_sandbox.admin("POST", "/_sandbox/sync-states/expire")
    again = body_payload(
        post(fresh_sandbox, envelope(body.format(state="gone"), impersonate=REPORTS), token)
    )
    assert_schema_valid(again)
    assert "ErrorInvalidSyncStateData" in "".join(again.itertext())
