"""What the platform adapter tests share (a module with a distinct name, so tests can import it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

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


def rebuild_after_schema_change(
    platform: str,
    pack_copy: Path,
    out: Path,
    monkeypatch: pytest.MonkeyPatch,
    schema: str,
    change: Callable[[dict[str, Any]], None],
) -> tuple[Path, list[str]]:
    """Builds ``platform``'s bundle, edits ``schemas/<schema>.json`` of the pack copy with
    ``change``, builds again from the copy; the second bundle and the files that changed."""
    from exchange_pack.bundles import build

    before, after = out / "before", out / "after"
    build(platform, before)
    schema_file = pack_copy / "schemas" / f"{schema}.json"
    document = json.loads(schema_file.read_text("utf-8"))
    change(document)
    schema_file.write_text(json.dumps(document), "utf-8")
    monkeypatch.setenv("EXCHANGE_PACK_ROOT", str(pack_copy))
    build(platform, after)
    return after, changed_files(before, after)
