"""What the platform adapter tests share (a module with a distinct name, so tests can import it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CAMPAIGN_SENDER = "billing@contoso-payments.com"
CAMPAIGN_USERS = ("alice", "bob", "carol")


def campaign_id(user: str) -> str:
    """The internet_message_id of ``user``'s copy of the seeded phishing message."""
    return f"<inv-20931-{user}@contoso-payments.com>"


# Ingestion hooks: the reporting mailbox of the demo seed and its two seeded reports.
REPORTS = "phish-report@contoso.com"
SEEDED_SINCE = "2026-11-20T00:00:00Z"
SEEDED_REPORTS = ["<report-quota-bob@contoso.com>", "<report-quota-carol@contoso.com>"]


def deliver_report(sandbox: Any, subject: str) -> None:
    """A new report arrives in the reporting mailbox (dave sends it through Graph)."""
    from exchange_pack.runner import invoke

    sent = invoke(
        "send_email",
        {"mailbox": "dave@contoso.com", "to": [REPORTS], "subject": subject, "body": "x"},
        sandbox.pack_config(backend="graph"),
    )
    assert sent.ok, sent.envelope


def changed_files(before: Path, after: Path) -> list[str]:
    """The files of bundle ``after`` whose bytes differ from the same file in ``before``."""
    return [
        path.relative_to(after).as_posix()
        for path in sorted(after.rglob("*"))
        if path.is_file() and path.read_bytes() != (before / path.relative_to(after)).read_bytes()
    ]
