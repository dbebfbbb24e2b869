"""The EWS face driven by the real exchangelib: OAuth app token + impersonation, every operation."""

from __future__ import annotations

import datetime as dt

import pytest
from ews_face_support import ews_token, oauth_account
from exchangelib import FileAttachment, HTMLBody, Mailbox, Message
from exchangelib.errors import ErrorItemNotFound, ErrorNonExistentMailbox
from exchangelib.folders import Contacts, JunkEmail, RecoverableItemsDeletions
from exchangelib.properties import EWS_ID, EWS_LEGACY_ID, AlternateId

from exchange_sandbox.process import Sandbox

PHISH = "Action required: overdue invoice INV-20931"

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def token(sandbox: Sandbox) -> str:
    return ews_token(sandbox)


def account(sandbox: Sandbox, token: str, address: str = "alice@contoso.com"):
    return oauth_account(sandbox, address, token)


def phish(acct):
    return acct.inbox.get(subject=PHISH)


def test_connects_and_reports_exchange_online_version(sandbox: Sandbox, token: str) -> None:
    acct = account(sandbox, token)
    assert acct.version.build.major_version == 15
    assert acct.version.api_version.startswith("Exchange")
    assert acct.root.name == "Root"
    assert acct.inbox.name == "Inbox"
    operations = [r["operation"] for r in sandbox.requests() if r["path"].endswith(".asmx")]
    assert "ConvertId" in operations and "GetFolder" in operations


def test_distinguished_folders_and_counts(sandbox: Sandbox, token: str) -> None:
    acct = account(sandbox, token)
    inbox = acct.inbox
    assert inbox.total_count >= 10
    assert inbox.unread_count <= inbox.total_count
    assert acct.junk.name == "Junk Email"
    assert acct.trash.name == "Deleted Items"
    assert acct.root.get_default_folder(RecoverableItemsDeletions).name == "Deletions"
    assert isinstance(acct.contacts, Contacts)
    names = {f.name for f in acct.root.walk()}
    assert {"Inbox", "Sent Items", "Junk Email", "Deletions"} <= names


def test_find_item_restrictions(sandbox: Sandbox, token: str) -> None:
    acct = account(sandbox, token)
    inbox = acct.inbox
    found = list(inbox.filter(subject__contains="INV-20931"))
    assert [m.subject for m in found] == [PHISH]
    message = found[0]
    assert message.sender.email_address == "billing@contoso-payments.com"
    assert inbox.filter(sender="billing@contoso-payments.com").count() == 1
    assert inbox.filter(message_id=message.message_id).count() == 1
    assert inbox.filter(subject=PHISH.upper()).count() == 1  # IsEqualTo ignores case
    assert inbox.filter(subject__contains="inv-20931").count() == 0  # Exact containment
    assert inbox.filter(subject__icontains="inv-20931").count() == 1
    assert inbox.filter(subject__startswith="Action required").count() == 1
    since = message.datetime_received - dt.timedelta(seconds=1)
    assert message.id in {m.id for m in inbox.filter(datetime_received__gte=since)}
    assert inbox.filter(has_attachments=True).count() >= 1
    unread = inbox.filter(is_read=False).count()
    assert 0 < unread < inbox.all().count()
    assert inbox.filter(~Q_subject(PHISH)).count() == inbox.all().count() - 1


def Q_subject(subject: str):
    from exchangelib import Q

    return Q(subject=subject)


def test_find_item_paging_sorting_and_query_string(sandbox: Sandbox, token: str) -> None:
    acct = account(sandbox, token)
    inbox = acct.inbox
    everything = list(inbox.all().order_by("-datetime_received").only("subject"))
    assert len(everything) == inbox.total_count
    page = list(inbox.all().order_by("-datetime_received").only("subject")[2:5])
    assert [m.subject for m in page] == [m.subject for m in everything[2:5]]
    ascending = [m.subject for m in inbox.all().order_by("subject").only("subject")]
    assert ascending == sorted(ascending, key=str.lower)
    assert [m.subject for m in inbox.filter("subject:INV-20931")] == [PHISH]
    assert inbox.filter("from:billing@contoso-payments.com").count() == 1


def test_get_item_mime_body_headers_attachments(sandbox: Sandbox, token: str) -> None:
    acct = account(sandbox, token)
    message = phish(acct)
    assert message.mime_content.startswith(b"") and b"INV-20931" in message.mime_content
    assert isinstance(message.body, HTMLBody)
    assert any(h.name.lower() == "message-id" for h in message.headers)
    names = sorted(a.name for a in message.attachments)
    assert names == ["INV-20931.pdf", "INV-20931.zip", "forwarded-notice.eml", "remittance.html"]
    pdf = next(a for a in message.attachments if a.name == "INV-20931.pdf")
    assert pdf.content.startswith(b"%PDF")
    item = next(a for a in message.attachments if a.name == "forwarded-notice.eml")
    assert item.item.subject


def test_attachment_create_and_delete(fresh_sandbox: Sandbox, token: str) -> None:
    acct = account(fresh_sandbox, token)
    message = phish(acct)
    message.attach(FileAttachment(name="note.txt", content=b"hello"))
    again = phish(acct)
    assert "note.txt" in [a.name for a in again.attachments]
    zip_attachment = next(a for a in again.attachments if a.name == "INV-20931.zip")
    again.detach(zip_attachment)
    assert "INV-20931.zip" not in [a.name for a in phish(acct).attachments]


