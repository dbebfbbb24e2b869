"""Graph face: copy, move, delete, junk, drafts, replies, forwards, sendMail, and delivery inside
the tenant (Inbox, inbox rules, blocked senders, Sent Items)."""

from __future__ import annotations

import base64
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from graph_support import (
    PHISH_SENDER,
    PHISH_SUBJECT,
    GraphClient,
    app_client,
    assert_graph_error,
    graph_token,
    openapi,
)

from exchange_sandbox.process import Sandbox

ALICE = "/users/alice@contoso.com"
ITEM = "/users/{user-id}/messages/{message-id}"


@pytest.fixture
def graph(fresh_sandbox: Sandbox) -> GraphClient:
    return GraphClient(fresh_sandbox, graph_token(fresh_sandbox))


def _folder_subjects(graph: GraphClient, user: str, folder: str) -> list[str]:
    page = graph.ok("GET", f"/users/{user}/mailFolders/{folder}/messages", params={"$top": "100"})
    return [m["subject"] for m in page["value"]]


def test_copy_and_move_by_well_known_name(graph: GraphClient, shared_dir: Path) -> None:
    phish = graph.phish()
    copy = graph.ok(
        "POST", f"{ALICE}/messages/{phish['id']}/copy", 201, json={"destinationId": "archive"}
    )
    openapi(shared_dir).validate("POST", f"{ITEM}/copy", copy)
    archive = graph.ok("GET", f"{ALICE}/mailFolders/archive")
    assert copy["id"] != phish["id"] and copy["parentFolderId"] == archive["id"]
    assert copy["internetMessageId"] == phish["internetMessageId"]
    junk = graph.ok("GET", f"{ALICE}/mailFolders/junkemail")
    moved = graph.ok(
        "POST", f"{ALICE}/messages/{phish['id']}/move", 201, json={"DestinationId": junk["id"]}
    )
    openapi(shared_dir).validate("POST", f"{ITEM}/move", moved)
    # A move gives the message a new (default) id; the one from before names nothing now.
    assert moved["id"] != phish["id"] and moved["parentFolderId"] == junk["id"]
    assert_graph_error(graph.get(f"{ALICE}/messages/{phish['id']}"), 404, "ErrorItemNotFound")
    assert graph.ok("GET", f"{ALICE}/messages/{moved['id']}")["subject"] == PHISH_SUBJECT
    assert PHISH_SUBJECT not in _folder_subjects(graph, "alice@contoso.com", "inbox")
    missing = graph.post(f"{ALICE}/messages/{moved['id']}/move", json={})
    assert_graph_error(missing, 400, "ErrorInvalidParameter")
    nowhere = graph.post(
        f"{ALICE}/messages/{moved['id']}/move", json={"destinationId": "nosuchfolder"}
    )
    assert_graph_error(nowhere, 404, "ErrorItemNotFound")


def test_permanent_delete_puts_it_out_of_reach(graph: GraphClient) -> None:
    phish = graph.phish()
    assert graph.post(f"{ALICE}/messages/{phish['id']}/permanentDelete").status_code == 204
    assert_graph_error(graph.get(f"{ALICE}/messages/{phish['id']}"), 404, "ErrorItemNotFound")
    assert phish["id"] not in {m["id"] for m in graph.messages("alice@contoso.com", "?$top=100")}
    deletions = graph.ok("GET", f"{ALICE}/mailFolders/recoverableitemsdeletions/messages")
    assert phish["id"] not in {m["id"] for m in deletions["value"]}
    hidden = graph.get(f"{ALICE}/mailFolders/recoverableitemspurges")
    assert_graph_error(hidden, 404, "ErrorItemNotFound")


