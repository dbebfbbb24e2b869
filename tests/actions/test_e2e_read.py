"""The read actions end to end, on Graph and on EWS, over the demo tenant."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from pack_runner import (
    CAMPAIGN_ATTACHMENTS,
    CAMPAIGN_SENDER,
    CAMPAIGN_SUBJECT,
    PackRunner,
    campaign_id,
)

pytestmark = pytest.mark.sandbox
CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"


def test_connection_reports_roles_and_allowed_actions(fresh_pack: PackRunner, backend: str) -> None:
    out = fresh_pack.run("test_connection", {}, backend)
    data = out.data
    assert data["backend"] == backend
    assert data["auth_method"] == "client_secret"
    assert data["usable"] is True
    assert data["token_expires_at"]
    assert data["mailbox_probe"] == {"mailbox": "alice@contoso.com", "status": "ok", "error": None}
    assert all(check["allowed"] for check in data["actions"])
    assert data["actions"][0]["id"] == "test_connection"
    if backend == "ews":
        assert "full_access_as_app" in data["roles"]
        assert data["ews_status"] == "reachable"
    else:
        assert "Mail.ReadWrite" in data["roles"]


def test_connection_with_the_readonly_app_names_what_is_missing(fresh_pack: PackRunner) -> None:
    out = fresh_pack.run("test_connection", {}, "graph", app="readonly")
    checks = {c["id"]: c for c in out.data["actions"]}
    assert checks["search_emails_extended"]["allowed"]
    assert checks["delete_email"]["missing"] == ["Mail.ReadWrite"]
    assert checks["send_email"]["missing"] == ["Mail.Send"]
    assert any("delete_email needs Mail.ReadWrite" in w for w in out.warnings)


def test_searchable_mailboxes(fresh_pack: PackRunner, backend: str) -> None:
    data = fresh_pack.run("get_searchable_mailboxes", {}, backend).data
    types = {box["address"]: box["type"] for box in data["mailboxes"]}
    assert data["count"] == len(data["mailboxes"])
    expected = {f"{user}@contoso.com": "user" for user in ("alice", "bob", "carol", "dave")}
    expected |= {"soc@contoso.com": "shared", "room-boardroom@contoso.com": "room"}
    if backend == "ews":  # GetSearchableMailboxes does not carry the mailbox type
        expected = dict.fromkeys(expected, "unknown")
    assert {address: types.get(address) for address in expected} == expected
    limited = fresh_pack.run("get_searchable_mailboxes", {"limit": 2}, backend).data
    assert limited["count"] == 2


def test_out_of_office(fresh_pack: PackRunner, backend: str) -> None:
    dave = fresh_pack.run("get_out_of_office", {"mailbox": "dave@contoso.com"}, backend).data
    assert dave["status"] == "scheduled"
    assert dave["active_now"] is True
    assert dave["external_audience"] == "all"
    assert "Project Falcon" in dave["internal_reply"]
    alice = fresh_pack.run("get_out_of_office", {}, backend).data  # default mailbox
    assert alice["mailbox"] == "alice@contoso.com"
    assert alice["status"] == "disabled" and alice["active_now"] is False


def test_contacts(fresh_pack: PackRunner, backend: str) -> None:
    data = fresh_pack.run("get_contacts", {"mailbox": "soc@contoso.com"}, backend).data
    names = sorted(c["display_name"] for c in data["contacts"])
    assert names == ["Adele Vance", "Alice Johnson", "Contoso CERT", "Fabrikam Security"]
    assert data["next_cursor"] is None
    first = fresh_pack.run("get_contacts", {"limit": 2}, backend).data
    assert first["count"] == 2 and first["next_cursor"]
    rest = fresh_pack.run("get_contacts", {"limit": 10, "cursor": first["next_cursor"]}, backend)
    paged = [c["display_name"] for c in first["contacts"] + rest.data["contacts"]]
    assert len(paged) == len(set(paged)) == 5
    fabrikam = fresh_pack.run("get_contacts", {"query": "Fabrikam"}, backend).data
    assert [c["display_name"] for c in fabrikam["contacts"]] == ["Megan Bowen"]
    assert fabrikam["contacts"][0]["email_addresses"] == ["megan.bowen@fabrikam.com"]


def test_search_finds_the_campaign_in_every_mailbox(fresh_pack: PackRunner, backend: str) -> None:
    out = fresh_pack.run(
        "search_emails_extended", {"all_mailboxes": True, "sender": CAMPAIGN_SENDER}, backend
    )
    data = out.data
    found = sorted((m["mailbox"], m["internet_message_id"]) for m in data["messages"])
    assert found == [(f"{u}@contoso.com", campaign_id(u)) for u in ("alice", "bob", "carol")]
    message = data["messages"][0]
    assert message["subject"] == CAMPAIGN_SUBJECT
    assert message["from"]["address"] == CAMPAIGN_SENDER
    assert message["has_attachments"] is True
    assert message["importance"] == "high"
    assert message["folder"] == "inbox"
    assert {s["status"] for s in data["mailboxes"]} == {"ok"}
    assert len(data["mailboxes"]) >= 6
    assert out.envelope["summary"]["failed"] == 0
    assert data["truncated"] is False and data["next_cursor"] is None


def test_search_filters_combine(fresh_pack: PackRunner, backend: str) -> None:
    run = fresh_pack.run
    params = {"mailbox": "alice@contoso.com", "attachment_name": "INV-20931.zip"}
    by_attachment = run("search_emails_extended", params, backend).data["messages"]
    assert [m["internet_message_id"] for m in by_attachment] == [campaign_id("alice")]
    unread = run(
        "search_emails_extended",
        {"mailbox": "bob@contoso.com", "is_read": False, "subject": "INV-20931"},
        backend,
    ).data["messages"]
    assert [m["internet_message_id"] for m in unread] == [campaign_id("bob")]
    assert all(m["is_read"] is False for m in unread)
    read = run(
        "search_emails_extended",
        {"mailbox": "alice@contoso.com", "is_read": False, "sender": CAMPAIGN_SENDER},
        backend,
    ).data["messages"]
    assert read == []  # alice opened it
    by_id = run(
        "search_emails_extended",
        {"mailboxes": ["soc@contoso.com"], "internet_message_id": campaign_id("carol")},
        backend,
    ).data
    assert by_id["messages"] == [] and by_id["mailboxes"][0]["status"] == "ok"


def test_search_pages_with_the_cursor(fresh_pack: PackRunner, backend: str) -> None:
    params = {"mailbox": "alice@contoso.com", "limit": 4}
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        out = fresh_pack.run(
            "search_emails_extended", {**params, "cursor": cursor} if cursor else params, backend
        )
        seen += [m["id"] for m in out.data["messages"]]
        cursor = out.data["next_cursor"]
        if not cursor:
            break
    everything = fresh_pack.run("search_emails_extended", {"mailbox": "alice@contoso.com"}, backend)
    assert len(seen) == len(set(seen)) == everything.data["total"] > 4


def test_search_reports_a_missing_mailbox_without_failing(
    fresh_pack: PackRunner, backend: str
) -> None:
    out = fresh_pack.run(
        "search_emails_extended",
        {"mailboxes": ["alice@contoso.com", "nobody@contoso.com"], "sender": CAMPAIGN_SENDER},
        backend,
    )
    statuses = {s["mailbox"]: s["status"] for s in out.data["mailboxes"]}
    assert statuses == {"alice@contoso.com": "ok", "nobody@contoso.com": "not_found"}
    assert out.envelope["summary"]["failed"] == 1
    assert out.data["total"] == 1
    assert any("nobody@contoso.com" in w for w in out.warnings)


def test_get_attachments_writes_hashed_files(fresh_pack: PackRunner, backend: str) -> None:
    out = fresh_pack.run(
        "get_attachments",
        {"mailbox": "bob@contoso.com", "internet_message_id": campaign_id("bob")},
        backend,
    )
    data = out.data
    assert data["message"]["internet_message_id"] == campaign_id("bob")
    assert sorted(a["name"] for a in data["attachments"]) == sorted(CAMPAIGN_ATTACHMENTS)
    output_dir = Path(data["output_dir"])
    for attachment in data["attachments"]:
        file = attachment["file"]
        path = Path(file["path"])
        assert path.parent == output_dir
        content = path.read_bytes()
        assert file["size"] == len(content)
        assert file["sha256"] == hashlib.sha256(content).hexdigest()
        assert file["md5"] == hashlib.md5(content).hexdigest()
        assert file["content_base64"] is None
    by_name = {a["name"]: a for a in data["attachments"]}
    assert Path(by_name["INV-20931.pdf"]["file"]["path"]).read_bytes().startswith(b"%PDF")
    with zipfile.ZipFile(by_name["INV-20931.zip"]["file"]["path"]) as archive:
        assert archive.namelist() == ["invoice.js"]
    notice = by_name["forwarded-notice.eml"]
    assert notice["kind"] == "item"
    assert notice["file"]["file_name"].endswith(".eml")
    assert b"Final notice: INV-20931" in Path(notice["file"]["path"]).read_bytes()


def test_get_attachments_downloads_concurrently(fresh_pack: PackRunner, backend: str) -> None:
    # Every request waits 500 ms in the tenant: downloads one after another would arrive at
    # least 3 x 500 ms apart; concurrent ones arrive together.
    latency = 0.5
    fresh_pack.sandbox.settings(latency_ms=int(latency * 1000))
    params = {"mailbox": "alice@contoso.com", "internet_message_id": campaign_id("alice")}
    data = fresh_pack.run("get_attachments", params, backend).data
    log = fresh_pack.sandbox.requests()
    if backend == "graph":
        downloads = [
            e for e in log if "/attachments/" in e["path"] and e["path"].endswith("$value")
        ]
    else:
        downloads = [e for e in log if e["operation"] == "GetAttachment"]
    arrivals = sorted(entry["ts"] for entry in downloads)
    assert len(arrivals) == len(CAMPAIGN_ATTACHMENTS)
    assert arrivals[-1] - arrivals[0] < 2 * latency, arrivals
    # Same files, names and digests as the serial recording of this call (tests/cassettes).
    recorded = json.loads((CASSETTES / backend / "get_attachments.json").read_text())
    fields = ("name", "size", "kind")
    digests = ("file_name", "size", "sha256", "sha1", "md5")
    assert [
        ({k: a[k] for k in fields}, {k: a["file"][k] for k in digests}) for a in data["attachments"]
    ] == [
        ({k: a[k] for k in fields}, {k: a["file"][k] for k in digests})
        for a in recorded["data"]["attachments"]
    ]
    for attachment in data["attachments"]:
        content = Path(attachment["file"]["path"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == attachment["file"]["sha256"]


def test_get_attachments_by_name_with_content(fresh_pack: PackRunner, backend: str) -> None:
    data = fresh_pack.run(
        "get_attachments",
        {
            "internet_message_id": campaign_id("alice"),
            "attachment_names": ["remittance.html"],
            "include_content": True,
        },
        backend,
    ).data
    [attachment] = data["attachments"]
    content = base64.b64decode(attachment["file"]["content_base64"])
    assert content == Path(attachment["file"]["path"]).read_bytes()
    assert b"<form" in content


def test_get_attachments_refuses_files_over_max_size(fresh_pack: PackRunner, backend: str) -> None:
    out = fresh_pack.run(
        "get_attachments",
        {"internet_message_id": campaign_id("alice"), "max_size_bytes": 200},
        backend,
    )
    skipped = [a for a in out.data["attachments"] if a["skipped_reason"]]
    assert skipped and all(a["file"] is None for a in skipped)
    assert all("max_size_bytes" in a["skipped_reason"] for a in skipped)
    assert out.envelope["summary"]["skipped"] == len(skipped)


def test_download_mail_as_eml(fresh_pack: PackRunner, backend: str) -> None:
    data = fresh_pack.run(
        "download_mail_as_eml",
        {"mailbox": "carol@contoso.com", "internet_message_id": campaign_id("carol")},
        backend,
    ).data
    path = Path(data["file"]["path"])
    content = path.read_bytes()
    assert path.name == f"{CAMPAIGN_SUBJECT.replace(':', '_')}.eml"
    assert data["file"]["sha256"] == hashlib.sha256(content).hexdigest()
    headers = data["headers"]
    assert headers["from"] == f"Contoso Payments <{CAMPAIGN_SENDER}>"
    assert headers["subject"] == CAMPAIGN_SUBJECT
    assert headers["message_id"] == campaign_id("carol")
    assert headers["return_path"] == "<bounce@cp-mail.example>"
    assert headers["to"] and "carol@contoso.com" in headers["to"][0]


def test_download_by_backend_id_from_search(fresh_pack: PackRunner, backend: str) -> None:
    found = fresh_pack.run(
        "search_emails_extended",
        {"mailbox": "soc@contoso.com", "subject": "FW: Action required"},
        backend,
    ).data["messages"]
    assert len(found) == 1
    data = fresh_pack.run(
        "download_mail_as_eml",
        {"mailbox": "soc@contoso.com", "message_id": found[0]["id"], "include_content": True},
        backend,
    ).data
    assert data["message"]["id"] == found[0]["id"]
    assert (
        base64.b64decode(data["file"]["content_base64"]) == Path(data["file"]["path"]).read_bytes()
    )
