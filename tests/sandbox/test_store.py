"""The sandbox store: SQLite persistence, ids, folders, messages as MIME, attachments."""

from __future__ import annotations

import datetime as dt
import gc
import sqlite3
import threading
from pathlib import Path

import pytest

from exchange_sandbox import ids
from exchange_sandbox.kql import parse_kql
from exchange_sandbox.mime import parse_mime
from exchange_sandbox.store import (
    WELL_KNOWN_FOLDERS,
    Address,
    App,
    Contact,
    Mailbox,
    OutOfOffice,
    Rule,
    Store,
    StoreError,
    build_mime,
)

WHEN = dt.datetime(2026, 11, 19, 9, 30, tzinfo=dt.timezone.utc)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "tenant.db")


@pytest.fixture
def alice(store: Store) -> Mailbox:
    return store.add_mailbox("Alice@Contoso.com", "Alice", aliases=["alice.j@contoso.com"])


@pytest.fixture
def bob(store: Store) -> Mailbox:
    return store.add_mailbox("bob@contoso.com", "Bob")


def _mime(subject: str = "Quarterly numbers", attachments: int = 3) -> bytes:
    return build_mime(
        sender=Address("carol@fabrikam.com", "Carol"),
        to=[Address("alice@contoso.com", "Alice")],
        subject=subject,
        body="<p>See the <b>attached</b> files.</p>",
        body_type="html",
        attachments=[
            (f"file{i}.txt", "text/plain", f"content {i}".encode(), False, None)
            for i in range(attachments)
        ],
        date=WHEN,
        internet_message_id=f"<{subject.replace(' ', '-')}@fabrikam.com>",
    )


def test_settings_and_apps_round_trip(store: Store) -> None:
    store.set_setting("tenant_id", "abc")
    store.set_setting("limits", {"graph": 4})
    assert store.get_setting("tenant_id") == "abc"
    assert store.get_setting("limits") == {"graph": 4}
    assert store.get_setting("absent", "fallback") == "fallback"
    expires = dt.datetime(2028, 1, 1, tzinfo=dt.timezone.utc)
    store.add_app(App("cid", "full", "s3cret", expires, None, ["Mail.Read"], ["alice@contoso.com"]))
    app = store.app("cid")
    assert app is not None
    assert (app.secret_expires_at, app.roles, app.mailbox_scope) == (
        expires,
        ["Mail.Read"],
        ["alice@contoso.com"],
    )
    assert store.update_app("cid", certificate_pem="PEM").certificate_pem == "PEM"
    assert [a.client_id for a in store.apps()] == ["cid"]
    assert store.app("nope") is None


def test_mailbox_lookup_by_every_reference(store: Store, alice: Mailbox) -> None:
    assert alice.address == "alice@contoso.com"
    for ref in (alice.id, "ALICE@contoso.com", "alice.j@contoso.com", alice.guid, alice.sid):
        found = store.mailbox(ref)
        assert found is not None and found.id == alice.id, ref
    assert store.mailbox("nobody@contoso.com") is None
    assert store.count_mailboxes() == 1
    assert store.mailboxes(offset=1) == []


def test_every_mailbox_gets_the_well_known_folders(store: Store, alice: Mailbox) -> None:
    for name in WELL_KNOWN_FOLDERS:
        folder = store.folder(alice.id, name.upper())
        assert folder is not None and folder.well_known == name
    names = {f.display_name for f in store.folders(alice.id)}
    assert {"Inbox", "Sent Items", "Deleted Items", "Junk Email", "Drafts"} <= names
    assert "Deletions" not in names  # Recoverable Items are outside the message-folder root


def test_folder_ids_accept_both_forms_and_paths(store: Store, alice: Mailbox) -> None:
    phishing = store.create_folder(alice.id, "inbox", "Phishing")
    assert store.folder(alice.id, ids.to_rest(phishing.id)) == store.folder(alice.id, phishing.id)
    assert store.folder_by_path(alice.id, "inbox/PHISHING").id == phishing.id  # type: ignore[union-attr]
    assert store.folder_by_path(alice.id, "Inbox/Missing") is None
    inbox = store.folder(alice.id, "inbox")
    assert inbox is not None and inbox.child_folder_count == 1
    assert phishing.id in {f.id for f in store.folders(alice.id, deep=True)}