def test_mark_as_junk_is_beta_only(graph: GraphClient, fresh_sandbox: Sandbox) -> None:
    phish = graph.phish()
    v1 = graph.post(f"{ALICE}/messages/{phish['id']}/markAsJunk", json={"moveToJunk": True})
    assert_graph_error(v1, 400, "BadRequest")
    beta = GraphClient(fresh_sandbox, graph_token(fresh_sandbox), version="beta")
    response = beta.post(f"{ALICE}/messages/{phish['id']}/markAsJunk", json={"moveToJunk": True})
    assert response.status_code == 202
    junk = graph.ok("GET", f"{ALICE}/mailFolders/junkemail")
    assert response.json()["parentFolderId"] == junk["id"]
    # The sender is now blocked: new mail from it lands in Junk Email.
    spoof = base64.b64encode(
        f"From: {PHISH_SENDER}\r\nTo: alice@contoso.com\r\nSubject: again\r\n\r\nx\r\n".encode()
    )
    graph.ok("POST", f"{ALICE}/sendMail", 202, data=spoof, headers={"Content-Type": "text/plain"})
    assert "again" in _folder_subjects(graph, "alice@contoso.com", "junkemail")
    junked = response.json()["id"]  # the move to Junk Email gave it a new id
    assert junked != phish["id"]
    back = beta.post(f"{ALICE}/messages/{junked}/markAsNotJunk", json={"moveToInbox": True})
    assert back.status_code == 202
    assert PHISH_SUBJECT in _folder_subjects(graph, "alice@contoso.com", "inbox")


def test_create_reply_and_send_delivers_in_tenant(graph: GraphClient, shared_dir: Path) -> None:
    report = graph.ok(
        "GET",
        "/users/soc@contoso.com/messages",
        params={"$filter": f"subject eq 'FW: {PHISH_SUBJECT}'"},
    )["value"][0]
    draft = graph.ok(
        "POST",
        f"/users/soc@contoso.com/messages/{report['id']}/createReply",
        201,
        json={"comment": "Thanks, we are on it."},
    )
    openapi(shared_dir).validate("POST", f"{ITEM}/createReply", draft)
    assert draft["isDraft"] and draft["subject"] == f"RE: FW: {PHISH_SUBJECT}"
    assert [r["emailAddress"]["address"] for r in draft["toRecipients"]] == ["alice@contoso.com"]
    mime = graph.get(f"/users/soc@contoso.com/messages/{draft['id']}/$value").content
    parsed = message_from_bytes(mime, policy=policy.default)
    assert parsed["In-Reply-To"] == report["internetMessageId"]
    assert report["internetMessageId"] in parsed["References"]
    assert "Thanks, we are on it." in draft["body"]["content"]
    sent = graph.post(f"/users/soc@contoso.com/messages/{draft['id']}/send")
    assert sent.status_code == 202 and not sent.content
    assert f"RE: FW: {PHISH_SUBJECT}" in _folder_subjects(graph, "alice@contoso.com", "inbox")
    sent_items = graph.ok("GET", "/users/soc@contoso.com/mailFolders/sentitems/messages")
    # Sending moves the draft to Sent Items: same message, new id; the draft's id is gone.
    mine = next(
        m for m in sent_items["value"] if m["internetMessageId"] == draft["internetMessageId"]
    )
    assert mine["isDraft"] is False and mine["id"] != draft["id"]
    again = graph.post(f"/users/soc@contoso.com/messages/{mine['id']}/send")
    assert_graph_error(again, 400, "ErrorInvalidRequest")
    gone = graph.post(f"/users/soc@contoso.com/messages/{draft['id']}/send")
    assert_graph_error(gone, 404, "ErrorItemNotFound")


