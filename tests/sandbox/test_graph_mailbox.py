"""Graph face: mail folders, contacts, mailbox settings (automatic replies) and
translateExchangeIds."""

from __future__ import annotations

from pathlib import Path

import pytest
from graph_support import GraphClient, assert_graph_error, graph_token, openapi

from exchange_sandbox.process import Sandbox

ALICE = "/users/alice@contoso.com"


@pytest.fixture(scope="module")
def graph(sandbox: Sandbox) -> GraphClient:
    return GraphClient(sandbox, graph_token(sandbox))


@pytest.fixture
def fresh(fresh_sandbox: Sandbox, graph: GraphClient) -> GraphClient:
    return graph


def test_mail_folders_and_well_known_names(graph: GraphClient, shared_dir: Path) -> None:
    page = graph.ok("GET", f"{ALICE}/mailFolders", params={"$top": "50"})
    openapi(shared_dir).validate("GET", "/users/{user-id}/mailFolders", page)
    names = {f["displayName"] for f in page["value"]}
    assert {"Inbox", "Sent Items", "Deleted Items", "Junk Email", "Drafts"} <= names
    assert "Deletions" not in names
    for name, display in (
        ("inbox", "Inbox"),
        ("junkemail", "Junk Email"),
        ("deleteditems", "Deleted Items"),
        ("recoverableitemsdeletions", "Deletions"),
        ("SentItems", "Sent Items"),
    ):
        folder = graph.ok("GET", f"{ALICE}/mailFolders/{name}")
        assert folder["displayName"] == display
        openapi(shared_dir).validate("GET", "/users/{user-id}/mailFolders/{mailFolder-id}", folder)
        assert graph.ok("GET", f"{ALICE}/mailFolders/{folder['id']}")["id"] == folder["id"]
    inbox = graph.ok("GET", f"{ALICE}/mailFolders/inbox")
    assert inbox["totalItemCount"] >= 1
    first = graph.ok("GET", f"{ALICE}/mailFolders", params={"$top": "2"})
    assert len(first["value"]) == 2 and "@odata.nextLink" in first
    assert_graph_error(graph.get(f"{ALICE}/mailFolders/nosuchname"), 404, "ErrorItemNotFound")
    assert_graph_error(graph.get(f"{ALICE}/mailFolders/@@@"), 400, "ErrorInvalidIdMalformed")


def test_child_folders(graph: GraphClient, shared_dir: Path) -> None:
    inbox = graph.ok("GET", f"{ALICE}/mailFolders/inbox")
    children = graph.ok("GET", f"{ALICE}/mailFolders/inbox/childFolders")
    openapi(shared_dir).validate(
        "GET", "/users/{user-id}/mailFolders/{mailFolder-id}/childFolders", children
    )
    assert len(children["value"]) == inbox["childFolderCount"]
    for child in children["value"]:
        assert child["parentFolderId"] == inbox["id"]
        nested = graph.ok("GET", f"{ALICE}/mailFolders/inbox/childFolders/{child['id']}")
        assert nested["displayName"] == child["displayName"]
        graph.ok("GET", f"{ALICE}/mailFolders/inbox/childFolders/{child['id']}/messages")


def test_contacts_list_filter_and_paging(graph: GraphClient, shared_dir: Path) -> None:
    page = graph.ok("GET", f"{ALICE}/contacts", params={"$top": "100"})
    openapi(shared_dir).validate("GET", "/users/{user-id}/contacts", page)
    contacts = page["value"]
    assert contacts and all(c["emailAddresses"] for c in contacts)
    first = contacts[0]
    one = graph.ok("GET", f"{ALICE}/contacts/{first['id']}")
    openapi(shared_dir).validate("GET", "/users/{user-id}/contacts/{contact-id}", one)
    assert one["displayName"] == first["displayName"]
    name = first["displayName"]
    filtered = graph.ok("GET", f"{ALICE}/contacts", params={"$filter": f"displayName eq '{name}'"})[
        "value"
    ]
    assert [c["id"] for c in filtered] == [first["id"]]
    prefix = graph.ok(
        "GET", f"{ALICE}/contacts", params={"$filter": f"startswith(displayName,'{name[:2]}')"}
    )["value"]
    assert first["id"] in [c["id"] for c in prefix]
    by_mail = graph.ok(
        "GET",
        f"{ALICE}/contacts",
        params={
            "$filter": "emailAddresses/any(a:a/address eq "
            f"'{first['emailAddresses'][0]['address']}')"
        },
    )["value"]
    assert first["id"] in [c["id"] for c in by_mail]
    if len(contacts) > 1:
        paged = graph.ok("GET", f"{ALICE}/contacts", params={"$top": "1"})
        assert len(paged["value"]) == 1 and "@odata.nextLink" in paged
    folders = graph.ok("GET", f"{ALICE}/contactFolders")
    assert isinstance(folders["value"], list)
    default = graph.ok("GET", f"{ALICE}/contactFolders/contacts/contacts", params={"$top": "100"})
    assert {c["id"] for c in default["value"]} == {c["id"] for c in contacts}
    assert_graph_error(
        graph.get("/users/carol@contoso.com/contacts/not-an-id"), 400, "ErrorInvalidIdMalformed"
    )


