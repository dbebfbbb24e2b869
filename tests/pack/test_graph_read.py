"""Graph backend reads against the sandbox: resolve, MIME, attachments, search, contacts,
with the round trips counted in the sandbox request log."""

from __future__ import annotations

import base64
import datetime as dt
import email
import io
import zipfile

import pytest
from graph_backend_support import (
    CAMPAIGN_SENDER,
    CAMPAIGN_SUBJECT,
    GraphHarness,
    campaign_id,
    harness,
)

from exchange_pack import errors
from exchange_pack.backend import ByteStream
from exchange_pack.models import SearchCriteria
from exchange_sandbox.process import Sandbox


@pytest.fixture
def graph(fresh_sandbox: Sandbox) -> GraphHarness:
    return harness(fresh_sandbox)


def _read(stream: ByteStream) -> bytes:
    with stream as chunks:
        return b"".join(chunks)


# -- resolve -------------------------------------------------------------------------------
def test_resolve_by_internet_message_id_is_one_request(graph: GraphHarness) -> None:
    message = graph.mailbox().resolve(campaign_id("alice"))
    assert message.subject == CAMPAIGN_SUBJECT
    assert message.from_ is not None and message.from_.address == CAMPAIGN_SENDER
    assert message.internet_message_id == campaign_id("alice")
    assert message.received_at and message.received_at.endswith("Z")
    assert graph.session.stats.requests == 1
    assert [r["path"] for r in graph.graph_requests()] == ["/v1.0/users/alice@contoso.com/messages"]


def test_resolve_by_id_is_one_get_and_accepts_the_ews_form(graph: GraphHarness) -> None:
    found = graph.mailbox().resolve(campaign_id("alice"))
    graph.start_counting()
    by_id = graph.mailbox().resolve(found.id)
    ews_id = found.id.replace("-", "/").replace("_", "+")
    by_ews_id = graph.mailbox().resolve(ews_id)
    assert by_id.id == by_ews_id.id == found.id
    assert graph.session.stats.requests == 2
    assert all(r["method"] == "GET" for r in graph.graph_requests())


def test_unknown_message_and_mailbox_map_to_their_errors(graph: GraphHarness) -> None:
    with pytest.raises(errors.MessageNotFoundError) as caught:
        graph.mailbox().resolve("<nobody@nowhere.example>")
    assert caught.value.exit_code == 66
    with pytest.raises(errors.MailboxNotFoundError) as mailbox_error:
        graph.mailbox("nobody@contoso.com").resolve(campaign_id("alice"))
    assert mailbox_error.value.exit_code == 67


# -- MIME and attachments --------------------------------------------------------------------
def test_mime_streams_the_full_message(graph: GraphHarness) -> None:
    mailbox = graph.mailbox()
    message = mailbox.resolve(campaign_id("alice"))
    graph.start_counting()
    raw = _read(mailbox.open_mime(message))
    parsed = email.message_from_bytes(raw)
    assert parsed["Message-ID"] == campaign_id("alice")
    assert graph.session.stats.requests == 1


def test_attachments_list_and_stream_real_files(graph: GraphHarness) -> None:
    mailbox = graph.mailbox()
    message = mailbox.resolve(campaign_id("alice"))
    graph.start_counting()
    listed = {a.name: a for a in mailbox.attachments(message)}
    assert set(listed) == {
        "INV-20931.pdf",
        "INV-20931.zip",
        "remittance.html",
        "forwarded-notice.eml",
    }
    assert listed["forwarded-notice.eml"].kind == "item"
    pdf = _read(mailbox.open_attachment(message, listed["INV-20931.pdf"]))
    assert pdf.startswith(b"%PDF") and len(pdf) == listed["INV-20931.pdf"].size
    archive = zipfile.ZipFile(
        io.BytesIO(_read(mailbox.open_attachment(message, listed["INV-20931.zip"])))
    )
    assert any(name.endswith(".js") for name in archive.namelist())
    attached = email.message_from_bytes(
        _read(mailbox.open_attachment(message, listed["forwarded-notice.eml"]))
    )
    assert attached["Subject"]
    assert graph.session.stats.requests == 4  # list + one stream per attachment


def test_delete_attachment_removes_it(graph: GraphHarness) -> None:
    mailbox = graph.mailbox()
    message = mailbox.resolve(campaign_id("alice"))
    zip_file = next(a for a in mailbox.attachments(message) if a.name.endswith(".zip"))
    mailbox.delete_attachment(message, zip_file)
    assert zip_file.name not in {a.name for a in mailbox.attachments(message)}
    with pytest.raises(errors.AttachmentNotFoundError):
        mailbox.delete_attachment(message, zip_file)


# -- search --------------------------------------------------------------------------------
def test_filter_search_names_folders_with_one_extra_request(graph: GraphHarness) -> None:
    page = graph.mailbox().search(SearchCriteria(sender=CAMPAIGN_SENDER), limit=10)
    assert [m.internet_message_id for m in page.items] == [campaign_id("alice")]
    assert page.items[0].folder == "inbox"
    assert page.next_cursor is None
    assert graph.session.stats.requests == 2  # messages + top-level folders


