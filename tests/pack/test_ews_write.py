"""EWS backend changes against the sandbox: copy (also to another mailbox), move, the three
delete types, junk with the blocked-senders list, attachment removal, send and reply."""

from __future__ import annotations

import email
import os
from pathlib import Path

import pytest
from ews_backend_support import CAMPAIGN_SENDER, EwsHarness, campaign_id, harness

from exchange_pack import errors
from exchange_pack.models import OutgoingMessage, SearchCriteria
from exchange_sandbox.process import Sandbox


@pytest.fixture
def ews(fresh_sandbox: Sandbox) -> EwsHarness:
    return harness(fresh_sandbox)


def _in(ews: EwsHarness, address: str, internet_message_id: str, folder: str) -> list[str]:
    criteria = SearchCriteria(internet_message_id=internet_message_id, folder=folder)
    return [m.id for m in ews.mailbox(address).search(criteria, 10).items]


def test_copy_to_own_folder_and_to_another_mailbox(ews: EwsHarness) -> None:
    alice = ews.mailbox()
    message = alice.resolve(campaign_id("alice"))
    ews.start_counting()
    copy = alice.copy(message, "deleteditems", None)
    assert copy.mailbox == "alice@contoso.com" and copy.id != message.id
    evidence = alice.copy(message, "inbox", "soc@contoso.com")
    assert evidence.mailbox == "soc@contoso.com"
    assert evidence.internet_message_id == campaign_id("alice")
    assert ews.operations() == ["CopyItem", "CopyItem"]
    assert _in(ews, "soc@contoso.com", campaign_id("alice"), "inbox") == [evidence.id]


def test_move_changes_the_folder(ews: EwsHarness) -> None:
    alice = ews.mailbox()
    message = alice.resolve(campaign_id("alice"))
    moved = alice.move(message, "Junk Email")
    assert _in(ews, "alice@contoso.com", campaign_id("alice"), "junkemail") == [moved.id]


@pytest.mark.parametrize(
    ("delete_type", "left_in_deleted_items"),
    [("move_to_deleted_items", 1), ("soft", 0), ("hard", 0)],
)
def test_delete_types(ews: EwsHarness, delete_type: str, left_in_deleted_items: int) -> None:
    bob = ews.mailbox("bob@contoso.com")
    message = bob.resolve(campaign_id("bob"))
    ews.start_counting()
    bob.delete(message, delete_type)  # type: ignore[arg-type]
    assert ews.operations() == ["DeleteItem"]
    assert _in(ews, "bob@contoso.com", campaign_id("bob"), "inbox") == []
    found = _in(ews, "bob@contoso.com", campaign_id("bob"), "deleteditems")
    assert len(found) == left_in_deleted_items
    if delete_type == "hard":
        with pytest.raises(errors.MessageNotFoundError):
            bob.delete(message, "hard")


def test_junk_blocks_the_sender_and_not_junk_unblocks(ews: EwsHarness) -> None:
    carol = ews.mailbox("carol@contoso.com")
    message = carol.resolve(campaign_id("carol"))
    junk = carol.mark_junk(message, is_junk=True, move=True, block_sender=True)
    assert (junk.moved_to, junk.sender_blocked) == ("junkemail", True)
    assert _in(ews, "carol@contoso.com", campaign_id("carol"), "junkemail") == [junk.id]
    back = carol.mark_junk(
        message.model_copy(update={"id": junk.id}), is_junk=False, move=True, block_sender=True
    )
    assert (back.moved_to, back.sender_blocked) == ("inbox", False)
    assert _in(ews, "carol@contoso.com", campaign_id("carol"), "inbox") == [back.id]


def test_junk_without_blocking_only_moves(ews: EwsHarness) -> None:
    carol = ews.mailbox("carol@contoso.com")
    message = carol.resolve(campaign_id("carol"))
    ews.start_counting()
    junk = carol.mark_junk(message, is_junk=True, move=True, block_sender=False)
    assert (junk.moved_to, junk.sender_blocked) == ("junkemail", None)
    assert ews.operations() == ["MoveItem"]


def test_delete_attachment(ews: EwsHarness) -> None:
    alice = ews.mailbox()
    message = alice.resolve(campaign_id("alice"))
    zip_file = next(a for a in alice.attachments(message) if a.name.endswith(".zip"))
    alice.delete_attachment(message, zip_file)
    assert "INV-20931.zip" not in [a.name for a in alice.attachments(message)]