def test_mailbox_settings_and_automatic_replies(graph: GraphClient, shared_dir: Path) -> None:
    settings = graph.ok("GET", "/users/dave@contoso.com/mailboxSettings")
    openapi(shared_dir).validate("GET", "/users/{user-id}/mailboxSettings", settings)
    replies = settings["automaticRepliesSetting"]
    assert replies["status"] == "scheduled"
    assert replies["scheduledStartDateTime"]["timeZone"] == "UTC"
    alone = graph.ok("GET", "/users/dave@contoso.com/mailboxSettings/automaticRepliesSetting")
    openapi(shared_dir).validate(
        "GET", "/users/{user-id}/mailboxSettings/automaticRepliesSetting", alone
    )
    assert alone["internalReplyMessage"] == replies["internalReplyMessage"]
    alice = graph.ok("GET", f"{ALICE}/mailboxSettings")
    zone = graph.ok("GET", f"{ALICE}/mailboxSettings/timeZone")
    assert zone["value"] == alice["timeZone"]
    hours = graph.ok("GET", f"{ALICE}/mailboxSettings/workingHours")
    assert hours["daysOfWeek"] == alice["workingHours"]["daysOfWeek"]


def test_patch_mailbox_settings(fresh: GraphClient, shared_dir: Path) -> None:
    updated = fresh.ok(
        "PATCH",
        f"{ALICE}/mailboxSettings",
        json={
            "automaticRepliesSetting": {
                "status": "Scheduled",
                "externalAudience": "contactsOnly",
                "internalReplyMessage": "Back Monday",
                "scheduledStartDateTime": {
                    "dateTime": "2030-03-20T18:00:00.0000000",
                    "timeZone": "UTC",
                },
                "scheduledEndDateTime": {
                    "dateTime": "2030-03-28T18:00:00.0000000",
                    "timeZone": "UTC",
                },
            },
            "timeZone": "W. Europe Standard Time",
        },
    )
    openapi(shared_dir).validate("PATCH", "/users/{user-id}/mailboxSettings", updated)
    assert set(updated) == {"@odata.context", "automaticRepliesSetting", "timeZone"}
    replies = fresh.ok("GET", f"{ALICE}/mailboxSettings/automaticRepliesSetting")
    assert replies["status"] == "scheduled" and replies["externalAudience"] == "contactsOnly"
    assert replies["scheduledEndDateTime"]["dateTime"].startswith("2030-03-28T18:00:00")
    assert fresh.ok("GET", f"{ALICE}/mailboxSettings")["timeZone"] == "W. Europe Standard Time"
    invalid = fresh.patch(
        f"{ALICE}/mailboxSettings", json={"automaticRepliesSetting": {"status": "sometimes"}}
    )
    assert_graph_error(invalid, 400, "ErrorInvalidRequest")
    unscheduled = fresh.patch(
        "/users/bob@contoso.com/mailboxSettings",
        json={"automaticRepliesSetting": {"status": "scheduled"}},
    )
    assert_graph_error(unscheduled, 400, "ErrorInvalidRequest")


def test_translate_exchange_ids(graph: GraphClient) -> None:
    phish = graph.phish()
    ews = graph.ok(
        "POST",
        f"{ALICE}/translateExchangeIds",
        json={"inputIds": [phish["id"]], "sourceIdType": "restId", "targetIdType": "ewsId"},
    )["value"][0]
    assert ews["sourceId"] == phish["id"]
    assert ews["targetId"] == phish["id"].replace("-", "/").replace("_", "+")
    back = graph.ok(
        "POST",
        f"{ALICE}/translateExchangeIds",
        json={
            "inputIds": [ews["targetId"], "junk"],
            "sourceIdType": "ewsId",
            "targetIdType": "restImmutableEntryId",
        },
    )["value"]
    immutable = back[0]["targetId"]
    assert immutable != phish["id"]  # the default id also names the folder; this one does not
    assert back[1]["errorDetails"]["code"] == "ErrorInvalidIdMalformed"
    by_immutable = graph.get(
        f"{ALICE}/messages/{immutable}", headers={"Prefer": 'IdType="ImmutableId"'}
    )
    assert by_immutable.json()["id"] == immutable
    assert graph.ok("GET", f"{ALICE}/messages/{immutable}")["id"] == phish["id"]
    current = graph.ok(
        "POST",
        f"{ALICE}/translateExchangeIds",
        json={
            "inputIds": [immutable],
            "sourceIdType": "restImmutableEntryId",
            "targetIdType": "restId",
        },
    )["value"][0]
    assert current["targetId"] == phish["id"]
    unsupported = graph.post(
        f"{ALICE}/translateExchangeIds",
        json={"inputIds": [phish["id"]], "sourceIdType": "restId", "targetIdType": "entryId"},
    )
    assert_graph_error(unsupported, 400, "ErrorInvalidRequest")
