"""One store behind both faces: what Graph changes, EWS sees, and the reverse; ids convert."""

from __future__ import annotations

import pytest
import requests
from ews_face_support import ews_token, oauth_account
from exchangelib import Mailbox, Message

from exchange_sandbox.process import Sandbox

pytestmark = pytest.mark.sandbox


@pytest.fixture
def graph(fresh_sandbox: Sandbox, graph_token: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = fresh_sandbox.ca_bundle
    session.headers["Authorization"] = f"Bearer {graph_token}"
    return session


def graph_url(sandbox: Sandbox, path: str) -> str:
    return f"{sandbox.info['graph_url']}/v1.0/{path}"


def test_sent_through_graph_found_and_deleted_through_ews(
    fresh_sandbox: Sandbox, graph: requests.Session
) -> None:
    mail = {
        "message": {
            "subject": "cross-face: from Graph",
            "body": {"contentType": "Text", "content": "hello EWS"},
            "toRecipients": [{"emailAddress": {"address": "bob@contoso.com"}}],
        },
        "saveToSentItems": True,
    }
    sent = graph.post(graph_url(fresh_sandbox, "users/alice@contoso.com/sendMail"), json=mail)
    assert sent.status_code == 202, sent.text
    bob = oauth_account(fresh_sandbox, "bob@contoso.com", ews_token(fresh_sandbox))
    message = bob.inbox.get(subject="cross-face: from Graph")
    assert message.sender.email_address == "alice@contoso.com"
    assert "hello EWS" in message.text_body
    rest_id = message.id.replace("/", "-").replace("+", "_")
    fetched = graph.get(graph_url(fresh_sandbox, f"users/bob@contoso.com/messages/{rest_id}"))
    assert fetched.status_code == 200 and fetched.json()["subject"] == message.subject
    message.delete()
    gone = graph.get(graph_url(fresh_sandbox, f"users/bob@contoso.com/messages/{rest_id}"))
    assert gone.status_code == 404


def test_sent_through_ews_found_and_deleted_through_graph(
    fresh_sandbox: Sandbox, graph: requests.Session
) -> None:
    token = ews_token(fresh_sandbox)
    alice = oauth_account(fresh_sandbox, "alice@contoso.com", token)
    Message(
        account=alice,
        subject="cross-face: from EWS",
        body="hello Graph",
        to_recipients=[Mailbox(email_address="carol@contoso.com")],
    ).send_and_save()
    listed = graph.get(
        graph_url(fresh_sandbox, "users/carol@contoso.com/mailFolders/inbox/messages"),
        params={"$filter": "subject eq 'cross-face: from EWS'", "$select": "id,subject"},
    )
    assert listed.status_code == 200, listed.text
    [found] = listed.json()["value"]
    deleted = graph.delete(
        graph_url(fresh_sandbox, f"users/carol@contoso.com/messages/{found['id']}")
    )
    assert deleted.status_code == 204
    carol = oauth_account(fresh_sandbox, "carol@contoso.com", token)
    assert carol.inbox.filter(subject="cross-face: from EWS").count() == 0
    # Graph DELETE moves it to Deleted Items, which gives it a new id (the old one is gone).
    ews_id = found["id"].replace("-", "/").replace("_", "+")
    assert carol.trash.get(subject="cross-face: from EWS").id != ews_id
    sent = graph.get(
        graph_url(fresh_sandbox, "users/alice@contoso.com/mailFolders/sentitems/messages"),
        params={"$filter": "subject eq 'cross-face: from EWS'"},
    )
    assert len(sent.json()["value"]) == 1
