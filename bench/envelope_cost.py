"""Case 8: what the envelope costs after the last answer, per search result, at 10,000 results.

In-process, no network: ``run_action`` around a ``run`` that returns a ready
``search_emails_extended`` result of N messages (the output model dumped, the output and
envelope schemas checked, every string scrubbed, the JSON written). Beside it, in the same
run, the output check alone by jsonschema (how every result was checked before) and by the
compiled validator the pack uses now.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any

from exchange_pack.actions.outputs import MailboxOutcome, SearchResult
from exchange_pack.envelope import ActionResult
from exchange_pack.manifest import schema_validator
from exchange_pack.models import MessageSummary, Recipient
from exchange_pack.runtime import run_action
from exchange_pack.schema_check import schema_errors

RESULTS = 10_000
ACTION = "search_emails_extended"
CONFIG = {"tenant_id": "t", "client_id": "c", "client_secret": "bench-secret-value"}


def _result(count: int) -> SearchResult:
    sender = Recipient(name="Contoso Payments", address="billing@contoso-payments.com")
    messages = [
        MessageSummary(
            mailbox=f"user{i % 1000:05d}@contoso.com",
            id=f"AAMkAD{i:030d}=",
            internet_message_id=f"<bulk-{i:06d}@contoso.com>",
            subject=f"Action required: overdue invoice INV-{i}",
            folder="inbox",
            from_=sender,
            sender=sender,
            to=[Recipient(name="Bulk User", address=f"user{i % 1000:05d}@contoso.com")],
            received_at="2026-11-30T10:00:00Z",
            sent_at="2026-11-30T09:59:00Z",
            has_attachments=True,
            size=12_345,
            preview="Please find attached the overdue invoice for October. " * 2,
        )
        for i in range(count)
    ]
    boxes = [
        MailboxOutcome(mailbox=f"user{i:05d}@contoso.com", status="ok", count=count // 1000)
        for i in range(1000)
    ]
    return SearchResult(messages=messages, mailboxes=boxes, total=count, truncated=False)


def _seconds(work: Any) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def measure(count: int = RESULTS) -> dict[str, Any]:
    """Milliseconds per result: the whole envelope, and the output check both ways."""
    result = _result(count)
    stdin = json.dumps({"config": CONFIG, "parameters": {"all_mailboxes": True, "sender": "x@y"}})

    def envelope() -> None:
        out = io.StringIO()
        code = run_action(
            ACTION,
            lambda params, config, ctx: ActionResult(data=result, summary={"n": count}),
            argv=[],
            stdin=io.StringIO(stdin),
            environ={},
            stdout=out,
            stderr=io.StringIO(),
        )
        if code != 0:
            raise RuntimeError(out.getvalue()[:500])

    data = ActionResult(data=result).data
    envelope()  # schemas loaded and compiled once, as in a real process's first envelope
    total = _seconds(envelope)
    reference = _seconds(lambda: list(schema_validator(f"{ACTION}.output").iter_errors(data)))
    compiled = _seconds(lambda: schema_errors(f"{ACTION}.output", data))
    per = 1000 / count
    return {
        "results": count,
        "envelope_ms_per_result": round(total * per, 4),
        "envelope_seconds": round(total, 3),
        "jsonschema_check_ms_per_result": round(reference * per, 4),
        "compiled_check_ms_per_result": round(compiled * per, 4),
        "check_speedup": round(reference / compiled, 1) if compiled else None,
    }