def test_message_round_trip_and_indexed_fields(store: Store, alice: Mailbox) -> None:
    mime = _mime()
    message = store.add_message(alice.id, "inbox", mime, received_at=WHEN)
    assert store.mime(message.id) == mime
    assert message.subject == "Quarterly numbers"
    assert message.from_ == Address("carol@fabrikam.com", "Carol")
    assert message.to == [Address("alice@contoso.com", "Alice")]
    assert message.body_type == "html" and "<b>attached</b>" in message.body
    assert message.body_preview == "See the attached files."
    assert message.has_attachments and message.size == len(mime)
    assert message.received_at == WHEN and not message.is_read
    assert message.internet_message_id == "<Quarterly-numbers@fabrikam.com>"
    rest = ids.to_rest(message.id)
    assert store.message(rest) == message
    assert store.message("not-an-id") is None
    assert store.find_by_internet_message_id(alice.id, "Quarterly-numbers@fabrikam.com") == [
        message
    ]
    inbox = store.folder(alice.id, "inbox")
    assert inbox is not None and (inbox.total_count, inbox.unread_count) == (1, 1)


def test_messages_newest_first_and_by_folder(store: Store, alice: Mailbox) -> None:
    older = store.add_message(alice.id, "inbox", _mime("older"), received_at=WHEN)
    newer = store.add_message(
        alice.id, "junkemail", _mime("newer"), received_at=WHEN + dt.timedelta(hours=1)
    )
    assert [m.id for m in store.messages(alice.id)] == [newer.id, older.id]
    assert [m.id for m in store.messages(alice.id, ["inbox"])] == [older.id]
    junk = store.folder(alice.id, "junkemail")
    assert junk is not None
    assert [m.id for m in store.messages(alice.id, [ids.to_rest(junk.id)])] == [newer.id]


def test_update_flags_and_draft_edits_regenerate_mime(store: Store, alice: Mailbox) -> None:
    message = store.add_message(alice.id, "drafts", _mime(), is_draft=True)
    attachment_ids = [a.id for a in store.attachments(message.id)]
    changed = store.update_message(
        message.id,
        is_read=True,
        categories=["Red"],
        subject="Edited",
        to=[Address("dave@contoso.com", "Dave")],
        body="plain now",
        body_type="text",
        importance="high",
    )
    assert changed.version > message.version
    assert (changed.is_read, changed.categories, changed.subject) == (True, ["Red"], "Edited")
    reparsed = parse_mime(store.mime(message.id))
    assert reparsed.subject == "Edited" and reparsed.importance == "high"
    assert reparsed.to == [Address("dave@contoso.com", "Dave")]
    assert reparsed.body == "plain now"
    assert [a.id for a in store.attachments(message.id)] == attachment_ids
    with pytest.raises(TypeError):
        store.update_message(message.id, mailbox_id=2)


def test_delete_attachment_rewrites_mime_and_keeps_other_ids(store: Store, alice: Mailbox) -> None:
    message = store.add_message(alice.id, "inbox", _mime())
    first, second, third = store.attachments(message.id)
    store.delete_attachment(ids.to_rest(second.id))
    assert [a.id for a in store.attachments(message.id)] == [first.id, third.id]
    assert [a.name for a in parse_mime(store.mime(message.id)).attachments] == [
        "file0.txt",
        "file2.txt",
    ]
    assert store.attachment_content(third.id) == b"content 2"
    assert store.attachment(second.id) is None
    assert store.message(message.id).version > message.version  # type: ignore[union-attr]


