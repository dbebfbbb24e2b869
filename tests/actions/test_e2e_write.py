"""The actions that change mailboxes, end to end on Graph and on EWS; each test starts from the
seed and checks the effect with another action, as a playbook would."""

from __future__ import annotations

from pathlib import Path

import pytest
from pack_runner import (
    CAMPAIGN_ATTACHMENTS,
    CAMPAIGN_SENDER,
    CAMPAIGN_SUBJECT,
    CAMPAIGN_USERS,
    PackRunner,
    campaign_id,
)

pytestmark = pytest.mark.sandbox


def find(pack: PackRunner, backend: str, **params) -> list[dict]:
    return pack.run("search_emails_extended", params, backend).data["messages"]


def test_copy_within_and_across_mailboxes(fresh_pack: PackRunner, backend: str) -> None:
    same = fresh_pack.run(
        "copy_email",
        {"internet_message_id": campaign_id("alice"), "destination_folder": "Inbox/Projects"},
        backend,
    ).data
    assert same["copy"]["mailbox"] == "alice@contoso.com"
    assert same["copy"]["id"] != same["source"]["id"]
    assert same["copy"]["subject"] == CAMPAIGN_SUBJECT
    in_projects = find(fresh_pack, backend, folder="Inbox/Projects", sender=CAMPAIGN_SENDER)
    assert [m["id"] for m in in_projects] == [same["copy"]["id"]]

    other = fresh_pack.run(
        "copy_email",
        {
            "mailbox": "bob@contoso.com",
            "internet_message_id": campaign_id("bob"),
            "destination_mailbox": "soc@contoso.com",
            "destination_folder": "Inbox/Triage",
        },
        backend,
    ).data
    assert other["copy"]["mailbox"] == "soc@contoso.com"
    assert other["destination_mailbox"] == "soc@contoso.com"
    triage = find(fresh_pack, backend, mailbox="soc@contoso.com", folder="Inbox/Triage")
    assert [m["internet_message_id"] for m in triage] == [campaign_id("bob")]
    assert triage[0]["has_attachments"] is True


def test_delete_attachments_dry_run_then_for_real(fresh_pack: PackRunner, backend: str) -> None:
    target = {"mailbox": "carol@contoso.com", "internet_message_id": campaign_id("carol")}
    dry = fresh_pack.run(
        "delete_attachments",
        {**target, "attachment_names": ["INV-20931.zip"], "dry_run": True},
        backend,
    )
    assert [(a["name"], a["status"]) for a in dry.data["attachments"]] == [
        ("INV-20931.zip", "would_delete")
    ]
    listed = fresh_pack.run("get_attachments", target, backend).data["attachments"]
    assert len(listed) == len(CAMPAIGN_ATTACHMENTS)

    done = fresh_pack.run(
        "delete_attachments", {**target, "attachment_names": ["INV-20931.zip"]}, backend
    )
    assert [(a["name"], a["status"]) for a in done.data["attachments"]] == [
        ("INV-20931.zip", "deleted")
    ]
    left = fresh_pack.run("get_attachments", target, backend).data["attachments"]
    assert sorted(a["name"] for a in left) == sorted(set(CAMPAIGN_ATTACHMENTS) - {"INV-20931.zip"})

    everything = fresh_pack.run("delete_attachments", {**target, "all_attachments": True}, backend)
    assert {a["status"] for a in everything.data["attachments"]} == {"deleted"}
    gone = find(fresh_pack, backend, mailbox="carol@contoso.com", sender=CAMPAIGN_SENDER)
    assert gone[0]["has_attachments"] is False


def test_delete_attachments_needs_a_choice(fresh_pack: PackRunner, backend: str) -> None:
    out = fresh_pack.run(
        "delete_attachments", {"internet_message_id": campaign_id("alice")}, backend
    )
    assert out.code == 64 and "all_attachments" in out.error["message"]