def test_send_returns_the_internet_message_id(ews: EwsHarness, tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("hashes\n")
    draft = OutgoingMessage(
        to=["soc@contoso.com"],
        subject="Campaign INV-20931 contained",
        body="<p>Removed from 3 mailboxes.</p>",
        body_type="html",
        importance="high",
        attachment_paths=[str(report)],
    )
    sent = ews.mailbox().send(draft)
    assert sent.internet_message_id.startswith("<") and sent.subject == draft.subject
    assert ews.operations() == ["CreateItem"]
    (received,) = (
        ews.mailbox("soc@contoso.com")
        .search(SearchCriteria(internet_message_id=sent.internet_message_id), 5)
        .items
    )
    assert received.importance == "high" and received.has_attachments
    assert _in(ews, "alice@contoso.com", sent.internet_message_id, "sentitems")


def test_send_keeps_bcc_off_delivered_copies_and_can_skip_sent_items(ews: EwsHarness) -> None:
    draft = OutgoingMessage(
        to=["soc@contoso.com"],
        bcc=["carol@contoso.com"],
        reply_to=["bob@contoso.com"],
        subject="Quiet copy",
        body="For the record.",
        save_to_sent_items=False,
    )
    ews.start_counting()
    sent = ews.mailbox().send(draft)
    assert ews.operations() == ["CreateItem"]
    for address in ("soc@contoso.com", "carol@contoso.com"):
        mailbox = ews.mailbox(address)
        criteria = SearchCriteria(internet_message_id=sent.internet_message_id)
        (received,) = mailbox.search(criteria, 5).items
        with mailbox.open_mime(received) as chunks:
            headers = email.message_from_bytes(b"".join(chunks))
        assert headers["Message-ID"] == sent.internet_message_id
        assert headers["Bcc"] is None and headers["Reply-To"] == "bob@contoso.com"
    assert _in(ews, "alice@contoso.com", sent.internet_message_id, "sentitems") == []


def test_send_an_attachment_over_ten_megabytes(ews: EwsHarness, tmp_path: Path) -> None:
    big = tmp_path / "capture.bin"
    big.write_bytes(os.urandom(12 * 1024 * 1024))  # over libxml2's 10 MB text node default
    draft = OutgoingMessage(to=["soc@contoso.com"], subject="capture", attachment_paths=[str(big)])
    sent = ews.mailbox().send(draft)
    soc = ews.mailbox("soc@contoso.com")
    (received,) = soc.search(SearchCriteria(internet_message_id=sent.internet_message_id), 5).items
    assert [(a.name, a.size) for a in soc.attachments(received)] == [
        ("capture.bin", 12 * 1024 * 1024)
    ]


def test_send_without_recipients_is_bad_input(ews: EwsHarness) -> None:
    with pytest.raises(errors.InputError):
        ews.mailbox().send(OutgoingMessage(subject="nobody"))
    with pytest.raises(errors.InputError):
        ews.mailbox().send(OutgoingMessage(to=["soc@contoso.com"], attachment_paths=["/nope"]))
    assert ews.operations() == []


def test_reply_all_with_extra_cc_and_attachment(ews: EwsHarness, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("see ticket\n")
    soc = ews.mailbox("soc@contoso.com")
    report = soc.search(SearchCriteria(subject="FW: Action required", folder="inbox"), 1).items[0]
    reply = soc.reply(
        report,
        OutgoingMessage(
            body="Thanks, contained.", cc=["carol@contoso.com"], attachment_paths=[str(note)]
        ),
        reply_all=True,
    ).reply
    assert reply.subject.startswith("RE:")
    (received,) = (
        ews.mailbox("alice@contoso.com")
        .search(SearchCriteria(internet_message_id=reply.internet_message_id), 5)
        .items
    )
    assert "carol@contoso.com" in [r.address for r in received.cc]
    assert received.has_attachments
    with ews.mailbox().open_mime(received) as chunks:
        mime = b"".join(chunks)
    assert email.message_from_bytes(mime)["In-Reply-To"] == report.internet_message_id


def test_reply_to_the_campaign_goes_to_its_sender(ews: EwsHarness) -> None:
    bob = ews.mailbox("bob@contoso.com")
    message = bob.resolve(campaign_id("bob"))
    ews.start_counting()
    sent = bob.reply(message, OutgoingMessage(body="Is this legitimate?"), reply_all=False)
    reply = sent.reply
    assert reply.internet_message_id and sent.in_reply_to is message
    assert ews.operations() == ["CreateItem", "GetItem", "SendItem"]
    sent = bob.search(SearchCriteria(internet_message_id=reply.internet_message_id), 1).items[0]
    assert [r.address for r in sent.to] == [CAMPAIGN_SENDER]


def test_reply_to_a_message_known_by_id_reads_it_beside_the_draft(ews: EwsHarness) -> None:
    bob = ews.mailbox("bob@contoso.com")
    resolved = bob.resolve(campaign_id("bob"))
    message = bob.reference(resolved.id)
    ews.start_counting()
    sent = bob.reply(message, OutgoingMessage(body="Is this legitimate?"), reply_all=False)
    assert ews.operations() == ["CreateItem", "GetItem", "SendItem"]
    assert sent.in_reply_to.model_dump() == {
        "mailbox": "bob@contoso.com",
        "id": resolved.id,
        "internet_message_id": campaign_id("bob"),
        "subject": resolved.subject,
    }


def test_reply_with_extra_recipients_reads_the_message_once(ews: EwsHarness) -> None:
    bob = ews.mailbox("bob@contoso.com")
    resolved = bob.resolve(campaign_id("bob"))
    ews.start_counting()
    sent = bob.reply(
        bob.reference(resolved.id),
        OutgoingMessage(body="Forwarding to the SOC.", cc=["soc@contoso.com"]),
        reply_all=False,
    )
    assert ews.operations() == ["GetItem", "CreateItem", "GetItem", "SendItem"]
    assert sent.in_reply_to.internet_message_id == campaign_id("bob")
    assert sent.in_reply_to.subject == resolved.subject


def test_reply_to_a_deleted_message_is_not_found(ews: EwsHarness) -> None:
    bob = ews.mailbox("bob@contoso.com")
    gone = bob.reference(bob.resolve(campaign_id("bob")).id)
    bob.delete(gone, "hard")
    with pytest.raises(errors.MessageNotFoundError):
        bob.reply(gone, OutgoingMessage(body="never sent"), reply_all=False)
