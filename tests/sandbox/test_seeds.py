"""The demo and bulk seeds: the names the whole team relies on, real files, determinism."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from exchange_sandbox.kql import parse_kql
from exchange_sandbox.mime import parse_mime
from exchange_sandbox.seeds import CAMPAIGN_SUBJECT, seed
from exchange_sandbox.store import Mailbox, Message, Store

DOMAIN = "contoso.com"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("demo") / "tenant.db")
    seed(store, "demo")
    return store


def _mailbox(store: Store, name: str) -> Mailbox:
    found = store.mailbox(f"{name}@{DOMAIN}")
    assert found is not None, name
    return found


def _campaign(store: Store, user: str) -> Message:
    mailbox = _mailbox(store, user)
    found = store.find_by_internet_message_id(
        mailbox.id, f"<inv-20931-{user}@contoso-payments.com>"
    )
    assert len(found) == 1
    return found[0]


def test_demo_mailboxes_and_types(demo: Store) -> None:
    types = {m.address: m.type for m in demo.mailboxes()}
    assert types == {
        "alice@contoso.com": "user",
        "bob@contoso.com": "user",
        "carol@contoso.com": "user",
        "dave@contoso.com": "user",
        "soc@contoso.com": "shared",
        "room-boardroom@contoso.com": "room",
        "phish-report@contoso.com": "shared",
    }


@pytest.mark.parametrize("user", ["alice", "bob", "carol"])
def test_campaign_copy_in_each_inbox(demo: Store, user: str) -> None:
    message = _campaign(demo, user)
    inbox = demo.folder(message.mailbox_id, "inbox")
    assert inbox is not None and message.folder_id == inbox.id
    assert message.subject == CAMPAIGN_SUBJECT
    assert message.from_ is not None
    assert (message.from_.address, message.from_.name) == (
        "billing@contoso-payments.com",
        "Contoso Payments",
    )
    assert message.body_type == "html" and "href=" in message.body
    assert [a.name for a in demo.attachments(message.id)] == [
        "INV-20931.pdf",
        "INV-20931.zip",
        "remittance.html",
        "forwarded-notice.eml",
    ]


def test_campaign_attachments_are_real_files(demo: Store) -> None:
    pdf, archive, page, notice = demo.attachments(_campaign(demo, "alice").id)
    pdf_bytes = demo.attachment_content(pdf.id)
    assert pdf_bytes.startswith(b"%PDF-1.4") and pdf_bytes.rstrip().endswith(b"%%EOF")
    xref = int(pdf_bytes.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf_bytes[xref:].startswith(b"xref")  # offsets are right: a reader can open it
    with zipfile.ZipFile(io.BytesIO(demo.attachment_content(archive.id))) as zipped:
        assert zipped.testzip() is None
        assert zipped.namelist() == ["invoice.js"]
    assert page.content_type == "text/html"
    assert b"<form" in demo.attachment_content(page.id)
    assert notice.kind == "item" and notice.content_type == "message/rfc822"
    assert parse_mime(demo.attachment_content(notice.id)).subject.startswith("Final notice")


def test_report_to_soc_and_sent_items(demo: Store) -> None:
    soc, alice = _mailbox(demo, "soc"), _mailbox(demo, "alice")
    reports = demo.search(soc.id, parse_kql(f'subject:"FW: {CAMPAIGN_SUBJECT}"'), ["inbox"])
    assert len(reports) == 1 and reports[0].from_.address == "alice@contoso.com"  # type: ignore[union-attr]
    (original,) = demo.attachments(reports[0].id)
    assert original.kind == "item"
    sent = demo.messages(alice.id, ["sentitems"])
    assert reports[0].internet_message_id in {m.internet_message_id for m in sent}


def test_ordinary_mail_around_it(demo: Store) -> None:
    for name in ("alice", "bob", "carol", "dave", "soc"):
        mailbox = _mailbox(demo, name)
        messages = demo.messages(mailbox.id)
        assert len(messages) >= 10, name
        assert any(m.is_read for m in messages) and any(not m.is_read for m in messages), name
        assert sum(m.has_attachments for m in messages) >= 2, name
    for name in ("alice", "bob", "carol"):
        assert demo.messages(_mailbox(demo, name).id, ["sentitems"]), name


def test_contacts_oof_and_settings(demo: Store) -> None:
    for name in ("alice", "soc"):
        contacts = demo.contacts(_mailbox(demo, name).id)
        assert len(contacts) >= 4
        assert all(c.emails and c.phones and c.company and c.job_title for c in contacts)
    oof = demo.out_of_office(_mailbox(demo, "dave").id)
    now = dt.datetime.now(dt.timezone.utc)
    assert oof.status == "scheduled" and oof.external_audience == "all"
    assert oof.start is not None and oof.end is not None and oof.start < now < oof.end
    assert oof.internal_reply and oof.external_reply
    assert demo.out_of_office(_mailbox(demo, "alice").id).status == "disabled"


def test_apps_and_service_account(demo: Store) -> None:
    apps = {app.display_name: app for app in demo.apps()}
    assert set(apps) == {"full", "readonly", "scoped"}
    assert {"Mail.ReadWrite", "Mail.Send", "full_access_as_app"} <= set(apps["full"].roles)
    assert "full_access_as_app" not in apps["readonly"].roles
    assert "Mail.Read" in apps["readonly"].roles
    assert apps["scoped"].mailbox_scope == ["alice@contoso.com"]
    assert all(app.client_secret for app in apps.values())
    account = demo.get_setting("service_account")
    assert account["username"] == "svc-soar@contoso.com" and account["password"]


def test_demo_is_deterministic(demo: Store, tmp_path: Path) -> None:
    again = Store(tmp_path / "again.db")
    seed(again, "demo")
    assert [m.guid for m in again.mailboxes()] == [m.guid for m in demo.mailboxes()]
    assert [(a.client_id, a.client_secret) for a in again.apps()] == [
        (a.client_id, a.client_secret) for a in demo.apps()
    ]
    first, second = _campaign(demo, "bob"), _campaign(again, "bob")
    assert first.id == second.id
    assert demo.mime(first.id) == again.mime(second.id)
    assert [a.id for a in demo.attachments(first.id)] == [
        a.id for a in again.attachments(second.id)
    ]


def test_app_certificate_hook(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    seed(store, "none")
    assert store.count_mailboxes() == 0 and store.apps() == []
    seed(store, "bulk:1:1", app_cert_pem="-----BEGIN CERTIFICATE-----")
    full = next(app for app in store.apps() if app.display_name == "full")
    assert full.certificate_pem == "-----BEGIN CERTIFICATE-----"


def test_small_bulk_counts(tmp_path: Path) -> None:
    store = Store(tmp_path / "bulk.db")
    seed(store, "bulk:5:3")
    mailboxes = store.mailboxes()
    assert len(mailboxes) == 5
    for mailbox in mailboxes:
        messages = store.messages(mailbox.id, ["inbox"])
        assert len(messages) == 3
        assert len({m.internet_message_id for m in messages}) == 3
        campaign = [m for m in messages if m.subject == CAMPAIGN_SUBJECT]
        assert len(campaign) == 1 and store.attachments(campaign[0].id)
    assert {a.display_name for a in store.apps()} == {"full", "readonly", "scoped"}


def test_unknown_seed_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        seed(Store(tmp_path / "x.db"), "galaxy")