def test_reads_kept_between_writes_see_every_write(store: Store, alice: Mailbox) -> None:
    # Folder trees and apps are read once per write; a write, or a rolled-back one, shows.
    def names() -> set[str]:
        return {f.display_name for f in store.folders(alice.id, deep=True, counts=False)}

    assert "Phishing" not in names()
    store.create_folder(alice.id, "inbox", "Phishing")
    assert "Phishing" in names()
    with pytest.raises(RuntimeError), store.transaction():
        store.create_folder(alice.id, "inbox", "Rolled back")
        assert "Rolled back" in names()  # the writer sees its own transaction
        raise RuntimeError
    assert "Rolled back" not in names()
    store.add_app(App("cid", "full", "s3cret", None, None, ["Mail.Read"], None))
    assert store.app("cid").roles == ["Mail.Read"]  # type: ignore[union-attr]
    store.update_app("cid", roles=["Mail.ReadWrite"])
    assert store.app("cid").roles == ["Mail.ReadWrite"]  # type: ignore[union-attr]
    store.app("cid").roles.append("tampered")  # type: ignore[union-attr]
    assert store.app("cid").roles == ["Mail.ReadWrite"]  # type: ignore[union-attr]
    store.reset()
    assert store.app("cid") is None and names() == set()


def test_add_attachment_appends_a_part(store: Store, alice: Mailbox) -> None:
    message = store.add_message(alice.id, "inbox", _mime(attachments=1))
    before = store.attachments(message.id)
    inner = _mime("inner message", attachments=0)
    added = store.add_attachment(message.id, "inner.eml", "message/rfc822", inner, kind="item")
    after = store.attachments(message.id)
    assert [a.id for a in after] == [before[0].id, added.id]
    assert added.kind == "item" and added.name == "inner.eml"
    assert parse_mime(store.attachment_content(added.id)).subject == "inner message"


def test_inline_only_attachments_do_not_set_has_attachments(store: Store, alice: Mailbox) -> None:
    mime = build_mime(
        sender=Address("a@b.com"),
        to=[],
        subject="inline",
        body='<img src="cid:logo">',
        body_type="html",
        attachments=[("logo.png", "image/png", b"\x89PNG", True, "logo")],
    )
    message = store.add_message(alice.id, "inbox", mime)
    assert not message.has_attachments
    (logo,) = store.attachments(message.id)
    assert logo.is_inline and logo.content_id == "logo"


def test_streaming_reads_blobs_in_chunks(store: Store, alice: Mailbox) -> None:
    big = bytes(range(256)) * 4096  # 1 MiB
    mime = build_mime(
        sender=Address("a@b.com"),
        to=[],
        subject="big",
        body="x",
        attachments=[("big.bin", "application/octet-stream", big, False, None)],
    )
    message = store.add_message(alice.id, "inbox", mime)
    (attachment,) = store.attachments(message.id)
    chunks = list(store.iter_attachment_content(attachment.id, chunk_size=65536))
    assert len(chunks) == 16 and all(len(c) == 65536 for c in chunks)
    assert b"".join(chunks) == big
    assert b"".join(store.iter_mime(ids.to_rest(message.id), chunk_size=1000)) == mime
    with pytest.raises(StoreError):
        store.iter_mime("AAMk" + "A" * 40)


def test_move_within_mailbox_keeps_id_and_across_gets_new(
    store: Store, alice: Mailbox, bob: Mailbox
) -> None:
    message = store.add_message(alice.id, "inbox", _mime())
    junk = store.folder(alice.id, "junkemail")
    assert junk is not None
    moved = store.move_message(message.id, ids.to_rest(junk.id))
    assert moved.id == message.id and moved.folder_id == junk.id
    bob_inbox = store.folder(bob.id, "inbox")
    assert bob_inbox is not None
    elsewhere = store.move_message(message.id, bob_inbox.id)
    assert elsewhere.id != message.id and elsewhere.mailbox_id == bob.id
    assert store.message(message.id) is None
    assert ids.parse(elsewhere.id).mailbox_id == bob.id  # type: ignore[union-attr]
    assert [a.name for a in store.attachments(elsewhere.id)] == [
        "file0.txt",
        "file1.txt",
        "file2.txt",
    ]


def test_copy_gets_new_ids_for_message_and_attachments(store: Store, alice: Mailbox) -> None:
    message = store.add_message(alice.id, "inbox", _mime(), is_read=True)
    copy = store.copy_message(message.id, alice.id, "deleteditems")
    assert copy.id != message.id and copy.is_read
    assert store.mime(copy.id) == store.mime(message.id)
    original_ids = {a.id for a in store.attachments(message.id)}
    assert original_ids.isdisjoint(a.id for a in store.attachments(copy.id))
    store.delete_message(message.id)
    assert store.message(message.id) is None and store.attachments(message.id) == []
    assert store.message(copy.id) is not None


