"""The cost of the envelope at max_results 10,000: schema check and scrubbing stay exact."""

from __future__ import annotations

import time
from typing import Any

import pytest

from exchange_pack.actions.outputs import MailboxOutcome, SearchResult
from exchange_pack.envelope import REDACTED, Scrubber
from exchange_pack.models import MessageSummary, Recipient
from exchange_pack.schema_check import schema_errors

SEARCH_OUTPUT = "search_emails_extended.output"


def _search_data(count: int) -> dict[str, Any]:
    sender = Recipient(name="Contoso Payments", address="billing@contoso-payments.com")
    messages = [
        MessageSummary(
            mailbox=f"user{i % 100}@contoso.com",
            id=f"AAMkAD{i:020d}",
            internet_message_id=f"<m{i}@contoso-payments.com>",
            subject=f"Action required: overdue invoice INV-{i}",
            folder="inbox",
            from_=sender,
            sender=sender,
            to=[Recipient(address=f"user{i % 100}@contoso.com")],
            received_at="2026-11-30T10:00:00Z",
            sent_at="2026-11-30T09:59:00Z",
            has_attachments=True,
            size=12345,
            preview="Please find attached the overdue invoice.",
        )
        for i in range(count)
    ]
    boxes = [MailboxOutcome(mailbox=f"user{i}@contoso.com", status="ok") for i in range(100)]
    result = SearchResult(messages=messages, mailboxes=boxes, total=count, truncated=False)
    return result.model_dump(mode="json", by_alias=True)


def test_every_item_is_checked_not_only_the_first_of_its_shape() -> None:
    data = _search_data(10_000)
    assert schema_errors(SEARCH_OUTPUT, data) == []
    data["messages"][9_000]["received_at"] = "yesterday"
    data["messages"][9_500]["importance"] = "urgent"
    data["messages"][9_999]["size"] = -1
    del data["messages"][7_000]["subject"]
    problems = schema_errors(SEARCH_OUTPUT, data)
    assert problems == [
        "$.messages[7000]: 'subject' is a required property",
        "$.messages[9000].received_at: violates 'format'",
        "$.messages[9500].importance: violates 'enum'",
        "$.messages[9999].size: violates 'minimum'",
    ]
    assert not any("yesterday" in p or "urgent" in p for p in problems)  # no mail content


def test_checking_10000_results_is_not_the_bottleneck() -> None:
    # jsonschema alone took ~6 s here (0.6 ms a message); the compiled check takes ~15 ms.
    data = _search_data(10_000)
    schema_errors(SEARCH_OUTPUT, data)  # compiles the schema once
    started = time.perf_counter()
    assert schema_errors(SEARCH_OUTPUT, data) == []
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("Authorization: BEARER abcdefghijklmnopqrstuvwx", "abcdefghijklmnopqrstuvwx"),
        ("PASSWORD=hunter2hunter2&next=1", "hunter2hunter2"),
        ("Client_Assertion=eyJhbGciOiJSUzI1NiJ9", "eyJhbGciOiJSUzI1NiJ9"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIB", "MIIEpAIB"),
        ("t eyJhbGciOiJSUzI1NiJ9.eyJyb2xlcyI6WyJNYWls.c2ln", "eyJyb2xlcyI6WyJNYWls"),
    ],
)
def test_screened_strings_still_get_every_credential_pattern(text: str, gone: str) -> None:
    scrubbed = Scrubber().text(text)
    assert gone not in scrubbed and REDACTED in scrubbed


def test_repeated_strings_are_scrubbed_alike() -> None:
    secret = "s3cr3t-Value~with.special_chars"
    scrubber = Scrubber([secret])
    value = {"a": [f"x {secret}", f"x {secret}", "plain", "plain"], "b": {"c": f"x {secret}"}}
    masked = f"x {REDACTED}"
    assert scrubber.value(value) == {
        "a": [masked, masked, "plain", "plain"],
        "b": {"c": masked},
    }


def test_a_megabyte_cursor_is_scrubbed_in_linear_time() -> None:
    # A dotless base64 run full of "eyJ" made the JWT pattern restart at each one and scan to
    # the run's end: a 3.4 MB next_cursor at 50,000 mailboxes cost ~50 s of scrubbing.
    cursor = "eyJ" + "eyJtYWlsYm94IjoidXNlcjEwMDAxQGNvbnRvc28uY29tIn0" * 60_000
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJyb2xlcyI6WyJNYWls.c2ln"
    started = time.perf_counter()
    scrubbed = Scrubber().value({"next_cursor": cursor, "note": f"{cursor} {jwt}"})
    assert time.perf_counter() - started < 1.0
    assert scrubbed == {"next_cursor": cursor, "note": f"{cursor} {REDACTED}"}
