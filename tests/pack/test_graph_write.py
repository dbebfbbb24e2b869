"""Graph backend changes against the sandbox: copy, move, delete, junk, send, reply."""

from __future__ import annotations

import pytest
from graph_backend_support import CAMPAIGN_SENDER, GraphHarness, campaign_id, harness

from exchange_pack import errors
from exchange_pack.config import ConnectionConfig
from exchange_pack.graph import GraphBackend
from exchange_pack.graph.junk import rule_name
from exchange_pack.graph.transport import graph_path
from exchange_pack.models import MessageRef, OutgoingMessage, SearchCriteria
from exchange_pack.session import Session
from exchange_sandbox.process import Sandbox


@pytest.fixture
def graph(fresh_sandbox: Sandbox) -> GraphHarness:
    return harness(fresh_sandbox)


def _find(graph: GraphHarness, mailbox: str, internet_message_id: str, folder: str | None = None):
    criteria = SearchCriteria(internet_message_id=internet_message_id, folder=folder)
    return graph.mailbox(mailbox).search(criteria, limit=10).items


def _campaign(graph: GraphHarness) -> MessageRef:
    message = graph.mailbox().resolve(campaign_id("alice"))
    graph.start_counting()
    return message


# -- copy, move, delete ----------------------------------------------------------------------
def test_copy_in_the_same_mailbox_is_one_request(graph: GraphHarness) -> None:
    message = _campaign(graph)
    copied = graph.mailbox().copy(message, "junkemail", None)
    assert graph.session.stats.requests == 1
    assert copied.id != message.id and copied.internet_message_id == message.internet_message_id
    assert {m.folder for m in _find(graph, "alice@contoso.com", campaign_id("alice"))} == {
        "inbox",
        "junkemail",
    }


def test_copy_to_another_mailbox_exports_and_imports_mime(graph: GraphHarness) -> None:
    message = _campaign(graph)
    copied = graph.mailbox().copy(message, "inbox", "soc@contoso.com")
    assert graph.session.stats.requests == 2  # GET $value + POST the MIME
    assert copied.mailbox == "soc@contoso.com"
    found = _find(graph, "soc@contoso.com", campaign_id("alice"))
    assert [m.id for m in found] == [copied.id]
    assert found[0].has_attachments and found[0].folder == "inbox"


def test_copy_to_a_folder_path(graph: GraphHarness) -> None:
    message = _campaign(graph)
    copied = graph.mailbox().copy(message, "Inbox/Projects", None)
    assert graph.session.stats.requests == 2  # childFolders lookup + copy
    found = _find(graph, "alice@contoso.com", campaign_id("alice"), folder="Inbox/Projects")
    assert [m.id for m in found] == [copied.id]


def test_move_to_junk(graph: GraphHarness) -> None:
    message = _campaign(graph)
    moved = graph.mailbox().move(message, "Junk Email")
    assert graph.session.stats.requests == 1
    assert [m.folder for m in _find(graph, "alice@contoso.com", campaign_id("alice"))] == [
        "junkemail"
    ]
    assert moved.internet_message_id == campaign_id("alice")


@pytest.mark.parametrize(
    ("delete_type", "left_in"),
    [("move_to_deleted_items", ["deleteditems"]), ("soft", []), ("hard", [])],
)
def test_delete_types(graph: GraphHarness, delete_type: str, left_in: list[str]) -> None:
    message = _campaign(graph)
    graph.mailbox().delete(message, delete_type)  # type: ignore[arg-type]
    assert graph.session.stats.requests == 1
    assert [m.folder for m in _find(graph, "alice@contoso.com", campaign_id("alice"))] == left_in
    operation = "/permanentDelete" if delete_type == "hard" else "/move"
    assert any(r["operation"].endswith(operation) for r in graph.graph_requests())


def test_hard_delete_outside_the_global_cloud_is_unsupported(sandbox: Sandbox) -> None:
    config = ConnectionConfig(**sandbox.pack_config(cloud="usgovhigh"))
    backend = GraphBackend(Session(config))
    ref = MessageRef(mailbox="alice@contoso.com", id="AAMkAAAA", internet_message_id=None)
    with pytest.raises(errors.UnsupportedError) as caught:
        backend.mailbox("alice@contoso.com").delete(ref, "hard")
    assert "global cloud" in str(caught.value)
    assert backend.session.stats.requests == 0


# -- junk ------------------------------------------------------------------------------------
MAIL_ROLES = ["Mail.ReadWrite", "Mail.Send", "MailboxSettings.Read", "User.Read.All"]


def _app(sandbox: Sandbox, name: str, roles: list[str]) -> GraphHarness:
    app = sandbox.add_app(name=name, roles=roles, client_secret=f"{name}-secret")
    return harness(sandbox, client_id=app["client_id"], client_secret=f"{name}-secret")