def test_delete_the_campaign_everywhere(fresh_pack: PackRunner, backend: str) -> None:
    mailboxes = [f"{u}@contoso.com" for u in CAMPAIGN_USERS]
    ids = [campaign_id(u) for u in CAMPAIGN_USERS]
    params = {"mailboxes": mailboxes, "message_ids": ids}

    dry = fresh_pack.run("delete_email", {**params, "dry_run": True}, backend)
    assert dry.envelope["summary"]["would_delete"] == 3
    assert len(find(fresh_pack, backend, all_mailboxes=True, sender=CAMPAIGN_SENDER)) == 3

    out = fresh_pack.run("delete_email", params, backend)
    deleted = sorted(
        (r["mailbox"], r["internet_message_id"])
        for r in out.data["results"]
        if r["status"] == "deleted"
    )
    assert deleted == sorted(zip(mailboxes, ids, strict=True))
    assert out.envelope["summary"] == {"deleted": 3, "would_delete": 0, "not_found": 6, "failed": 0}
    assert (
        find(fresh_pack, backend, all_mailboxes=True, sender=CAMPAIGN_SENDER, folder="inbox") == []
    )
    in_deleted = find(
        fresh_pack, backend, all_mailboxes=True, sender=CAMPAIGN_SENDER, folder="deleteditems"
    )
    assert len(in_deleted) == 3  # recoverable

    again = fresh_pack.run("delete_email", params, backend)
    assert again.code == 0
    assert again.envelope["summary"]["deleted"] == 0
    assert again.envelope["summary"]["failed"] == 0


def test_hard_delete_by_backend_id(fresh_pack: PackRunner, backend: str) -> None:
    [message] = find(fresh_pack, backend, mailbox="bob@contoso.com", sender=CAMPAIGN_SENDER)
    out = fresh_pack.run(
        "delete_email",
        {"mailbox": "bob@contoso.com", "message_id": message["id"], "delete_type": "hard"},
        backend,
    )
    assert [r["status"] for r in out.data["results"]] == ["deleted"]
    assert find(fresh_pack, backend, mailbox="bob@contoso.com", sender=CAMPAIGN_SENDER) == []
    gone = fresh_pack.run(
        "delete_email", {"mailbox": "bob@contoso.com", "message_id": message["id"]}, backend
    )
    assert [r["status"] for r in gone.data["results"]] == ["not_found"]


def test_junk_and_unjunk(fresh_pack: PackRunner, backend: str) -> None:
    junked = fresh_pack.run(
        "junk_mail",
        {"mailbox": "bob@contoso.com", "internet_message_id": campaign_id("bob")},
        backend,
    ).data
    assert junked["is_junk"] is True and junked["moved_to"] == "junkemail"
    assert junked["sender"] == CAMPAIGN_SENDER
    assert junked["message"]["internet_message_id"] == campaign_id("bob")
    in_junk = find(
        fresh_pack, backend, mailbox="bob@contoso.com", folder="junkemail", sender=CAMPAIGN_SENDER
    )
    assert [m["id"] for m in in_junk] == [junked["message"]["id"]]

    back = fresh_pack.run(
        "junk_mail",
        {"mailbox": "bob@contoso.com", "message_id": junked["message"]["id"], "is_junk": False},
        backend,
    ).data
    assert back["moved_to"] == "inbox"
    assert (
        find(
            fresh_pack,
            backend,
            mailbox="bob@contoso.com",
            folder="junkemail",
            sender=CAMPAIGN_SENDER,
        )
        == []
    )


def test_junk_without_moving(fresh_pack: PackRunner, backend: str) -> None:
    data = fresh_pack.run(
        "junk_mail", {"internet_message_id": campaign_id("alice"), "move": False}, backend
    ).data
    assert data["moved_to"] is None
    assert data["message"]["id"] == data["original_id"]