def test_search_uses_the_query_model(store: Store, alice: Mailbox) -> None:
    wanted = store.add_message(alice.id, "inbox", _mime("Invoice 12"))
    store.add_message(alice.id, "inbox", _mime("Lunch", attachments=0))
    assert [m.id for m in store.search(alice.id, parse_kql("attachment:file1"))] == [wanted.id]
    assert [m.id for m in store.search(alice.id, parse_kql("invoice"))] == [wanted.id]


def test_contacts_oof_settings_rules_and_blocked_senders(store: Store, alice: Mailbox) -> None:
    contact = store.add_contact(
        alice.id,
        Contact("", 0, "Lee Gu", "Lee", "Gu", [Address("lee@northwind.com", "Lee Gu")],
                [{"type": "mobile", "number": "+1 555"}], company="Northwind"),
    )  # fmt: skip
    assert store.contact(ids.to_rest(contact.id)) == contact
    assert store.contacts(alice.id) == [contact]
    assert store.out_of_office(alice.id).status == "disabled"
    oof = OutOfOffice("scheduled", "all", WHEN, WHEN + dt.timedelta(days=3), "in", "out")
    store.set_out_of_office(alice.id, oof)
    assert store.out_of_office(alice.id) == oof
    assert store.mailbox_settings(alice.id)["timeZone"] == "UTC"
    store.set_mailbox_settings(alice.id, {"timeZone": "Pacific Standard Time"})
    assert store.mailbox_settings(alice.id)["timeZone"] == "Pacific Standard Time"
    rule = store.add_rule(alice.id, Rule("", 0, "r", 2, True, {"subjectContains": ["x"]}, {}))
    store.update_rule(rule.id, is_enabled=False)
    assert [r.is_enabled for r in store.rules(alice.id)] == [False]
    store.delete_rule(rule.id)
    assert store.rules(alice.id) == []
    store.block_sender(alice.id, "Spam@Example.com")
    assert store.blocked_senders(alice.id) == ["spam@example.com"]
    store.block_sender(alice.id, "spam@example.com", blocked=False)
    assert store.blocked_senders(alice.id) == []


def test_state_survives_reopen_and_reset_empties(tmp_path: Path) -> None:
    path = tmp_path / "tenant.db"
    first = Store(path)
    mailbox = first.add_mailbox("alice@contoso.com", "Alice")
    message = first.add_message(mailbox.id, "inbox", _mime())
    first.close()
    again = Store(path)
    assert again.mime(message.id) == _mime()
    assert len(again.attachments(message.id)) == 3
    again.reset()
    assert again.count_mailboxes() == 0 and again.message(message.id) is None


def test_threads_get_their_own_connections(store: Store, alice: Mailbox) -> None:
    errors: list[BaseException] = []

    def add(n: int) -> None:
        try:
            for i in range(5):
                store.add_message(alice.id, "inbox", _mime(f"t{n}-{i}", attachments=1))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.messages(alice.id)) == 20


def test_connections_of_finished_threads_serve_the_next_threads(
    store: Store, alice: Mailbox
) -> None:
    # A thread per HTTP connection: a finished thread's SQLite connection goes to the next
    # thread (its caches warm), so connections neither pile up nor are opened per thread.
    used: list[sqlite3.Connection] = []

    def touch() -> None:
        assert store.mailbox(alice.id) is not None
        used.append(store._conn())

    for _ in range(3):
        threads = [threading.Thread(target=touch) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        gc.collect()
    assert len(used) == 60 and len({id(conn) for conn in used}) <= 21
    assert len(store._connections) <= 2  # this thread's, plus at most one not yet collected
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):  # the idle ones are closed with the store
        used[-1].execute("SELECT 1")


def test_deterministic_ids_repeat(tmp_path: Path) -> None:
    made = []
    for name in ("a.db", "b.db"):
        store = Store(tmp_path / name)
        with store.deterministic_ids("same"):
            mailbox = store.add_mailbox("alice@contoso.com", "Alice")
            made.append((mailbox.guid, store.add_message(mailbox.id, "inbox", _mime()).id))
    assert made[0] == made[1]