def test_search_with_kql_terms_checks_the_filters_locally(graph: GraphHarness) -> None:
    criteria = SearchCriteria(body="overdue", sender=CAMPAIGN_SENDER, is_read=False)
    read_state = graph.mailbox().resolve(campaign_id("alice")).is_read
    found = graph.mailbox().search(criteria, limit=10).items
    # is_read cannot go with $search: it is checked locally, never dropped.
    assert [m.subject for m in found] == ([] if read_state else [CAMPAIGN_SUBJECT])
    found_read = graph.mailbox().search(criteria.model_copy(update={"is_read": read_state}), 10)
    assert [m.subject for m in found_read.items] == [CAMPAIGN_SUBJECT]


def test_query_and_attachment_name_use_search(graph: GraphHarness) -> None:
    by_query = graph.mailbox().search(SearchCriteria(query="invoice"), limit=10).items
    assert CAMPAIGN_SUBJECT in {m.subject for m in by_query}
    by_name = graph.mailbox().search(SearchCriteria(attachment_name="INV-20931.zip"), 10).items
    assert [m.subject for m in by_name] == [CAMPAIGN_SUBJECT]


def test_cursor_continues_without_gaps_or_repeats(graph: GraphHarness) -> None:
    mailbox = graph.mailbox()
    everything = mailbox.search(SearchCriteria(), limit=200).items
    seen = []
    cursor = None
    for _ in range(50):
        page = mailbox.search(SearchCriteria(), limit=3, cursor=cursor)
        seen += [m.id for m in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [m.id for m in everything]
    assert len(seen) > 10


def test_local_filter_pages_until_the_limit(graph: GraphHarness) -> None:
    criteria = SearchCriteria(query="invoice", has_attachments=True)
    found = graph.mailbox().search(criteria, limit=1)
    assert len(found.items) == 1 and found.items[0].has_attachments


def test_a_forged_cursor_is_refused(graph: GraphHarness) -> None:
    forged = base64.urlsafe_b64encode(b'{"link":"https://evil.example/v1.0/x","skip":0}').decode()
    with pytest.raises(errors.InternalError):
        graph.mailbox().search(SearchCriteria(), limit=5, cursor=forged)
    with pytest.raises(errors.InputError):
        graph.mailbox().search(SearchCriteria(), limit=5, cursor="not a cursor")


def test_folder_by_well_known_name_and_by_path(graph: GraphHarness) -> None:
    mailbox = graph.mailbox()
    sent = mailbox.search(SearchCriteria(folder="Sent Items"), limit=50).items
    assert sent and all(m.folder == "sentitems" for m in sent)
    nested = mailbox.search(SearchCriteria(folder="Inbox/Projects"), limit=50).items
    assert [m.subject for m in nested] == ["Project Falcon timeline"]
    assert nested[0].folder == "Inbox/Projects"
    with pytest.raises(errors.FolderNotFoundError):
        mailbox.search(SearchCriteria(folder="Inbox/Nope"), limit=5)


def test_nested_folders_are_named_by_their_path(graph: GraphHarness) -> None:
    found = graph.mailbox().search(SearchCriteria(subject="Project Falcon"), limit=10).items
    folders = {m.subject: m.folder for m in found}
    assert folders["Project Falcon timeline"] == "Inbox/Projects"


def test_received_window_filters_on_the_server(graph: GraphHarness) -> None:
    message = graph.mailbox().resolve(campaign_id("alice"))
    at = dt.datetime.fromisoformat(message.received_at.replace("Z", "+00:00"))
    window = SearchCriteria(
        received_after=at - dt.timedelta(seconds=1), received_before=at + dt.timedelta(seconds=1)
    )
    found = graph.mailbox().search(window, limit=10).items
    assert campaign_id("alice") in {m.internet_message_id for m in found}
    assert all(m.received_at == message.received_at for m in found)


# -- contacts ------------------------------------------------------------------------------
def test_contacts_with_text_filter_limit_and_cursor(graph: GraphHarness) -> None:
    mailbox = graph.mailbox()
    everyone = mailbox.contacts(None, 100).items
    assert len(everyone) >= 2
    bob = mailbox.contacts("bob@contoso", 10).items
    assert [c.display_name for c in bob] == ["Bob Smith"]
    first = mailbox.contacts(None, 1)
    assert len(first.items) == 1 and first.next_cursor
    rest = mailbox.contacts(None, 100, first.next_cursor).items
    assert [c.id for c in first.items + rest] == [c.id for c in everyone]


def test_readonly_app_reads_but_is_denied_writes(fresh_sandbox: Sandbox) -> None:
    readonly = harness(fresh_sandbox, app="readonly")
    mailbox = readonly.mailbox()
    message = mailbox.resolve(campaign_id("alice"))
    with pytest.raises(errors.AccessDeniedError) as caught:
        mailbox.move(message, "junkemail")
    assert "Mail.ReadWrite" in (caught.value.hint or "")
    assert caught.value.exit_code == 77