def test_delete_types(fresh_sandbox: Sandbox, token: str) -> None:
    acct = account(fresh_sandbox, token)
    subjects = [m.subject for m in acct.inbox.all().order_by("subject").only("subject")[:3]]
    first, second, third = (acct.inbox.get(subject=s) for s in subjects)
    first.move_to_trash()
    assert acct.trash.filter(subject=subjects[0]).count() == 1
    second.soft_delete()
    deletions = acct.root.get_default_folder(RecoverableItemsDeletions)
    assert deletions.filter(subject=subjects[1]).count() == 1
    third_id = third.id
    third.delete()
    with pytest.raises(ErrorItemNotFound):
        acct.inbox.get(id=third_id)


def test_copy_and_move_also_to_another_mailbox(fresh_sandbox: Sandbox, token: str) -> None:
    alice = account(fresh_sandbox, token)
    soc = account(fresh_sandbox, token, "soc@contoso.com")
    message = phish(alice)
    before = soc.inbox.total_count
    message.copy(to_folder=soc.inbox)
    soc.inbox.refresh()
    assert soc.inbox.total_count == before + 1
    assert soc.inbox.filter(subject=PHISH).count() == 1
    message.move(to_folder=alice.junk)
    assert alice.junk.filter(subject=PHISH).count() == 1
    assert alice.inbox.filter(subject=PHISH).count() == 0


def test_mark_as_junk_moves_and_blocks_sender(fresh_sandbox: Sandbox, token: str) -> None:
    acct = account(fresh_sandbox, token, "bob@contoso.com")
    message = phish(acct)
    message.mark_as_junk(is_junk=True, move_item=True)
    junk = acct.root.get_default_folder(JunkEmail)
    assert junk.filter(subject=PHISH).count() == 1
    back = junk.get(subject=PHISH)
    back.mark_as_junk(is_junk=False, move_item=True)
    assert acct.inbox.filter(subject=PHISH).count() == 1


def test_send_save_and_send_item(fresh_sandbox: Sandbox, token: str) -> None:
    alice = account(fresh_sandbox, token)
    bob = account(fresh_sandbox, token, "bob@contoso.com")
    sent = Message(
        account=alice,
        subject="EWS hello",
        body="plain text body",
        to_recipients=[Mailbox(email_address="bob@contoso.com")],
    )
    sent.attach(FileAttachment(name="a.txt", content=b"attached"))
    sent.send_and_save()
    delivered = bob.inbox.get(subject="EWS hello")
    assert [a.name for a in delivered.attachments] == ["a.txt"]
    assert alice.sent.filter(subject="EWS hello").count() == 1
    draft = Message(
        account=alice,
        folder=alice.drafts,
        subject="EWS draft",
        body="later",
        to_recipients=[Mailbox(email_address="carol@contoso.com")],
    )
    draft.save()
    assert alice.drafts.filter(subject="EWS draft").count() == 1
    draft.send()  # SendItem
    carol = account(fresh_sandbox, token, "carol@contoso.com")
    assert carol.inbox.filter(subject="EWS draft").count() == 1
    Message(account=alice, subject="send only", body="x", to_recipients=["dave@contoso.com"]).send(
        save_copy=False
    )
    assert alice.sent.filter(subject="send only").count() == 0


def test_reply_reply_all_and_forward(fresh_sandbox: Sandbox, token: str) -> None:
    soc = account(fresh_sandbox, token, "soc@contoso.com")
    alice = account(fresh_sandbox, token)
    report = soc.inbox.get(subject__startswith="FW: Action required")
    report.reply(subject="RE: thanks", body="We are on it", to_recipients=None)
    reply = alice.inbox.get(subject="RE: thanks")
    assert "We are on it" in reply.body
    assert reply.in_reply_to == report.message_id
    report.reply_all(subject="RE: all", body="all hands")
    assert alice.inbox.filter(subject="RE: all").count() == 1
    report.forward(subject="FW: to bob", body="see below", to_recipients=["bob@contoso.com"])
    bob = account(fresh_sandbox, token, "bob@contoso.com")
    assert bob.inbox.filter(subject="FW: to bob").count() == 1


def test_out_of_office(sandbox: Sandbox, token: str) -> None:
    dave = account(sandbox, token, "dave@contoso.com")
    oof = dave.oof_settings
    assert oof.state in ("Scheduled", "Enabled")
    assert oof.internal_reply
    alice = account(sandbox, token)
    assert alice.oof_settings.state == "Disabled"


def test_searchable_mailboxes_resolve_names_contacts_people(sandbox: Sandbox, token: str) -> None:
    acct = account(sandbox, token)
    protocol = acct.protocol
    searchable = list(protocol.get_searchable_mailboxes())
    addresses = {m.primary_smtp_address for m in searchable}
    assert {"alice@contoso.com", "soc@contoso.com"} <= addresses
    resolved = list(protocol.resolve_names(["bob@contoso.com"]))
    assert [m.email_address for m in resolved] == ["bob@contoso.com"]
    contacts = list(acct.contacts.all())
    assert contacts and all(c.display_name for c in contacts)
    people = list(acct.contacts.people())
    assert {p.display_name for p in people} == {c.display_name for c in contacts}


def test_convert_id(sandbox: Sandbox, token: str) -> None:
    acct = account(sandbox, token)
    message = phish(acct)
    converted = list(
        acct.protocol.convert_ids(
            [AlternateId(id=message.id, format=EWS_ID, mailbox=acct.primary_smtp_address)],
            destination_format=EWS_LEGACY_ID,
        )
    )
    assert converted[0].id == message.id


def test_unknown_mailbox_is_nonexistent(sandbox: Sandbox, token: str) -> None:
    ghost = account(sandbox, token, "ghost@contoso.com")
    with pytest.raises(ErrorNonExistentMailbox):
        ghost.inbox.all().count()
