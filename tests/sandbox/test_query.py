"""The one predicate model: KQL/AQS parsing and evaluation against store messages."""

from __future__ import annotations

import datetime as dt

import pytest

from exchange_sandbox.kql import parse_kql
from exchange_sandbox.query import (
    And,
    Compare,
    Contains,
    Eq,
    Exists,
    FreeText,
    Not,
    Or,
    QueryError,
    StartsWith,
    TrueP,
    Words,
    conjoin,
    matches,
)
from exchange_sandbox.store import Address, Message

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _message(**overrides: object) -> Message:
    fields: dict[str, object] = {
        "id": "m1",
        "mailbox_id": 1,
        "folder_id": "f1",
        "version": 1,
        "internet_message_id": "<inv-20931-alice@contoso-payments.com>",
        "conversation_id": "c1",
        "subject": "Action required: overdue invoice INV-20931",
        "sender": Address("billing@contoso-payments.com", "Contoso Payments"),
        "from_": Address("billing@contoso-payments.com", "Contoso Payments"),
        "to": [Address("alice@contoso.com", "Alice Johnson")],
        "cc": [Address("bob@contoso.com", "Bob Smith")],
        "bcc": [],
        "reply_to": [],
        "sent_at": dt.datetime(2026, 11, 19, 8, 13, tzinfo=UTC),
        "received_at": dt.datetime(2026, 11, 19, 8, 14, tzinfo=UTC),
        "created_at": NOW,
        "modified_at": NOW,
        "is_read": False,
        "is_draft": False,
        "importance": "high",
        "has_attachments": True,
        "size": 9000,
        "body_type": "html",
        "body": "<p>Please <b>pay</b> the invoice at <a href='x'>the portal</a></p>",
        "body_preview": "Please pay the invoice at the portal",
    }
    fields.update(overrides)
    return Message(**fields)  # type: ignore[arg-type]


def _names(message_id: str) -> list[str]:
    assert message_id == "m1"
    return ["INV-20931.pdf", "INV-20931.zip", "forwarded-notice.eml"]


def _hit(text: str, **overrides: object) -> bool:
    return matches(parse_kql(text, now=NOW), _message(**overrides), _names)


@pytest.mark.parametrize(
    "text",
    [
        "invoice",
        "INV-20931",
        '"overdue invoice"',
        "from:billing@contoso-payments.com",
        "from:contoso",
        'from:"Contoso Payments"',
        "to:alice",
        "cc:bob@contoso.com",
        "participants:bob",
        'subject:"action required"',
        "body:portal",
        "attachment:INV-20931.zip",
        "attachmentnames:forwarded",
        "hasattachment:true",
        "received:2026-11-19",
        "received>=2026-11-19",
        "received<2026-11-20",
        "received:>=11/19/2026",
        "received:2026-11-01..2026-11-19",
        "received>2026-11-19T08:00:00Z",
        "importance:high",
        "from:billing AND subject:invoice",
        "from:nobody OR subject:overdue",
        "invoice NOT from:alice",
        "(from:nobody OR to:alice) AND hasattachment:yes",
        "-lunch invoice",
        "invoi*",
        "kind:email",
        "size:1..500000",
        "size>1000",
        '"from:billing subject:INV-20931"',
        "subject:(lunch OR overdue)",
        'subject:("action required" AND NOT lunch)',
    ],
)
def test_queries_that_match_the_campaign(text: str) -> None:
    assert _hit(text), text


@pytest.mark.parametrize(
    "text",
    [
        "lunch",
        "from:alice",
        "to:bob",
        'subject:"lunch friday"',
        "attachment:report.docx",
        "hasattachment:false",
        "size:1..500",
        "size<9000",
        "received:2026-11-18",
        "received>2026-11-19",
        "received<2026-11-19",
        "NOT invoice",
        "invoice AND lunch",
        "body:href",  # HTML bodies match on their text, not their markup
    ],
)
def test_queries_that_do_not_match(text: str) -> None:
    assert not _hit(text), text