@pytest.fixture
def rules_app(fresh_sandbox: Sandbox) -> GraphHarness:
    """An app that may also manage inbox rules (MailboxSettings.ReadWrite)."""
    return _app(fresh_sandbox, "junk-rules", [*MAIL_ROLES, "MailboxSettings.ReadWrite"])


def test_block_sender_needs_mailbox_settings_write(fresh_sandbox: Sandbox) -> None:
    graph = _app(fresh_sandbox, "no-rules", MAIL_ROLES)
    message = _campaign(graph)
    with pytest.raises(errors.AccessDeniedError) as caught:
        graph.mailbox().mark_junk(message, is_junk=True, move=True, block_sender=True)
    assert "MailboxSettings.ReadWrite" in (caught.value.hint or "")
    # Nothing was moved: the rule is settled before the message changes folder.
    assert [m.folder for m in _find(graph, "alice@contoso.com", campaign_id("alice"))] == ["inbox"]


def test_junk_without_blocking_is_one_move(graph: GraphHarness) -> None:
    message = _campaign(graph)
    result = graph.mailbox().mark_junk(message, is_junk=True, move=True, block_sender=False)
    assert (result.moved_to, result.sender_blocked) == ("junkemail", None)
    assert graph.session.stats.requests == 1


def _rules(graph: GraphHarness) -> list[str]:
    path = graph_path("/users/{}/mailFolders/inbox/messageRules", "alice@contoso.com")
    return [r["displayName"] for r in graph.backend.client.get_json(path)["value"]]


def test_junk_with_block_sender_creates_one_rule_and_moves(rules_app: GraphHarness) -> None:
    graph = rules_app
    message = _campaign(graph)
    result = graph.mailbox().mark_junk(message, is_junk=True, move=True, block_sender=True)
    assert result.moved_to == "junkemail" and result.sender_blocked is True
    assert graph.session.stats.requests == 3  # $batch lookups + POST rule + move
    assert _rules(graph).count(rule_name(CAMPAIGN_SENDER)) == 1
    again = graph.mailbox().mark_junk(
        MessageRef(mailbox="alice@contoso.com", id=result.id, internet_message_id=None),
        is_junk=True,
        move=False,
        block_sender=True,
    )
    assert again.moved_to is None
    assert _rules(graph).count(rule_name(CAMPAIGN_SENDER)) == 1
    assert [m.folder for m in _find(graph, "alice@contoso.com", campaign_id("alice"))] == [
        "junkemail"
    ]


def test_junk_by_internet_message_id_looks_it_up_in_the_batch(rules_app: GraphHarness) -> None:
    graph = rules_app
    alice = graph.mailbox()
    message = alice.reference(campaign_id("alice"), deferred=True)
    original = alice.resolve(campaign_id("alice")).id
    graph.start_counting()
    result = alice.mark_junk(message, is_junk=True, move=True, block_sender=True)
    assert graph.session.stats.requests == 3  # $batch (lookup, rules, junkemail) + rule + move
    assert (result.original_id, result.sender) == (original, CAMPAIGN_SENDER)
    assert result.subject and result.internet_message_id == campaign_id("alice")
    assert [m.id for m in _find(graph, "alice@contoso.com", campaign_id("alice"))] == [result.id]
    missing = alice.reference("<nobody@contoso.com>", deferred=True)
    with pytest.raises(errors.MessageNotFoundError):
        alice.mark_junk(missing, is_junk=False, move=True, block_sender=True)


def test_not_junk_removes_the_rule_and_moves_back(rules_app: GraphHarness) -> None:
    graph = rules_app
    message = _campaign(graph)
    junked = graph.mailbox().mark_junk(message, is_junk=True, move=True, block_sender=True)
    ref = MessageRef(mailbox="alice@contoso.com", id=junked.id, internet_message_id=None)
    restored = graph.mailbox().mark_junk(ref, is_junk=False, move=True, block_sender=True)
    assert restored.moved_to == "inbox" and restored.sender_blocked is False
    assert rule_name(CAMPAIGN_SENDER) not in _rules(graph)
    assert [m.folder for m in _find(graph, "alice@contoso.com", campaign_id("alice"))] == ["inbox"]


# -- send and reply --------------------------------------------------------------------------
def test_send_is_one_request_and_names_the_message(graph: GraphHarness) -> None:
    draft = OutgoingMessage(
        to=["bob@contoso.com"],
        subject="Phishing alert",
        body="<b>Hi</b>",
        body_type="html",
        importance="high",
    )
    sent = graph.mailbox().send(draft)
    assert graph.session.stats.requests == 1
    received = _find(graph, "bob@contoso.com", sent.internet_message_id)
    assert [(m.subject, m.importance, m.folder) for m in received] == [
        ("Phishing alert", "high", "inbox")
    ]
    assert _find(graph, "alice@contoso.com", sent.internet_message_id, folder="sentitems")


