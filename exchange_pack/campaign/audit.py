"""The audit file of search_and_delete_emails: one JSON line per message a delete run acted on.

One file per approval (``search_and_delete-<token id>.jsonl`` in ``output_dir``): a rerun or a
resumed run appends to it, so it holds the whole history of one approved removal, and what an
earlier run already deleted is read back from it. Its SHA-256 goes into the output so the
record can be proven unchanged later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path

from ..models import Model, iso_utc

Outcome = str  # deleted | not_found | failed | in_deleted_items | purged


class AuditRecord(Model):
    """One line: which message, where, and what happened to it."""

    at: str
    run: str
    engine: str
    delete_type: str
    mailbox: str
    message_id: str | None
    internet_message_id: str | None
    subject: str | None
    sender: str | None
    received: str | None
    outcome: Outcome
    items: int | None = None  # eDiscovery: items one purge round removed (no per-item list)
    error: str | None = None


class AuditFile(Model):
    """The file as the output names it."""

    path: str
    sha256: str
    records: int
    appended: int


def audit_path(output_dir: Path, token_id: str) -> Path:
    """Where the audit of one approval lives."""
    return output_dir / f"search_and_delete-{token_id}.jsonl"


def previously_deleted(path: Path) -> Counter[str]:
    """Per mailbox (lower case), how many messages earlier runs of this approval removed."""
    counts: Counter[str] = Counter()
    if not path.exists():
        return counts
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("outcome") in ("deleted", "purged"):
            items = record.get("items")
            counts[str(record.get("mailbox", "")).lower()] += items if isinstance(items, int) else 1
    return counts


def now_text() -> str:
    """The record time, UTC to the second."""
    return iso_utc(dt.datetime.now(dt.timezone.utc)) or ""


def append(path: Path, records: list[AuditRecord]) -> AuditFile:
    """Appends the records (flushed to disk) and returns the file's name, SHA-256 and size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        for record in records:
            out.write(record.model_dump_json() + "\n")
        out.flush()
    raw = path.read_bytes()
    return AuditFile(
        path=str(path),
        sha256=hashlib.sha256(raw).hexdigest(),
        records=raw.count(b"\n"),
        appended=len(records),
    )
