"""Graph face fidelity found by independent clients: next links that survive any ``$filter``
literal, attachment listings with ``contentBytes``, folder creation and well-known names,
``$search`` quoting and word-prefix matching."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from graph_support import (
    PHISH_SUBJECT,
    GraphClient,
    app_client,
    assert_graph_error,
    graph_token,
)

from exchange_sandbox.process import Sandbox

ALICE = "/users/alice@contoso.com"


@pytest.fixture(scope="module")
def graph(sandbox: Sandbox) -> GraphClient:
    return GraphClient(sandbox, graph_token(sandbox))


@pytest.fixture
def fresh(fresh_sandbox: Sandbox, graph: GraphClient) -> GraphClient:
    """The client, against a tenant just reset to the demo seed."""
    return graph


# -- item 2: @odata.nextLink keeps every $filter literal -----------------------------------------
_NEEDLE = "a+b&c=d#e%20f ''q'' é?"
LITERAL_FILTERS = [
    "receivedDateTime ge 2000-01-01T00:00:00+00:00",
    "receivedDateTime lt 2100-01-01T00:00:00.000-05:00",
    "receivedDateTime ge 2000-01-01T00:00:00Z and receivedDateTime lt 2100-01-01",
    f"subject ne '{_NEEDLE}'",
    f"not startswith(subject,'{_NEEDLE}')",
    "isRead eq false or isRead eq true",
    "importance in ('low', 'normal', 'high')",
    f"not toRecipients/any(r: r/emailAddress/address eq '{_NEEDLE}')",
]


@pytest.mark.parametrize("expression", LITERAL_FILTERS)
def test_next_link_pages_with_every_literal_kind(graph: GraphClient, expression: str) -> None:
    params = {"$filter": expression, "$select": "id", "$top": "3"}
    whole = graph.ok("GET", f"{ALICE}/messages", params={**params, "$top": "1000"})["value"]
    assert len(whole) > 3, "the filter must match more than one page"
    first = graph.ok("GET", f"{ALICE}/messages", params=params)
    link = first["@odata.nextLink"]
    # A form decoder (as every client's URL parser) reads the link back to the same filter.
    assert dict(parse_qsl(urlsplit(link).query))["$filter"] == expression
    paged: list[dict[str, Any]] = list(first["value"])
    while link:
        page = graph.ok("GET", link)
        paged.extend(page["value"])
        link = page.get("@odata.nextLink")
    assert [m["id"] for m in paged] == [m["id"] for m in whole]


# -- item 5: folder creation and well-known names ------------------------------------------------
WELL_KNOWN = {
    "archive": "Archive",
    "clutter": "Clutter",
    "conflicts": "Conflicts",
    "conversationhistory": "Conversation History",
    "deleteditems": "Deleted Items",
    "drafts": "Drafts",
    "inbox": "Inbox",
    "junkemail": "Junk Email",
    "localfailures": "Local Failures",
    "msgfolderroot": "Top of Information Store",
    "outbox": "Outbox",
    "recoverableitemsdeletions": "Deletions",
    "recoverableitemsroot": "Recoverable Items",
    "scheduled": "Scheduled",
    "searchfolders": "Finder",
    "sentitems": "Sent Items",
    "serverfailures": "Server Failures",
    "syncissues": "Sync Issues",
}


@pytest.mark.parametrize("name", sorted(WELL_KNOWN))
def test_every_documented_well_known_folder_name(graph: GraphClient, name: str) -> None:
    folder = graph.ok("GET", f"{ALICE}/mailFolders/{name}")
    assert folder["displayName"] == WELL_KNOWN[name]
    assert graph.ok("GET", f"{ALICE}/mailFolders/{name.upper()}")["id"] == folder["id"]


def test_well_known_folders_nest_as_in_exchange(graph: GraphClient) -> None:
    sync = graph.ok("GET", f"{ALICE}/mailFolders/syncissues")
    children = graph.ok("GET", f"{ALICE}/mailFolders/syncissues/childFolders")["value"]
    assert {c["displayName"] for c in children} == {
        "Conflicts",
        "Local Failures",
        "Server Failures",
    }
    assert {c["parentFolderId"] for c in children} == {sync["id"]}
    root = graph.ok("GET", f"{ALICE}/mailFolders/msgfolderroot")
    top = graph.ok("GET", f"{ALICE}/mailFolders", params={"$top": "100"})["value"]
    names = {f["displayName"] for f in top}
    assert {"Inbox", "Clutter", "Conversation History", "Sync Issues"} <= names
    assert not names & {"Finder", "Recoverable Items", "Deletions", "Purges"}
    assert {f["parentFolderId"] for f in top} == {root["id"]}
    deletions = graph.ok("GET", f"{ALICE}/mailFolders/recoverableitemsdeletions")
    recoverable = graph.ok("GET", f"{ALICE}/mailFolders/recoverableitemsroot")
    assert deletions["parentFolderId"] == recoverable["id"]


def test_create_folder_and_child_folder(fresh: GraphClient) -> None:
    created = fresh.ok("POST", f"{ALICE}/mailFolders", 201, json={"displayName": "Quarantine"})
    assert created["@odata.context"].endswith("/mailFolders/$entity")
    assert created["displayName"] == "Quarantine" and created["childFolderCount"] == 0
    root = fresh.ok("GET", f"{ALICE}/mailFolders/msgfolderroot")
    assert created["parentFolderId"] == root["id"]
    child = fresh.ok(
        "POST",
        f"{ALICE}/mailFolders/{created['id']}/childFolders",
        201,
        json={"displayName": "2026", "isHidden": False},
    )
    assert child["parentFolderId"] == created["id"]
    assert "/childFolders/$entity" in child["@odata.context"]
    under_inbox = fresh.ok(
        "POST", f"{ALICE}/mailFolders/inbox/childFolders", 201, json={"displayName": "Vendors"}
    )
    assert fresh.ok("GET", f"{ALICE}/mailFolders/{under_inbox['id']}")["displayName"] == "Vendors"
    again = fresh.ok("GET", f"{ALICE}/mailFolders/{created['id']}")
    assert again["childFolderCount"] == 1
    # A message moved into the new folder is listed there.
    phish = fresh.phish()
    fresh.ok(
        "POST", f"{ALICE}/messages/{phish['id']}/move", 201, json={"destinationId": child["id"]}
    )
    listed = fresh.ok("GET", f"{ALICE}/mailFolders/{child['id']}/messages")["value"]
    assert [m["subject"] for m in listed] == [phish["subject"]]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"displayName": "inbox"}, 409, "ErrorFolderExists"),
        ({"displayName": "  "}, 400, "ErrorInvalidRequest"),
        ({}, 400, "ErrorInvalidRequest"),
        ({"displayName": "x", "colour": "red"}, 400, "BadRequest"),
    ],
)
def test_create_folder_errors(
    fresh: GraphClient, body: dict[str, Any], status: int, code: str
) -> None:
    assert_graph_error(fresh.post(f"{ALICE}/mailFolders", json=body), status, code)


def test_create_folder_needs_mail_readwrite(sandbox: Sandbox) -> None:
    reader = app_client(sandbox, ["Mail.Read"])
    assert_graph_error(
        reader.post(f"{ALICE}/mailFolders", json={"displayName": "Nope"}), 403, "ErrorAccessDenied"
    )


# -- item 6: $search quoting and word prefixes ---------------------------------------------------
def _found(graph: GraphClient, search: str, user: str = "bob@contoso.com") -> list[str]:
    params = {"$search": search, "$top": "100"}
    return [
        m["subject"] for m in graph.ok("GET", f"/users/{user}/messages", params=params)["value"]
    ]


@pytest.mark.parametrize(
    "search",
    [
        "\"'invoice'\"",
        "\"subject:'invoice'\"",
        "\"'overdue invoice'\"",
        '"invoi"',
        '"from:contoso-payments"',
        '"attachment:INV-20931"',
        '"\\"overdue invoice\\""',
    ],
)
def test_search_finds_words_by_their_start(graph: GraphClient, search: str) -> None:
    assert PHISH_SUBJECT in _found(graph, search)


@pytest.mark.parametrize("search", ['"voice"', '"subject:verdue"', '"from:ntoso-payments"'])
def test_search_does_not_match_inside_words(graph: GraphClient, search: str) -> None:
    assert PHISH_SUBJECT not in _found(graph, search)