def test_send_without_sent_items_copy(graph: GraphHarness) -> None:
    draft = OutgoingMessage(to=["bob@contoso.com"], subject="No copy", save_to_sent_items=False)
    sent = graph.mailbox().send(draft)
    assert _find(graph, "bob@contoso.com", sent.internet_message_id)
    assert not _find(graph, "alice@contoso.com", sent.internet_message_id)


def test_large_attachment_goes_through_an_upload_session(graph: GraphHarness, tmp_path) -> None:
    big = tmp_path / "evidence.bin"
    big.write_bytes(bytes(range(256)) * (4 * 4096 + 7))  # a bit over 4 MiB
    small = tmp_path / "note.txt"
    small.write_text("see attached")
    draft = OutgoingMessage(
        to=["bob@contoso.com"], subject="Evidence", attachment_paths=[str(big), str(small)]
    )
    sent = graph.mailbox().send(draft)
    operations = [r["operation"] for r in graph.graph_requests()]
    assert not any(op.endswith("/sendMail") for op in operations)
    assert any("createUploadSession" in op for op in operations)
    received = _find(graph, "bob@contoso.com", sent.internet_message_id)
    assert len(received) == 1
    sizes = {a.name: a.size for a in graph.mailbox("bob@contoso.com").attachments(received[0])}
    assert sizes["evidence.bin"] == big.stat().st_size and "note.txt" in sizes


def test_a_send_whose_connection_breaks_is_not_repeated(graph: GraphHarness) -> None:
    graph.sandbox.fault(method="POST", path=r"/sendMail$", reset=True)
    draft = OutgoingMessage(to=["bob@contoso.com"], subject="Exactly once")
    with pytest.raises(errors.AmbiguousOutcomeError):
        graph.mailbox().send(draft)
    assert graph.session.stats.requests == 1
    found = graph.mailbox("bob@contoso.com").search(SearchCriteria(subject="Exactly once"), 10)
    assert len(found.items) <= 1


def test_reply_is_two_requests_and_returns_the_reply_id(graph: GraphHarness) -> None:
    original = graph.mailbox().search(SearchCriteria(subject="Contract renewal"), 1).items[0]
    graph.start_counting()
    sent = graph.mailbox().reply(original, OutgoingMessage(body="Thanks, on it."), reply_all=False)
    assert graph.session.stats.requests == 2  # createReply + send
    reference = ("id", "internet_message_id", "subject")
    assert [getattr(sent.in_reply_to, f) for f in reference] == [
        getattr(original, f) for f in reference
    ]
    received = _find(graph, "bob@contoso.com", sent.reply.internet_message_id)
    assert [m.subject for m in received] == ["RE: Contract renewal - Northwind"]


def test_reply_to_a_message_known_by_id_reads_it_in_the_create_batch(graph: GraphHarness) -> None:
    alice = graph.mailbox()
    resolved = alice.resolve(campaign_id("alice"))
    message = alice.reference(resolved.id)
    graph.start_counting()
    sent = alice.reply(message, OutgoingMessage(body="Reported, thanks."), reply_all=False)
    assert graph.session.stats.requests == 2  # $batch (GET original + createReply) + send
    assert sent.in_reply_to.model_dump() == {
        "mailbox": "alice@contoso.com",
        "id": resolved.id,
        "internet_message_id": campaign_id("alice"),
        "subject": resolved.subject,
    }
    assert sent.reply.subject == f"RE: {resolved.subject}"


def test_reply_to_a_deleted_message_is_not_found(graph: GraphHarness) -> None:
    alice = graph.mailbox()
    gone = alice.reference(alice.resolve(campaign_id("alice")).id)
    alice.delete(gone, "hard")
    with pytest.raises(errors.MessageNotFoundError):
        alice.reply(gone, OutgoingMessage(body="never sent"), reply_all=False)


def test_reply_all_with_extra_cc_and_attachment(graph: GraphHarness, tmp_path) -> None:
    original = graph.mailbox().search(SearchCriteria(subject="Contract renewal"), 1).items[0]
    note = tmp_path / "notes.txt"
    note.write_text("notes")
    draft = OutgoingMessage(
        body="Adding Carol.", cc=["carol@contoso.com"], attachment_paths=[str(note)]
    )
    graph.start_counting()
    sent = graph.mailbox().reply(original, draft, reply_all=True).reply
    assert graph.session.stats.requests == 4  # createReplyAll + PATCH + attachment + send
    for user in ("bob@contoso.com", "carol@contoso.com"):
        received = _find(graph, user, sent.internet_message_id)
        assert len(received) == 1 and received[0].has_attachments
