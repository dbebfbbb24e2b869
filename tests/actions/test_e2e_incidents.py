"""Ingestion on both backends: poll_mailbox delivers each new message of the reporting mailbox
exactly once (ordering, limit, mail arriving between polls, a lost run, an expired sync
state), and get_email enriches a reported message the same way on Graph and EWS."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pack_runner import PackRunner
from test_parity import without_backend_ids

from exchange_pack.ingest import IncidentRecord, MemoryStore, ingest

pytestmark = pytest.mark.sandbox

REPORTS = "phish-report@contoso.com"
SEEDED_SINCE = "2026-11-20T00:00:00Z"
SEEDED = ["<report-quota-bob@contoso.com>", "<report-quota-carol@contoso.com>"]


def _poll(pack: PackRunner, backend: str, **params: Any) -> dict[str, Any]:
    return pack.run("poll_mailbox", {"mailbox": REPORTS, **params}, backend).data


def _deliver(pack: PackRunner, subjects: list[str]) -> None:
    """New reports arrive in the reporting mailbox (dave sends them through Graph)."""
    for subject in subjects:
        sent = pack.run(
            "send_email",
            {"mailbox": "dave@contoso.com", "to": [REPORTS], "subject": subject, "body": "x"},
            "graph",
        )
        assert sent.code == 0, sent.envelope


def _ids(data: dict[str, Any]) -> list[str]:
    return [m["internet_message_id"] for m in data["messages"]]


def test_first_poll_from_now_delivers_nothing_then_what_arrives(
    fresh_pack: PackRunner, backend: str
) -> None:
    first = _poll(fresh_pack, backend)
    assert first["count"] == 0 and not first["more"]
    _deliver(fresh_pack, ["arrived after the first poll"])
    second = _poll(fresh_pack, backend, checkpoint=first["checkpoint"])
    assert [m["subject"] for m in second["messages"]] == ["arrived after the first poll"]


def test_exactly_once_over_three_polls_with_mail_arriving_in_between(
    fresh_pack: PackRunner, backend: str
) -> None:
    seen: list[str] = []
    first = _poll(fresh_pack, backend, since=SEEDED_SINCE, limit=1)
    assert _ids(first) == SEEDED[:1] and first["more"]  # received order, limit 1
    seen += _ids(first)
    _deliver(fresh_pack, ["report A", "report B"])
    second = _poll(fresh_pack, backend, checkpoint=first["checkpoint"], limit=2)
    assert _ids(second)[0] == SEEDED[1] and second["more"]
    seen += _ids(second)
    _deliver(fresh_pack, ["report C"])
    third = _poll(fresh_pack, backend, checkpoint=second["checkpoint"], limit=10)
    seen += _ids(third)
    fourth = _poll(fresh_pack, backend, checkpoint=third["checkpoint"])
    assert fourth["count"] == 0 and not fourth["more"]
    subjects = [m["subject"] for d in (first, second, third) for m in d["messages"]]
    assert len(seen) == len(set(seen)) == 5
    assert subjects[2:] == ["report A", "report B", "report C"]
    received = [m["received_at"] for d in (first, second, third) for m in d["messages"]]
    assert received == sorted(received)


def test_a_lost_run_redelivers_its_page_marked_and_skips_nothing(
    fresh_pack: PackRunner, backend: str
) -> None:
    first = _poll(fresh_pack, backend, since=SEEDED_SINCE, limit=1)
    lost = _poll(fresh_pack, backend, checkpoint=first["checkpoint"], limit=1)
    # The engine crashed before storing lost["checkpoint"]: it passes the old one again.
    again = _poll(fresh_pack, backend, checkpoint=first["checkpoint"], limit=1)
    assert _ids(again) == _ids(lost) == SEEDED[1:]
    assert [m["redelivered"] for m in again["messages"]] == [True]
    assert not lost["messages"][0]["redelivered"] and again["redelivered"] == 1
    after = _poll(fresh_pack, backend, checkpoint=again["checkpoint"])
    assert after["count"] == 0


def test_an_expired_sync_state_restarts_without_duplicates(
    fresh_pack: PackRunner, backend: str
) -> None:
    first = _poll(fresh_pack, backend, since=SEEDED_SINCE)
    assert _ids(first) == SEEDED
    _deliver(fresh_pack, ["before expiry"])
    fresh_pack.sandbox.admin("POST", "/_sandbox/sync-states/expire")
    out = fresh_pack.run(
        "poll_mailbox", {"mailbox": REPORTS, "checkpoint": first["checkpoint"]}, backend
    )
    assert out.data["resynced"] is True
    assert [m["subject"] for m in out.data["messages"]] == ["before expiry"]
    assert any("expired" in w for w in out.warnings)
    after = _poll(fresh_pack, backend, checkpoint=out.data["checkpoint"])
    assert after["count"] == 0


def test_mark_as_read_and_move_to_after_delivery(fresh_pack: PackRunner, backend: str) -> None:
    data = _poll(fresh_pack, backend, since=SEEDED_SINCE, mark_as_read=True, move_to="archive")
    assert [(m["marked_read"], m["is_read"], m["moved_to"]) for m in data["messages"]] == [
        (True, True, "archive")
    ] * 2
    search = fresh_pack.run(
        "search_emails_extended", {"mailbox": REPORTS, "folder": "archive"}, backend
    ).data
    assert sorted(m["internet_message_id"] for m in search["messages"]) == SEEDED
    assert all(m["is_read"] for m in search["messages"])
    assert _poll(fresh_pack, backend, checkpoint=data["checkpoint"])["count"] == 0


def test_bad_checkpoint_is_exit_64_naming_it(fresh_pack: PackRunner, backend: str) -> None:
    out = fresh_pack.run("poll_mailbox", {"mailbox": REPORTS, "checkpoint": "xp1.garbage"}, backend)
    assert out.code == 64 and "checkpoint" in out.error["message"]
    other = _poll(fresh_pack, backend)
    wrong = fresh_pack.run(
        "poll_mailbox",
        {"mailbox": "soc@contoso.com", "checkpoint": other["checkpoint"]},
        backend,
    )
    assert wrong.code == 64 and "checkpoint" in wrong.error["message"]


def test_poll_and_get_email_are_identical_on_both_backends(fresh_pack: PackRunner) -> None:
    polled = {b: _poll(fresh_pack, b, since=SEEDED_SINCE, enrich=True) for b in ("graph", "ews")}
    for data in polled.values():
        data.pop("checkpoint")
    assert without_backend_ids(polled["graph"]) == without_backend_ids(polled["ews"])
    report = polled["graph"]["messages"][0]["enrichment"]
    assert report["is_report"] and report["reported_messages"][0]["reported"]
    emails = {
        b: fresh_pack.run(
            "get_email", {"mailbox": REPORTS, "internet_message_id": SEEDED[1]}, b
        ).data
        for b in ("graph", "ews")
    }
    assert without_backend_ids(emails["graph"]) == without_backend_ids(emails["ews"])


def test_get_email_enriches_the_reported_original(fresh_pack: PackRunner, backend: str) -> None:
    for internet_message_id, kind in zip(SEEDED, ("item", "file"), strict=True):
        data = fresh_pack.run(
            "get_email", {"mailbox": REPORTS, "internet_message_id": internet_message_id}, backend
        ).data
        report = data["enrichment"]
        assert report["is_report"] and not report["reported"]
        (attachment,) = report["attachments"]
        assert attachment["kind"] == kind and len(attachment["sha256"]) == 64
        (original,) = report["reported_messages"]
        assert original["reported"] and original["subject"] == "Your mailbox is almost full"
        headers = original["headers"]
        assert headers["authentication"] | {"smtp_mailfrom": None, "header_from": None} == {
            "spf": "fail",
            "dkim": "none",
            "dmarc": "fail",
            "compauth": "fail",
            "smtp_mailfrom": None,
            "header_from": None,
        }
        assert not headers["domains_agree"]
        assert headers["mismatched_headers"] == ["reply_to", "return_path"]
        assert [h["from_ip"] for h in headers["received"]] == [
            "2603:10b6:408:1::10",
            "203.0.113.45",
            "198.51.100.23",
        ]
        assert [h["delay_seconds"] for h in headers["received"]] == [7, 2, None]
        assert headers["x_originating_ip"] == "198.51.100.23"
        assert headers["antispam"]["scl"] == 5 and headers["antispam"]["category"] == "PHSH"
        url = original["urls"][0]
        assert url["url"].startswith("https://contoso-support.net/owa/quota/verify")
        assert "safelinks.protection.outlook.com" in url["wrapped"]
        assert "quota verify helpdesk" not in original["bodies"]["html_text"]  # hidden text
        assert "Verify your mailbox" in original["bodies"]["html_text"]


HOSTILE_ID = "<hostile-report@contoso.com>"
HUGE = 50 * 1024 * 1024


def _hostile_original() -> bytes:
    """10,000 headers and 3,000 nested multipart levels: what a parser must survive."""
    headers = b"".join(b"X-Hostile-%d: value %d\r\n" % (i, i) for i in range(10_000))
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i)
        for i in range(3_000)
    )
    closing = b"".join(b"\r\n--n%d--\r\n" % i for i in reversed(range(3_000)))
    return (
        b"From: Evil <evil@attacker.example>\r\nTo: bob@contoso.com\r\n"
        b"Subject: hostile original\r\nMessage-ID: <hostile-original@attacker.example>\r\n"
        + headers
        + b"MIME-Version: 1.0\r\n"
        + opening
        + b"Content-Type: text/plain\r\n\r\ndeep inside"
        + closing
    )


def _hostile_report() -> bytes:
    """A report carrying the hostile original as an .eml file and a 50 MB attachment."""

    def part(name: str, data: bytes) -> bytes:
        return (
            b'--outer\r\nContent-Type: application/octet-stream; name="%s"\r\n'
            b'Content-Disposition: attachment; filename="%s"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\n"
            % (name.encode(), name.encode())
            + base64.encodebytes(data).replace(b"\n", b"\r\n")
        )

    return (
        b"From: Bob Smith <bob@contoso.com>\r\nTo: phish-report@contoso.com\r\n"
        b"Subject: Phishing report: hostile\r\nMessage-ID: " + HOSTILE_ID.encode() + b"\r\n"
        b"Date: Fri, 20 Nov 2026 15:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        b"--outer\r\nContent-Type: text/plain\r\n\r\nReported by Bob.\r\n"
        + part("hostile.eml", _hostile_original())
        + part("huge.bin", bytes(HUGE))
        + b"--outer--\r\n"
    )


def test_a_hostile_reported_message_is_enriched_within_bounds(fresh_pack: PackRunner) -> None:
    fresh_pack.sandbox.deliver(REPORTS, _hostile_report())
    outputs = {}
    for backend in ("graph", "ews"):
        out = fresh_pack.run(
            "get_email", {"mailbox": REPORTS, "internet_message_id": HOSTILE_ID}, backend
        )
        assert out.code == 0, out.envelope
        assert out.envelope["meta"]["duration_ms"] < 60_000
        outputs[backend] = out.data
        found = out.data["enrichment"]
        assert found["limits"]["mime_truncated"]  # over 16 MiB: headers and bodies read first
        assert found["bodies"]["text"].strip() == "Reported by Bob."
        eml, huge = found["attachments"]
        assert eml["name"] == "hostile.eml" and len(eml["sha256"]) == 64
        assert huge["size"] == HUGE and huge["sha256"] is None
        assert "max_size_bytes" in huge["skipped_reason"]
        (original,) = found["reported_messages"]
        assert original["subject"] == "hostile original" and original["depth"] == 1
        assert original["headers"]["header_count"] > 10_000
        assert original["limits"]["headers_truncated"]
        assert original["limits"]["structure_truncated"]
    assert without_backend_ids(outputs["graph"]) == without_backend_ids(outputs["ews"])


def test_ingest_two_polls_in_a_row_lose_and_double_nothing(
    fresh_pack: PackRunner, backend: str
) -> None:
    store = MemoryStore()
    records: list[IncidentRecord] = []

    def poll(params: dict[str, Any]) -> dict[str, Any]:
        return fresh_pack.run("poll_mailbox", params, backend).data

    params = {"mailbox": REPORTS, "since": SEEDED_SINCE, "limit": 1, "enrich": True}
    assert ingest(poll, store, records.extend, params, severity="high") == 2
    _deliver(fresh_pack, ["reported between polls"])
    assert ingest(poll, store, records.extend, params, severity="high") == 1
    ids = [r.source_id for r in records]
    assert len(ids) == len(set(ids)) == 3
    assert [r.fields["internet_message_id"] for r in records[:2]] == SEEDED
    assert records[0].fields["reported_sender"] == "it-helpdesk@contoso-support.net"
    assert records[2].fields["subject"] == "reported between polls"
    assert {r.severity for r in records} == {"high"}