def test_reply_all_and_forward(graph: GraphClient) -> None:
    phish = graph.phish("bob@contoso.com")
    draft = graph.ok(
        "POST", f"/users/bob@contoso.com/messages/{phish['id']}/createReplyAll", 201, json={}
    )
    addresses = {r["emailAddress"]["address"] for r in draft["toRecipients"]}
    assert PHISH_SENDER in addresses and "bob@contoso.com" not in addresses
    forward = graph.ok(
        "POST",
        f"/users/bob@contoso.com/messages/{phish['id']}/createForward",
        201,
        json={"toRecipients": [{"emailAddress": {"address": "soc@contoso.com"}}]},
    )
    assert forward["subject"] == f"FW: {PHISH_SUBJECT}" and forward["hasAttachments"]
    sent = graph.post(
        f"/users/bob@contoso.com/messages/{phish['id']}/forward",
        json={
            "comment": "Reported",
            "toRecipients": [{"emailAddress": {"address": "soc@contoso.com"}}],
        },
    )
    assert sent.status_code == 202
    soc = graph.ok(
        "GET",
        "/users/soc@contoso.com/mailFolders/inbox/messages",
        params={"$filter": "from/emailAddress/address eq 'bob@contoso.com'"},
    )["value"]
    assert any(m["subject"] == f"FW: {PHISH_SUBJECT}" and m["hasAttachments"] for m in soc)
    assert f"FW: {PHISH_SUBJECT}" in _folder_subjects(graph, "bob@contoso.com", "sentitems")
    nobody = graph.post(f"/users/bob@contoso.com/messages/{phish['id']}/forward", json={})
    assert_graph_error(nobody, 400, "ErrorInvalidRecipients")
    replied = graph.post(
        f"/users/bob@contoso.com/messages/{phish['id']}/reply", json={"comment": "no"}
    )
    assert replied.status_code == 202
    assert f"RE: {PHISH_SUBJECT}" in _folder_subjects(graph, "bob@contoso.com", "sentitems")


def test_send_mail_json_with_attachment(graph: GraphClient) -> None:
    response = graph.post(
        f"{ALICE}/sendMail",
        json={
            "message": {
                "subject": "Incident 7 summary",
                "body": {"contentType": "HTML", "content": "<p>Summary</p>"},
                "toRecipients": [{"emailAddress": {"address": "carol@contoso.com"}}],
                "bccRecipients": [{"emailAddress": {"address": "dave@contoso.com"}}],
                "attachments": [
                    {
                        "@odata.type": "#microsoft.graph.fileAttachment",
                        "name": "iocs.csv",
                        "contentType": "text/csv",
                        "contentBytes": base64.b64encode(b"ip,1.2.3.4\n").decode(),
                    }
                ],
            },
            "saveToSentItems": "true",
        },
    )
    assert response.status_code == 202 and response.content == b""
    carol = graph.ok(
        "GET",
        "/users/carol@contoso.com/mailFolders/inbox/messages",
        params={"$filter": "subject eq 'Incident 7 summary'"},
    )["value"][0]
    assert carol["hasAttachments"] and carol["bccRecipients"] == []
    mime = graph.get(f"/users/carol@contoso.com/messages/{carol['id']}/$value").content
    assert b"dave@contoso.com" not in mime
    assert "Incident 7 summary" in _folder_subjects(graph, "dave@contoso.com", "inbox")
    assert "Incident 7 summary" in _folder_subjects(graph, "alice@contoso.com", "sentitems")


