"""Graph face: users and messages — list, $filter, $search, $select, paging, $value, errors."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from graph_support import (
    PHISH_SENDER,
    PHISH_SUBJECT,
    GraphClient,
    assert_graph_error,
    graph_token,
    openapi,
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


# -- users -------------------------------------------------------------------------------------
def test_users_list_select_filter_and_paging(graph: GraphClient, shared_dir: Path) -> None:
    page = graph.ok("GET", "/users")
    openapi(shared_dir).validate("GET", "/users", page)
    mails = {u["mail"] for u in page["value"]}
    assert {"alice@contoso.com", "soc@contoso.com", "room-boardroom@contoso.com"} <= mails

    chosen = graph.ok("GET", "/users", params={"$select": "displayName,mail", "$top": "2"})
    assert len(chosen["value"]) == 2
    assert set(chosen["value"][0]) == {"displayName", "mail", "id"}
    following = graph.ok("GET", chosen["@odata.nextLink"])
    assert {u["mail"] for u in following["value"]}.isdisjoint({u["mail"] for u in chosen["value"]})

    bob = graph.ok("GET", "/users", params={"$filter": "mail eq 'BOB@contoso.com'"})["value"]
    assert [u["userPrincipalName"] for u in bob] == ["bob@contoso.com"]
    counted = graph.ok(
        "GET", "/users", params={"$filter": "startswith(displayName,'a')", "$count": "true"}
    )
    assert counted["@odata.count"] == len(counted["value"]) >= 1


def test_user_get_by_upn_and_id(graph: GraphClient) -> None:
    alice = graph.ok("GET", ALICE)
    assert alice["mail"] == "alice@contoso.com"
    assert graph.ok("GET", f"/users/{alice['id']}")["userPrincipalName"] == "alice@contoso.com"
    assert_graph_error(graph.get("/users/ghost@contoso.com"), 404, "Request_ResourceNotFound")


# -- listing and paging ------------------------------------------------------------------------
def test_list_messages_pages_with_absolute_next_links(
    graph: GraphClient, sandbox: Sandbox, shared_dir: Path
) -> None:
    first = graph.ok("GET", f"{ALICE}/messages", params={"$top": "5", "$count": "true"})
    openapi(shared_dir).validate("GET", "/users/{user-id}/messages", first)
    assert first["@odata.context"].startswith(f"{sandbox.info['graph_url']}/v1.0/$metadata#")
    assert len(first["value"]) == 5
    assert first["@odata.nextLink"].startswith(f"{sandbox.info['graph_url']}/v1.0/users/")
    assert "$skiptoken=" in first["@odata.nextLink"]
    everything = graph.messages("alice@contoso.com", "?$top=5&$select=id,receivedDateTime")
    assert len(everything) == first["@odata.count"]
    assert len({m["id"] for m in everything}) == len(everything)
    received = [m["receivedDateTime"] for m in everything]
    assert received == sorted(received, reverse=True)
    count = graph.get(f"{ALICE}/messages/$count")
    assert count.status_code == 200 and int(count.text) == len(everything)


def test_default_page_is_ten_and_message_shape(graph: GraphClient) -> None:
    page = graph.ok("GET", f"{ALICE}/messages")
    assert len(page["value"]) == 10
    message = page["value"][0]
    for key in (
        "@odata.etag", "id", "createdDateTime", "lastModifiedDateTime", "changeKey",
        "categories", "receivedDateTime", "sentDateTime", "hasAttachments",
        "internetMessageId", "subject", "bodyPreview", "importance", "parentFolderId",
        "conversationId", "isRead", "isDraft", "webLink", "body", "sender", "from",
        "toRecipients", "ccRecipients", "bccRecipients", "replyTo", "flag",
    ):  # fmt: skip
        assert key in message, key
    assert "internetMessageHeaders" not in message
    assert message["body"]["contentType"] in ("html", "text")


def test_folder_messages_by_well_known_name(graph: GraphClient) -> None:
    inbox = graph.ok("GET", f"{ALICE}/mailFolders/inbox")
    listed = graph.ok("GET", f"{ALICE}/mailFolders/inbox/messages", params={"$top": "50"})
    assert listed["value"]
    assert {m["parentFolderId"] for m in listed["value"]} == {inbox["id"]}
    by_id = graph.ok("GET", f"{ALICE}/mailFolders/{inbox['id']}/messages", params={"$top": "50"})
    assert [m["id"] for m in by_id["value"]] == [m["id"] for m in listed["value"]]


# -- $filter -----------------------------------------------------------------------------------
def _subjects(graph: GraphClient, user: str, **params: str) -> list[str]:
    params.setdefault("$top", "100")
    return [
        m["subject"] for m in graph.ok("GET", f"/users/{user}/messages", params=params)["value"]
    ]


def test_filter_by_sender_subject_and_flags(graph: GraphClient) -> None:
    by_from = _subjects(
        graph, "bob@contoso.com", **{"$filter": f"from/emailAddress/address eq '{PHISH_SENDER}'"}
    )
    assert by_from == [PHISH_SUBJECT]
    assert _subjects(
        graph, "bob@contoso.com", **{"$filter": f"sender/emailAddress/address eq '{PHISH_SENDER}'"}
    ) == [PHISH_SUBJECT]
    assert _subjects(graph, "bob@contoso.com", **{"$filter": f"subject eq '{PHISH_SUBJECT}'"}) == [
        PHISH_SUBJECT
    ]
    assert PHISH_SUBJECT in _subjects(
        graph, "carol@contoso.com", **{"$filter": "startswith(subject,'action required')"}
    )
    assert PHISH_SUBJECT in _subjects(
        graph, "carol@contoso.com", **{"$filter": "contains(subject,'INV-20931')"}
    )
    with_files = graph.ok(
        "GET", f"{ALICE}/messages", params={"$filter": "hasAttachments eq true", "$top": "100"}
    )["value"]
    assert with_files and all(m["hasAttachments"] for m in with_files)
    unread = graph.ok("GET", f"{ALICE}/messages", params={"$filter": "isRead eq false"})["value"]
    assert all(not m["isRead"] for m in unread)
    high = graph.ok("GET", f"{ALICE}/messages", params={"$filter": "importance eq 'high'"})
    assert all(m["importance"] == "high" for m in high["value"])


def test_filter_by_internet_message_id_and_combinations(graph: GraphClient) -> None:
    imid = "<inv-20931-alice@contoso-payments.com>"
    found = graph.ok(
        "GET", f"{ALICE}/messages", params={"$filter": f"internetMessageId eq '{imid}'"}
    )["value"]
    assert [m["internetMessageId"] for m in found] == [imid]
    combined = _subjects(
        graph,
        "alice@contoso.com",
        **{
            "$filter": f"(from/emailAddress/address eq '{PHISH_SENDER}' or isRead eq false) "
            "and not (hasAttachments eq false)"
        },
    )
    assert PHISH_SUBJECT in combined
    nobody = _subjects(
        graph,
        "alice@contoso.com",
        **{"$filter": f"from/emailAddress/address eq '{PHISH_SENDER}' and isDraft eq true"},
    )
    assert nobody == []


def test_filter_by_received_date_range(graph: GraphClient) -> None:
    every = graph.messages("alice@contoso.com", "?$top=100&$select=receivedDateTime")
    stamps = sorted(m["receivedDateTime"] for m in every)
    middle = stamps[len(stamps) // 2]
    newer = graph.messages(
        "alice@contoso.com",
        f"?$top=100&$select=receivedDateTime&$filter=receivedDateTime ge {middle}",
    )
    older = graph.messages(
        "alice@contoso.com",
        f"?$top=100&$select=receivedDateTime&$filter=receivedDateTime lt {middle}",
    )
    assert len(newer) + len(older) == len(every)
    assert all(m["receivedDateTime"] >= middle for m in newer)
    ordered = graph.ok(
        "GET",
        f"{ALICE}/messages",
        params={
            "$filter": f"receivedDateTime gt {stamps[0]}",
            "$orderby": "receivedDateTime asc",
            "$select": "receivedDateTime",
            "$top": "100",
        },
    )["value"]
    assert [m["receivedDateTime"] for m in ordered] == stamps[1:]


def test_filter_recipient_lambda(graph: GraphClient) -> None:
    found = graph.ok(
        "GET",
        "/users/soc@contoso.com/messages",
        params={"$filter": "toRecipients/any(r:r/emailAddress/address eq 'soc@contoso.com')"},
    )["value"]
    assert any(m["subject"] == f"FW: {PHISH_SUBJECT}" for m in found)


@pytest.mark.parametrize(
    "expression",
    [
        "subject eq",
        "subject eq 'unterminated",
        "nosuchproperty eq 'x'",
        "receivedDateTime ge 'yesterday'",
        "isRead eq 'yes'",
        "(isRead eq true",
        "endswith(subject,'x')",
    ],
)
def test_bad_filter_is_400_invalid_filter_clause(graph: GraphClient, expression: str) -> None:
    error = assert_graph_error(
        graph.get(f"{ALICE}/messages", params={"$filter": expression}), 400, "BadRequest"
    )
    assert error["message"].startswith("Invalid filter clause")


def test_orderby_must_lead_the_filter(graph: GraphClient) -> None:
    response = graph.get(
        f"{ALICE}/messages", params={"$filter": "isRead eq false", "$orderby": "subject"}
    )
    assert_graph_error(response, 400, "InefficientFilter")


# -- $search -----------------------------------------------------------------------------------
def test_search_kql(graph: GraphClient) -> None:
    assert PHISH_SUBJECT in _subjects(graph, "bob@contoso.com", **{"$search": '"INV-20931"'})
    assert PHISH_SUBJECT in _subjects(
        graph, "bob@contoso.com", **{"$search": f'"from:{PHISH_SENDER}"'}
    )
    assert PHISH_SUBJECT in _subjects(
        graph, "bob@contoso.com", **{"$search": '"subject:overdue AND attachment:INV-20931.zip"'}
    )
    assert _subjects(graph, "bob@contoso.com", **{"$search": '"zzzz-no-such-word"'}) == []
    bare = _subjects(graph, "bob@contoso.com", **{"$search": "invoice"})
    assert PHISH_SUBJECT in bare


def test_search_pages_with_skiptoken(graph: GraphClient) -> None:
    first = graph.ok("GET", f"{ALICE}/messages", params={"$search": '"contoso"', "$top": "2"})
    assert len(first["value"]) == 2 and "$skiptoken=" in first["@odata.nextLink"]
    second = graph.ok("GET", first["@odata.nextLink"])
    assert {m["id"] for m in first["value"]}.isdisjoint({m["id"] for m in second["value"]})


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"$search": '"invoice"', "$filter": "isRead eq true"}, "ErrorInvalidUrlQuery"),
        ({"$search": '"invoice"', "$orderby": "receivedDateTime desc"}, "ErrorInvalidUrlQuery"),
        ({"$search": '"invoice"', "$skip": "5"}, "ErrorInvalidUrlQuery"),
        ({"$search": "from:billing"}, "BadRequest"),
        ({"$search": '"unterminated'}, "BadRequest"),
        ({"$top": "0"}, "ErrorInvalidUrlQuery"),
        ({"$top": "1001"}, "ErrorInvalidUrlQuery"),
        ({"$top": "many"}, "BadRequest"),
        ({"$select": "subject,nosuch"}, "RequestBroker--ParseUri"),
        ({"$skiptoken": "garbage!"}, "BadRequest"),
    ],
)
def test_query_option_rules(graph: GraphClient, params: dict[str, str], code: str) -> None:
    assert_graph_error(graph.get(f"{ALICE}/messages", params=params), 400, code)


def test_top_upper_bound_accepted(graph: GraphClient) -> None:
    assert graph.get(f"{ALICE}/messages", params={"$top": "1000"}).status_code == 200


# -- one message -------------------------------------------------------------------------------
def test_get_message_select_headers_and_etag(graph: GraphClient, shared_dir: Path) -> None:
    phish = graph.phish()
    full = graph.ok("GET", f"{ALICE}/messages/{phish['id']}")
    openapi(shared_dir).validate("GET", "/users/{user-id}/messages/{message-id}", full)
    assert full["@odata.context"].endswith("/messages/$entity")
    assert full["@odata.etag"] == f'W/"{full["changeKey"]}"'
    assert full["from"]["emailAddress"]["address"] == PHISH_SENDER
    assert full["body"]["contentType"] == "html" and "<a " in full["body"]["content"]
    headers = graph.ok(
        "GET", f"{ALICE}/messages/{phish['id']}", params={"$select": "internetMessageHeaders"}
    )
    assert set(headers) == {"@odata.context", "@odata.etag", "id", "internetMessageHeaders"}
    names = {h["name"].lower() for h in headers["internetMessageHeaders"]}
    assert {"from", "subject", "message-id"} <= names
    under_folder = graph.ok("GET", f"{ALICE}/mailFolders/inbox/messages/{phish['id']}")
    assert under_folder["id"] == phish["id"]


def test_prefer_text_body_and_immutable_ids(graph: GraphClient) -> None:
    phish = graph.phish()
    response = graph.get(
        f"{ALICE}/messages/{phish['id']}",
        params={"$select": "body,subject"},
        headers={"Prefer": 'outlook.body-content-type="text", IdType="ImmutableId"'},
    )
    assert response.status_code == 200
    applied = response.headers["Preference-Applied"]
    assert 'IdType="ImmutableId"' in applied and 'outlook.body-content-type="text"' in applied
    body = response.json()["body"]
    assert body["contentType"] == "text" and "<" not in body["content"]
    assert "INV-20931" in body["content"]
    immutable = response.json()["id"]
    assert immutable != phish["id"]
    # The immutable id survives a move; the default id does not.
    moved = graph.ok(
        "POST", f"{ALICE}/messages/{immutable}/move", 201, json={"destinationId": "archive"}
    )
    assert moved["id"] not in (phish["id"], immutable)
    assert graph.get(f"{ALICE}/messages/{phish['id']}").status_code == 404
    again = graph.get(f"{ALICE}/messages/{immutable}", headers={"Prefer": 'IdType="ImmutableId"'})
    assert again.status_code == 200 and again.json()["id"] == immutable
    graph.ok("POST", f"{ALICE}/messages/{immutable}/move", 201, json={"destinationId": "inbox"})


def test_mime_value_streams_the_message(graph: GraphClient) -> None:
    phish = graph.phish()
    response = graph.get(f"{ALICE}/messages/{phish['id']}/$value", stream=True)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    raw = b"".join(response.iter_content(8192))
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == PHISH_SUBJECT
    assert parsed["Message-ID"] == "<inv-20931-alice@contoso-payments.com>"
    names = {part.get_filename() for part in parsed.iter_attachments()}
    assert {"INV-20931.pdf", "INV-20931.zip"} <= names


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        (f"{ALICE}/messages/not-an-id", 400, "ErrorInvalidIdMalformed"),
        (f"{ALICE}/messages/AAMkAAAAAQAAAAAAAAAAAAAAAAAAAAA=", 404, "ErrorItemNotFound"),
        ("/users/ghost@contoso.com/messages", 404, "ErrorInvalidUser"),
        ("/me/messages", 400, "BadRequest"),
        (f"{ALICE}/mailFolders/nosuchfolder/messages", 404, "ErrorItemNotFound"),
    ],
)
def test_not_found_and_malformed(graph: GraphClient, path: str, status: int, code: str) -> None:
    assert_graph_error(graph.get(path), status, code)


def test_message_of_another_mailbox_is_refused(graph: GraphClient) -> None:
    bobs = graph.phish("bob@contoso.com")
    assert_graph_error(
        graph.get(f"{ALICE}/messages/{bobs['id']}"), 400, "ErrorInvalidMailboxItemId"
    )


# -- writes ------------------------------------------------------------------------------------
def test_patch_and_delete_message(fresh: GraphClient, shared_dir: Path) -> None:
    phish = fresh.phish()
    updated = fresh.ok(
        "PATCH",
        f"{ALICE}/messages/{phish['id']}",
        json={"isRead": False, "categories": ["Phishing"], "importance": "low"},
    )
    openapi(shared_dir).validate("PATCH", "/users/{user-id}/messages/{message-id}", updated)
    assert (updated["isRead"], updated["categories"], updated["importance"]) == (
        False,
        ["Phishing"],
        "low",
    )
    assert updated["changeKey"] != phish["changeKey"]
    assert_graph_error(
        fresh.patch(f"{ALICE}/messages/{phish['id']}", json={"nosuch": 1}), 400, "RequestBodyRead"
    )
    assert fresh.delete(f"{ALICE}/messages/{phish['id']}").status_code == 204
    deleted = fresh.ok("GET", f"{ALICE}/mailFolders/deleteditems/messages")["value"]
    [trashed] = [m for m in deleted if m["internetMessageId"] == phish["internetMessageId"]]
    assert trashed["id"] != phish["id"]  # a move to Deleted Items changes the id
    assert fresh.delete(f"{ALICE}/messages/{phish['id']}").status_code == 404
    assert fresh.delete(f"{ALICE}/messages/{trashed['id']}").status_code == 204
    purged = fresh.ok("GET", f"{ALICE}/mailFolders/recoverableitemsdeletions/messages")["value"]
    assert phish["internetMessageId"] in [m["internetMessageId"] for m in purged]
    visible = fresh.messages("alice@contoso.com", "?$top=100&$select=internetMessageId")
    assert phish["internetMessageId"] not in {m["internetMessageId"] for m in visible}


def test_create_draft_from_json_and_from_mime(fresh: GraphClient, shared_dir: Path) -> None:
    draft = fresh.ok(
        "POST",
        f"{ALICE}/messages",
        201,
        json={
            "subject": "Quarterly numbers",
            "importance": "High",
            "body": {"contentType": "HTML", "content": "<p>see attached</p>"},
            "toRecipients": [{"emailAddress": {"address": "bob@contoso.com"}}],
            "internetMessageHeaders": [{"name": "x-case-id", "value": "42"}],
        },
    )
    openapi(shared_dir).validate("POST", "/users/{user-id}/messages", draft)
    assert draft["isDraft"] and draft["importance"] == "high"
    drafts = fresh.ok("GET", f"{ALICE}/mailFolders/drafts")
    assert draft["parentFolderId"] == drafts["id"]

    import base64

    mime = (
        b"From: Alice <alice@contoso.com>\r\nTo: carol@contoso.com\r\n"
        b"Subject: Imported\r\nMessage-ID: <imported-1@contoso.com>\r\n\r\nbody\r\n"
    )
    imported = fresh.ok(
        "POST",
        f"{ALICE}/mailFolders/archive/messages",
        201,
        data=base64.b64encode(mime),
        headers={"Content-Type": "text/plain"},
    )
    assert imported["internetMessageId"] == "<imported-1@contoso.com>"
    assert imported["parentFolderId"] == fresh.ok("GET", f"{ALICE}/mailFolders/archive")["id"]
    bad = fresh.post(f"{ALICE}/messages", data="%%%", headers={"Content-Type": "text/plain"})
    assert_graph_error(bad, 400, "ErrorMimeContentInvalidBase64String")
    header_error = fresh.post(
        f"{ALICE}/messages",
        json={"subject": "x", "internetMessageHeaders": [{"name": "Subject", "value": "y"}]},
    )
    assert_graph_error(header_error, 400, "InvalidInternetMessageHeader")


def test_request_log_names_routes_and_mailbox(fresh_sandbox: Sandbox, graph: GraphClient) -> None:
    phish = graph.phish()
    graph.get(f"{ALICE}/messages/{phish['id']}/$value").raise_for_status()
    entries = [e for e in fresh_sandbox.requests() if e["path"].startswith("/v1.0/")]
    last = entries[-1]
    assert last["operation"] == "GET /users/{id}/messages/{id}/$value"
    assert last["mailbox"] == "alice@contoso.com"
    assert last["app"] == fresh_sandbox.app("full")["client_id"]
    assert last["status"] == 200


def test_received_timestamps_are_graph_format(graph: GraphClient) -> None:
    message = graph.ok("GET", f"{ALICE}/messages", params={"$top": "1"})["value"][0]
    parsed: Any = dt.datetime.strptime(message["receivedDateTime"], "%Y-%m-%dT%H:%M:%SZ")
    assert parsed.year >= 2020


def test_expand_attachments_on_messages(graph: GraphClient) -> None:
    found = graph.ok(
        "GET",
        "/users/bob@contoso.com/messages",
        params={
            "$filter": f"subject eq '{PHISH_SUBJECT}'",
            "$select": "subject",
            "$expand": "attachments($select=name,size)",
        },
    )["value"]
    names = {a["name"] for a in found[0]["attachments"]}
    assert {"INV-20931.pdf", "INV-20931.zip", "remittance.html"} <= names
    assert all("contentBytes" not in a and a["size"] > 0 for a in found[0]["attachments"])
    full = graph.ok(
        "GET",
        f"/users/bob@contoso.com/messages/{found[0]['id']}",
        params={"$expand": "attachments"},
    )
    pdf = next(a for a in full["attachments"] if a["name"] == "INV-20931.pdf")
    assert pdf["contentBytes"]
    bad = graph.get(f"{ALICE}/messages", params={"$expand": "extensions"})
    assert_graph_error(bad, 400, "BadRequest")


def test_message_size_through_extended_property(graph: GraphClient) -> None:
    phish = graph.phish()
    found = graph.ok(
        "GET",
        f"{ALICE}/messages/{phish['id']}",
        params={
            "$select": "subject",
            "$expand": "singleValueExtendedProperties($filter=id eq 'Integer 0x0E08')",
        },
    )
    [size] = found["singleValueExtendedProperties"]
    mime = graph.get(f"{ALICE}/messages/{phish['id']}/$value").content
    assert size["id"] == "Integer 0xe08" and int(size["value"]) == len(mime)
    other = graph.ok(
        "GET",
        f"{ALICE}/messages/{phish['id']}",
        params={"$expand": "singleValueExtendedProperties($filter=id eq 'String 0x1000')"},
    )
    assert other["singleValueExtendedProperties"] == []


def test_messages_span_a_folder_made_after_an_earlier_listing(fresh: GraphClient) -> None:
    # The folders /messages spans are kept between writes: a new folder must join them.
    phish = fresh.phish()
    wanted = f"?$filter=internetMessageId eq '{phish['internetMessageId']}'&$select=parentFolderId"
    [before] = fresh.messages("alice@contoso.com", wanted)
    cases = fresh.ok(
        "POST", f"{ALICE}/mailFolders/inbox/childFolders", 201, json={"displayName": "Cases"}
    )
    fresh.ok(
        "POST", f"{ALICE}/messages/{phish['id']}/move", 201, json={"destinationId": cases["id"]}
    )
    [after] = fresh.messages("alice@contoso.com", wanted)
    assert before["parentFolderId"] != cases["id"] == after["parentFolderId"]