def test_free_text_covers_sender_names_recipients_and_attachments() -> None:
    assert _hit("Payments") and _hit("Johnson") and _hit("forwarded-notice")
    names_called: list[str] = []

    def lookup(message_id: str) -> list[str]:
        names_called.append(message_id)
        return []

    matches(parse_kql("subject:invoice"), _message(), lookup)
    assert names_called == []  # attachment names are only fetched when needed


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "(invoice",
        "invoice)",
        "invoice AND",
        "OR invoice",
        "NOT",
        '"unterminated',
        "subject:",
        "received:someday",
        "hasattachment:maybe",
        "size:big",
        "subject>invoice",
        "subject:(invoice",
        "colour:(red OR blue)",
    ],
)
def test_malformed_queries_raise_query_error(text: str) -> None:
    with pytest.raises(QueryError):
        parse_kql(text, now=NOW)


def test_parse_tree_shapes() -> None:
    assert parse_kql("from:a OR from:b subject:c") == Or(
        (Words("from", "a"), And((Words("from", "b"), Words("subject", "c"))))
    )
    assert parse_kql("NOT hasattachment:true") == Not(Eq("has_attachments", True))
    assert parse_kql("received>=2026-11-19", now=NOW) == Compare(
        "received_at", "ge", dt.datetime(2026, 11, 19, tzinfo=UTC)
    )
    assert parse_kql("received:today", now=NOW) == And(
        (
            Compare("received_at", "ge", dt.datetime(2026, 11, 20, tzinfo=UTC)),
            Compare("received_at", "lt", dt.datetime(2026, 11, 21, tzinfo=UTC)),
        )
    )
    assert parse_kql("http://x.example/a") == FreeText("http://x.example/a")
    assert parse_kql("to:(alice OR bob)") == Or((Words("to", "alice"), Words("to", "bob")))
    assert parse_kql("'invoice'") == FreeText("'invoice'")


@pytest.mark.parametrize(
    "text",
    [
        "'invoice'",  # single quotes are punctuation to Exchange's word breaker
        "'overdue invoice'",
        "subject:'invoice'",
        "subject:'action required'",
        "invoi",
        "Act",
        "from:contoso-payments",
        "from:payments.com",
        "attachment:INV",
        "attachment:20931.zip",
        '"required: overdue"',
        "body:porta*",
    ],
)
def test_words_match_at_their_start(text: str) -> None:
    assert _hit(text), text


@pytest.mark.parametrize(
    "text",
    [
        "voice",  # inside "invoice": Exchange matches word prefixes, not substrings
        "nvoice",
        "'voice'",
        "subject:quired",
        "from:ntoso",
        "attachment:931",
        '"invoice overdue"',  # a phrase keeps its word order
        "invoices",
    ],
)
def test_substrings_inside_words_do_not_match(text: str) -> None:
    assert not _hit(text), text


def test_filter_style_nodes() -> None:
    message = _message()
    assert matches(Eq("from", "BILLING@contoso-payments.com"), message)
    assert not matches(Eq("from", "BILLING@contoso-payments.com", ignore_case=False), message)
    assert matches(StartsWith("subject", "action"), message)
    assert matches(Eq("is_read", False), message) and matches(Eq("importance", "high"), message)
    assert matches(Compare("size", "gt", 1000), message)
    assert matches(Compare("received_at", "ge", dt.datetime(2026, 11, 19, tzinfo=UTC)), message)
    assert matches(Eq("internet_message_id", "<inv-20931-alice@contoso-payments.com>"), message)
    assert matches(Exists("cc"), message) and not matches(Exists("bcc"), message)
    assert not matches(Exists("in_reply_to"), message)
    assert matches(Contains("categories", "red"), _message(categories=["Red category"]))
    assert matches(TrueP(), message)
    assert conjoin(TrueP(), Eq("is_read", False)) == Eq("is_read", False)
    assert conjoin() == TrueP()


def test_unknown_field_is_rejected() -> None:
    with pytest.raises(QueryError):
        Eq("colour", "red")
    with pytest.raises(QueryError):
        Compare("size", "between", 1)  # type: ignore[arg-type]