def test_send_mail_mime_and_no_sent_copy(graph: GraphClient) -> None:
    before = _folder_subjects(graph, "alice@contoso.com", "sentitems")
    graph.ok(
        "POST",
        f"{ALICE}/sendMail",
        202,
        json={
            "message": {
                "subject": "not kept",
                "toRecipients": [{"emailAddress": {"address": "bob@contoso.com"}}],
            },
            "saveToSentItems": False,
        },
    )
    assert _folder_subjects(graph, "alice@contoso.com", "sentitems") == before
    assert "not kept" in _folder_subjects(graph, "bob@contoso.com", "inbox")
    mime = (
        b"From: Alice <alice@contoso.com>\r\nTo: Bob <bob@contoso.com>\r\n"
        b"Subject: MIME sent\r\nMessage-ID: <mime-sent-1@contoso.com>\r\n\r\nhello\r\n"
    )
    graph.ok(
        "POST",
        f"{ALICE}/sendMail",
        202,
        data=base64.b64encode(mime),
        headers={"Content-Type": "text/plain"},
    )
    found = graph.ok(
        "GET",
        "/users/bob@contoso.com/messages",
        params={"$filter": "internetMessageId eq '<mime-sent-1@contoso.com>'"},
    )["value"]
    assert [m["subject"] for m in found] == ["MIME sent"]
    no_message = graph.post(f"{ALICE}/sendMail", json={"saveToSentItems": True})
    assert_graph_error(no_message, 400, "ErrorInvalidParameter")
    no_recipient = graph.post(f"{ALICE}/sendMail", json={"message": {"subject": "x"}})
    assert_graph_error(no_recipient, 400, "ErrorInvalidRecipients")


def test_inbox_rule_moves_new_mail(fresh_sandbox: Sandbox, graph: GraphClient) -> None:
    admin = app_client(fresh_sandbox, ["Mail.ReadWrite", "Mail.Send", "MailboxSettings.ReadWrite"])
    rules = "/users/alice@contoso.com/mailFolders/inbox/messageRules"
    rule = admin.ok(
        "POST",
        rules,
        201,
        json={
            "displayName": "Invoices to Archive",
            "sequence": 2,
            "isEnabled": True,
            "conditions": {"subjectContains": ["invoice"]},
            "actions": {"moveToFolder": "archive", "markAsRead": True, "stopProcessingRules": True},
        },
    )
    archive = admin.ok("GET", f"{ALICE}/mailFolders/archive")
    assert rule["actions"]["moveToFolder"] == archive["id"]
    seeded = [r for r in admin.ok("GET", rules)["value"] if r["id"] != rule["id"]]
    assert [r["displayName"] for r in seeded] == ["Falcon to Projects"]
    assert admin.ok("GET", f"{rules}/{rule['id']}")["displayName"] == "Invoices to Archive"
    admin.ok(
        "POST",
        "/users/bob@contoso.com/sendMail",
        202,
        json={
            "message": {
                "subject": "Your invoice 88",
                "toRecipients": [{"emailAddress": {"address": "alice@contoso.com"}}],
            }
        },
    )
    archived = admin.ok("GET", f"{ALICE}/mailFolders/archive/messages")["value"]
    assert [(m["subject"], m["isRead"]) for m in archived] == [("Your invoice 88", True)]
    disabled = admin.ok("PATCH", f"{rules}/{rule['id']}", json={"isEnabled": False})
    assert disabled["isEnabled"] is False
    admin.ok(
        "POST",
        "/users/bob@contoso.com/sendMail",
        202,
        json={
            "message": {
                "subject": "Another invoice",
                "toRecipients": [{"emailAddress": {"address": "alice@contoso.com"}}],
            }
        },
    )
    assert "Another invoice" in _folder_subjects(admin, "alice@contoso.com", "inbox")
    unsupported = admin.post(
        rules,
        json={"displayName": "x", "sequence": 1, "actions": {"forwardTo": []}},
    )
    assert_graph_error(unsupported, 400, "ErrorInvalidRequest")
    assert admin.delete(f"{rules}/{rule['id']}").status_code == 204
    assert [r["id"] for r in admin.ok("GET", rules)["value"]] == [seeded[0]["id"]]
    assert_graph_error(admin.get(f"{rules}/{rule['id']}"), 404, "ErrorItemNotFound")
    # MailboxSettings.Read lists rules but cannot create them.
    reader = GraphClient(fresh_sandbox, graph_token(fresh_sandbox, "readonly"))
    assert reader.ok("GET", rules)["value"]
    assert_graph_error(reader.post(rules, json={"displayName": "x"}), 403, "ErrorAccessDenied")
