"""Platform-neutral ingestion: poll_mailbox output as incident records, and the checkpoint
handling every platform hook shares (Cloud SOAR daemon, XSOAR fetch-incidents, Splunk SOAR on
poll, StackStorm polling sensor are thin mappings over this module).

``ingest`` runs one poll from the stored checkpoint, hands the incidents to the platform
(``emit``), and only then stores the new checkpoint: a crash between the two makes the next
poll deliver the same messages again, marked ``redelivered`` and carrying the same
``source_id``, so a platform that deduplicates on it creates nothing twice, and nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

from .models import Model

Severity = Literal["unknown", "low", "medium", "high", "critical"]
SEVERITIES: tuple[str, ...] = ("unknown", "low", "medium", "high", "critical")
MAX_ROUNDS = 20  # polls per ingest call while the mailbox reports more waiting
NAME_LIMIT = 200


class IncidentRecord(Model):
    """One incident to open: what every platform's incident has, and the enrichment as flat
    fields (scalars and lists of strings, which every platform can store)."""

    name: str
    severity: Severity
    occurred: str | None  # when the message was received (ISO 8601 UTC)
    source_id: str  # dedup key: the same message always gives the same id
    redelivered: bool
    fields: dict[str, Any]
    message: dict[str, Any]  # the polled message as poll_mailbox returned it


class CheckpointStore(Protocol):
    """Where a platform keeps the checkpoint (XSOAR last run, Splunk state, st2 datastore...)."""

    def load(self) -> str | None: ...

    def save(self, checkpoint: str) -> None: ...


class MemoryStore:
    """A CheckpointStore in memory (tests, a one-shot run)."""

    def __init__(self, checkpoint: str | None = None) -> None:
        self.checkpoint = checkpoint

    def load(self) -> str | None:
        """The stored checkpoint, if any."""
        return self.checkpoint

    def save(self, checkpoint: str) -> None:
        """Replaces the stored checkpoint."""
        self.checkpoint = checkpoint


def severity_of(value: str | None) -> Severity:
    """A severity parameter, case-insensitive; ValueError naming the choices otherwise."""
    wanted = (value or "medium").strip().lower()
    if wanted not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {value!r}")
    return wanted  # type: ignore[return-value]


def _address(value: Any) -> str | None:
    return value.get("address") if isinstance(value, Mapping) else None


def enrichment_fields(enrichment: Mapping[str, Any] | None) -> dict[str, Any]:
    """The enrichment as flat fields; for a report, the reported original's verdicts."""
    if not enrichment:
        return {}
    reported = [r for r in enrichment.get("reported_messages", []) if r.get("depth") == 1]
    subject = reported[0] if reported else enrichment
    headers = subject.get("headers", {})
    auth = headers.get("authentication", {})
    spam = headers.get("antispam", {})
    from_address = next(
        (a["address"] for a in headers.get("addresses", []) if a.get("header") == "from"), None
    )
    return {
        "is_report": bool(enrichment.get("is_report")),
        "reported_subject": subject.get("subject") if reported else None,
        "reported_sender": from_address if reported else None,
        "reported_internet_message_id": subject.get("internet_message_id") if reported else None,
        "sender_domains_agree": headers.get("domains_agree"),
        "mismatched_headers": list(headers.get("mismatched_headers", [])),
        "spf": auth.get("spf"),
        "dkim": auth.get("dkim"),
        "dmarc": auth.get("dmarc"),
        "x_originating_ip": headers.get("x_originating_ip"),
        "scl": spam.get("scl"),
        "spam_category": spam.get("category"),
        "received_hops": len(headers.get("received", [])),
        "urls": [u["url"] for u in subject.get("urls", [])],
        "url_domains": sorted({u["domain"] for u in subject.get("urls", []) if u.get("domain")}),
        "attachment_names": [a["name"] for a in subject.get("attachments", [])],
        "attachment_sha256": [
            a["sha256"] for a in subject.get("attachments", []) if a.get("sha256")
        ],
    }


def incident_of(
    message: Mapping[str, Any], *, mailbox: str, severity: Severity, prefix: str = "Reported email"
) -> IncidentRecord:
    """The incident record of one polled message."""
    subject = message.get("subject") or "(no subject)"
    sender = _address(message.get("from")) or "unknown sender"
    fields = {
        "mailbox": mailbox,
        "folder": message.get("folder"),
        "message_id": message.get("id"),
        "internet_message_id": message.get("internet_message_id"),
        "subject": message.get("subject"),
        "sender": _address(message.get("from")),
        "recipients": [r["address"] for r in message.get("to", [])],
        "has_attachments": bool(message.get("has_attachments")),
        **enrichment_fields(message.get("enrichment")),
    }
    return IncidentRecord(
        name=f"{prefix}: {subject} (from {sender})"[:NAME_LIMIT],
        severity=severity,
        occurred=message.get("received_at"),
        source_id=f"exchange-pack:{mailbox}:{message['key']}",
        redelivered=bool(message.get("redelivered")),
        fields=fields,
        message=dict(message),
    )


def incidents_from(
    data: Mapping[str, Any], *, severity: Severity = "medium", prefix: str = "Reported email"
) -> list[IncidentRecord]:
    """Every message of one poll_mailbox ``data`` as an incident record, in received order."""
    return [
        incident_of(m, mailbox=data["mailbox"], severity=severity, prefix=prefix)
        for m in data["messages"]
    ]


Poll = Callable[[dict[str, Any]], Mapping[str, Any]]  # poll_mailbox parameters -> its data


def ingest(
    poll: Poll,
    store: CheckpointStore,
    emit: Callable[[list[IncidentRecord]], None],
    params: Mapping[str, Any],
    *,
    severity: Severity = "medium",
    max_rounds: int = MAX_ROUNDS,
) -> int:
    """Polls (again while more wait, bounded), emits each round's incidents, then stores that
    round's checkpoint; returns how many incidents were emitted."""
    emitted = 0
    for _ in range(max_rounds):
        checkpoint = store.load()
        call = {k: v for k, v in params.items() if k != "checkpoint"}
        if checkpoint:
            call["checkpoint"] = checkpoint
        data = poll(call)
        incidents = incidents_from(data, severity=severity)
        if incidents:
            emit(incidents)
            emitted += len(incidents)
        store.save(data["checkpoint"])
        if not data.get("more"):
            break
    return emitted
