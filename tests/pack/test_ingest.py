"""exchange_pack.ingest: poll_mailbox output as incident records, and the emit-then-store
checkpoint order every platform hook relies on (pure logic: the poll is a stand-in here; the
sandbox run is in tests/actions/test_e2e_incidents.py)."""

from __future__ import annotations

from typing import Any

import pytest

from exchange_pack.ingest import (
    IncidentRecord,
    MemoryStore,
    incident_of,
    incidents_from,
    ingest,
    severity_of,
)

REPORT: dict[str, Any] = {
    "mailbox": "phish-report@contoso.com",
    "id": "AAMk1",
    "internet_message_id": "<r1@contoso.com>",
    "subject": "Phishing report: quota",
    "folder": "inbox",
    "from": {"address": "bob@contoso.com", "name": "Bob"},
    "to": [{"address": "phish-report@contoso.com", "name": ""}],
    "received_at": "2026-11-20T14:05:00Z",
    "has_attachments": True,
    "key": "0123456789abcdef",
    "redelivered": False,
    "enrichment": {
        "is_report": True,
        "subject": "Phishing report: quota",
        "headers": {"addresses": [{"header": "from", "address": "bob@contoso.com"}]},
        "urls": [],
        "attachments": [],
        "reported_messages": [
            {
                "depth": 1,
                "subject": "Your mailbox is almost full",
                "internet_message_id": "<quota-bob@contoso-support.net>",
                "headers": {
                    "addresses": [{"header": "from", "address": "it-helpdesk@contoso-support.net"}],
                    "domains_agree": False,
                    "mismatched_headers": ["reply_to"],
                    "authentication": {"spf": "fail", "dkim": "none", "dmarc": "fail"},
                    "antispam": {"scl": 5, "category": "PHSH"},
                    "received": [{}, {}, {}],
                    "x_originating_ip": "198.51.100.23",
                },
                "urls": [{"url": "https://contoso-support.net/x", "domain": "contoso-support.net"}],
                "attachments": [{"name": "a.pdf", "sha256": "ab" * 32}],
            }
        ],
    },
}


def test_a_reported_message_becomes_an_incident_with_the_originals_verdicts() -> None:
    record = incident_of(REPORT, mailbox="phish-report@contoso.com", severity="high")
    assert record.name == "Reported email: Phishing report: quota (from bob@contoso.com)"
    assert (record.severity, record.occurred) == ("high", "2026-11-20T14:05:00Z")
    assert record.source_id == "exchange-pack:phish-report@contoso.com:0123456789abcdef"
    fields = record.fields
    assert fields["reported_sender"] == "it-helpdesk@contoso-support.net"
    assert (fields["spf"], fields["dkim"], fields["dmarc"]) == ("fail", "none", "fail")
    assert fields["url_domains"] == ["contoso-support.net"]
    assert fields["attachment_sha256"] == ["ab" * 32]
    assert fields["received_hops"] == 3 and fields["sender_domains_agree"] is False


def test_a_message_without_enrichment_still_maps() -> None:
    plain = {k: v for k, v in REPORT.items() if k != "enrichment"} | {"subject": None}
    (record,) = incidents_from({"mailbox": "m@contoso.com", "messages": [plain]})
    assert record.name.startswith("Reported email: (no subject)")
    assert record.severity == "medium" and "spf" not in record.fields


def test_severity_parameter_is_checked() -> None:
    assert severity_of("HIGH") == "high" and severity_of(None) == "medium"
    with pytest.raises(ValueError, match="severity must be one of"):
        severity_of("urgent")


class FakeMailbox:
    """poll_mailbox stand-in: messages 0..n, ``limit`` per run, checkpoint = next index."""

    def __init__(self, total: int) -> None:
        self.total = total

    def poll(self, params: dict[str, Any]) -> dict[str, Any]:
        start = int(params.get("checkpoint") or 0)
        end = min(self.total, start + params["limit"])
        messages = [REPORT | {"key": f"k{i}", "subject": f"s{i}"} for i in range(start, end)]
        return {
            "mailbox": "m@contoso.com",
            "messages": messages,
            "checkpoint": str(end),
            "more": end < self.total,
        }


def test_ingest_polls_while_more_wait_and_stores_after_emitting() -> None:
    store, seen = MemoryStore(), []
    emitted = ingest(FakeMailbox(5).poll, store, seen.extend, {"limit": 2})
    assert emitted == 5 and [r.fields["subject"] for r in seen] == [f"s{i}" for i in range(5)]
    assert store.load() == "5"


def test_a_failed_emit_keeps_the_checkpoint_so_nothing_is_lost() -> None:
    store = MemoryStore("1")

    def broken(records: list[IncidentRecord]) -> None:
        raise RuntimeError("platform down")

    with pytest.raises(RuntimeError):
        ingest(FakeMailbox(3).poll, store, broken, {"limit": 1})
    assert store.load() == "1"  # the next run delivers message 1 again
    seen: list[IncidentRecord] = []
    ingest(FakeMailbox(3).poll, store, seen.extend, {"limit": 1})
    assert [r.source_id.rsplit(":", 1)[1] for r in seen] == ["k1", "k2"]