def test_send_email_and_find_it(fresh_pack: PackRunner, backend: str, tmp_path: Path) -> None:
    report = tmp_path / "hashes.csv"
    report.write_text("name,sha256\nINV-20931.pdf,abc\n")
    out = fresh_pack.run(
        "send_email",
        {
            "mailbox": "soc@contoso.com",
            "to": ["alice@contoso.com"],
            "cc": ["bob@contoso.com"],
            "subject": "Phishing INV-20931 removed",
            "body": "<p>We removed the <b>INV-20931</b> phishing mail.</p>",
            "body_type": "html",
            "attachment_paths": [str(report)],
            "importance": "high",
        },
        backend,
    )
    sent = out.data["message"]
    assert sent["mailbox"] == "soc@contoso.com"
    assert sent["internet_message_id"].startswith("<") and sent["internet_message_id"].endswith(">")
    assert out.data["attachment_names"] == ["hashes.csv"]
    [received] = find(
        fresh_pack,
        backend,
        mailbox="alice@contoso.com",
        internet_message_id=sent["internet_message_id"],
    )
    assert received["subject"] == "Phishing INV-20931 removed"
    assert received["importance"] == "high"
    assert received["has_attachments"] is True
    assert received["from"]["address"] == "soc@contoso.com"
    in_bob = find(
        fresh_pack,
        backend,
        mailbox="bob@contoso.com",
        internet_message_id=sent["internet_message_id"],
    )
    assert len(in_bob) == 1


def test_reply_to_the_reporter(fresh_pack: PackRunner, backend: str) -> None:
    [report] = find(fresh_pack, backend, mailbox="soc@contoso.com", subject="FW: Action required")
    out = fresh_pack.run(
        "reply_to_email",
        {
            "mailbox": "soc@contoso.com",
            "message_id": report["id"],
            "body": "Thanks Alice, we removed it from every mailbox.",
            "cc": ["carol@contoso.com"],
        },
        backend,
    )
    reply = out.data["reply"]
    assert out.data["in_reply_to"]["id"] == report["id"]
    [received] = find(
        fresh_pack,
        backend,
        mailbox="alice@contoso.com",
        internet_message_id=reply["internet_message_id"],
    )
    assert received["subject"].lower().startswith("re:")
    assert received["from"]["address"] == "soc@contoso.com"
    assert find(
        fresh_pack,
        backend,
        mailbox="carol@contoso.com",
        internet_message_id=reply["internet_message_id"],
    )


def test_junk_and_block_the_sender(fresh_pack: PackRunner, backend: str) -> None:
    target = {"mailbox": "carol@contoso.com", "internet_message_id": campaign_id("carol")}
    blocked = fresh_pack.run("junk_mail", {**target, "block_sender": True}, backend).data
    assert blocked["sender_blocked"] is True and blocked["moved_to"] == "junkemail"
    again = fresh_pack.run(
        "junk_mail",
        {
            "mailbox": "carol@contoso.com",
            "message_id": blocked["message"]["id"],
            "block_sender": True,
        },
        backend,
    ).data
    assert again["sender_blocked"] is True  # already blocked: nothing added twice
    unblocked = fresh_pack.run(
        "junk_mail",
        {
            "mailbox": "carol@contoso.com",
            "message_id": blocked["message"]["id"],
            "is_junk": False,
            "block_sender": True,
        },
        backend,
    ).data
    assert unblocked["sender_blocked"] is False and unblocked["moved_to"] == "inbox"


def test_delete_across_mailboxes_reports_a_missing_mailbox(
    fresh_pack: PackRunner, backend: str
) -> None:
    out = fresh_pack.run(
        "delete_email",
        {
            "mailboxes": ["alice@contoso.com", "nobody@contoso.com"],
            "internet_message_id": campaign_id("alice"),
        },
        backend,
    )
    statuses = {r["mailbox"]: r["status"] for r in out.data["results"]}
    assert statuses == {"alice@contoso.com": "deleted", "nobody@contoso.com": "failed"}
    assert out.envelope["summary"]["failed"] == 1
    assert any("nobody@contoso.com" in w for w in out.warnings)
