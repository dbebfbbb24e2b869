"""MIME parsing and building for the sandbox store."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy

import pytest

from exchange_sandbox.mime import (
    ParsedAttachment,
    append_attachment,
    build_mime,
    conversation_id,
    parse_mime,
    remove_attachment,
    rewrite,
)
from exchange_sandbox.store import Address

WHEN = dt.datetime(2026, 11, 19, 9, 0, tzinfo=dt.timezone.utc)
SENDER = Address("billing@contoso-payments.com", "Contoso Payments")


def _inner() -> bytes:
    return build_mime(
        sender=Address("x@y.com", "X"),
        to=[],
        subject="Inner notice",
        body="hi",
        date=WHEN,
        internet_message_id="<inner@y.com>",
    )


def _message(**overrides: object) -> bytes:
    fields: dict[str, object] = {
        "sender": SENDER,
        "to": [Address("alice@contoso.com", "Johnson, Alice")],
        "cc": [Address("bob@contoso.com", "")],
        "reply_to": [Address("reply@contoso-payments.com", "")],
        "subject": "Action required: überfällig",
        "body": "<p>Pay   <a href='https://x.example'>here</a>\n now &amp; fast</p>",
        "body_type": "html",
        "attachments": [
            ("INV.pdf", "application/pdf", b"%PDF-1.4", False, None),
            ("logo.png", "image/png", b"\x89PNG", True, "logo1"),
        ],
        "attached_messages": [_inner()],
        "importance": "high",
        "date": WHEN,
        "internet_message_id": "<inv@contoso-payments.com>",
        "in_reply_to": "<earlier@contoso-payments.com>",
    }
    fields.update(overrides)
    return build_mime(**fields)  # type: ignore[arg-type]


def test_build_then_parse_round_trips_every_field() -> None:
    parsed = parse_mime(_message())
    assert parsed.subject == "Action required: überfällig"
    assert parsed.from_ == SENDER and parsed.sender == SENDER
    assert parsed.to == [Address("alice@contoso.com", "Johnson, Alice")]
    assert parsed.cc == [Address("bob@contoso.com", "")]
    assert parsed.reply_to == [Address("reply@contoso-payments.com", "")]
    assert parsed.sent_at == WHEN
    assert parsed.internet_message_id == "<inv@contoso-payments.com>"
    assert parsed.in_reply_to == "<earlier@contoso-payments.com>"
    assert parsed.importance == "high"
    assert parsed.body_type == "html" and "<a href='https://x.example'>" in parsed.body
    assert parsed.body_preview == "Pay here now & fast"
    assert ("Importance", "High") in parsed.headers


def test_attachments_are_parsed_with_kind_and_inline_flags() -> None:
    attachments = parse_mime(_message()).attachments
    assert [(a.name, a.kind, a.is_inline, a.content_id) for a in attachments] == [
        ("INV.pdf", "file", False, None),
        ("logo.png", "file", True, "logo1"),
        ("Inner notice.eml", "item", False, None),
    ]
    assert attachments[0].content == b"%PDF-1.4"
    assert parse_mime(attachments[2].content).subject == "Inner notice"


def test_build_mime_is_multipart_mixed_with_alternative_and_generates_ids() -> None:
    mime = build_mime(sender=SENDER, to=[], subject="s", body="<b>x</b>", body_type="html",
                      attachments=[("a.txt", "text/plain", b"a", False, None)])  # fmt: skip
    msg = message_from_bytes(mime, policy=policy.default)
    assert msg.get_content_type() == "multipart/mixed"
    assert msg.get_payload()[0].get_content_type() == "multipart/alternative"
    assert str(msg["Message-ID"]).endswith("@contoso-payments.com>")
    assert msg["Date"] is not None and msg["MIME-Version"] == "1.0"
    assert b"\r\n" in mime


def test_same_inputs_give_the_same_bytes() -> None:
    assert _message() == _message()


def test_rfc822_attachment_tuple_keeps_its_file_name() -> None:
    mime = build_mime(sender=SENDER, to=[], subject="s", body="b",
                      attachments=[("forwarded-notice.eml", "message/rfc822", _inner(), False,
                                    None)])  # fmt: skip
    (item,) = parse_mime(mime).attachments
    assert (item.name, item.kind) == ("forwarded-notice.eml", "item")


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        ("X-Priority", "1", "high"),
        ("X-Priority", "5 (Lowest)", "low"),
        ("Importance", "LOW", "low"),
    ],
)
def test_importance_from_headers(header: str, value: str, expected: str) -> None:
    raw = f"From: a@b.com\r\nSubject: s\r\n{header}: {value}\r\n\r\nbody\r\n".encode()
    assert parse_mime(raw).importance == expected


def test_plain_text_message_and_sender_header() -> None:
    raw = (
        b"From: Boss <boss@contoso.com>\r\nSender: Assistant <pa@contoso.com>\r\n"
        b'To: a@contoso.com, "B" <b@contoso.com>\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n  line one\r\n\r\nline   two\r\n"
    )
    parsed = parse_mime(raw)
    assert parsed.subject == "café"
    assert parsed.sender == Address("pa@contoso.com", "Assistant")
    assert parsed.from_ == Address("boss@contoso.com", "Boss")
    assert [a.address for a in parsed.to] == ["a@contoso.com", "b@contoso.com"]
    assert parsed.body_type == "text" and parsed.body_preview == "line one line two"
    assert parsed.attachments == []


def test_preview_is_at_most_255_characters() -> None:
    mime = build_mime(sender=SENDER, to=[], subject="s", body="word " * 200)
    assert len(parse_mime(mime).body_preview) == 255


def test_remove_and_append_attachment_keep_the_rest() -> None:
    without = remove_attachment(_message(), 0)
    assert [a.name for a in parse_mime(without).attachments] == ["logo.png", "Inner notice.eml"]
    assert parse_mime(without).subject == "Action required: überfällig"
    with pytest.raises(IndexError):
        remove_attachment(without, 5)
    more = append_attachment(without, ParsedAttachment("x.csv", "text/csv", b"a,b\n"))
    assert [a.name for a in parse_mime(more).attachments][-1] == "x.csv"
    assert parse_mime(more).attachments[-1].content == b"a,b\n"


def test_rewrite_changes_headers_and_body_keeping_attachments() -> None:
    edited = rewrite(
        _message(),
        header_changes={"Subject": "New", "Cc": None},
        body="plain body",
        body_type="text",
    )
    parsed = parse_mime(edited)
    assert (parsed.subject, parsed.cc, parsed.body, parsed.body_type) == (
        "New",
        [],
        "plain body",
        "text",
    )
    assert parsed.internet_message_id == "<inv@contoso-payments.com>"
    assert len(parsed.attachments) == 3


def test_conversation_id_ignores_reply_prefixes() -> None:
    assert conversation_id("RE: FW: Budget") == conversation_id("budget")
    assert conversation_id("Budget") != conversation_id("Lunch")
