"""EML header summary: parsed from the header block only."""

from __future__ import annotations

import io
from pathlib import Path

from exchange_pack.actions.eml import header_summary, read_header_block

SAMPLE = (
    b"Return-Path: <bounce@contoso-payments.com>\r\n"
    b"Received: from mx1.contoso.com (10.0.0.1)\r\n"
    b" by mbx.contoso.com; Sun, 22 Nov 2026 06:00:00 +0000\r\n"
    b"Received: from mail.contoso-payments.com (203.0.113.9)\r\n"
    b"\tby mx1.contoso.com; Sun, 22 Nov 2026 05:59:58 +0000\r\n"
    b"Authentication-Results: spf=fail (sender IP is 203.0.113.9)\r\n"
    b" smtp.mailfrom=contoso-payments.com; dkim=none; dmarc=fail action=none\r\n"
    b'From: "Contoso Payments" <billing@contoso-payments.com>\r\n'
    b"To: Alice <alice@contoso.com>, bob@contoso.com\r\n"
    b"Cc: carol@contoso.com\r\n"
    b"Subject: =?utf-8?q?Action_required=3A_overdue_invoice_INV-20931_=E2=82=AC?=\r\n"
    b"Date: Sun, 22 Nov 2026 05:59:57 +0000\r\n"
    b"Message-ID: <inv-20931-alice@contoso-payments.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Received: this line is in the body and must not count\r\n"
    b"From: nobody@example.com\r\n"
)


def test_summary_of_a_phishing_message(tmp_path: Path) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(SAMPLE)
    headers = header_summary(path).dump()
    assert headers["from"] == "Contoso Payments <billing@contoso-payments.com>"
    assert headers["to"] == ["Alice <alice@contoso.com>", "bob@contoso.com"]
    assert headers["cc"] == ["carol@contoso.com"]
    assert headers["subject"] == "Action required: overdue invoice INV-20931 €"
    assert headers["date"] == "Sun, 22 Nov 2026 05:59:57 +0000"
    assert headers["message_id"] == "<inv-20931-alice@contoso-payments.com>"
    assert headers["return_path"] == "<bounce@contoso-payments.com>"
    assert headers["received_hops"] == 2
    assert headers["authentication_results"] == [
        "spf=fail (sender IP is 203.0.113.9) smtp.mailfrom=contoso-payments.com; dkim=none; "
        "dmarc=fail action=none"
    ]
    assert next(iter(headers)) == "from"


def test_only_the_header_block_is_read() -> None:
    stream = io.BytesIO(SAMPLE + b"x" * 10_000_000)
    block = read_header_block(stream)
    assert block.endswith(b"Content-Type: text/plain; charset=utf-8\r\n")
    assert stream.tell() < 2000


def test_header_block_is_bounded() -> None:
    stream = io.BytesIO(b"X-Junk: " + b"a" * 5000 + b"\r\n" + b"\r\nbody")
    assert len(read_header_block(stream, limit=1000)) <= 5010


def test_missing_and_malformed_headers(tmp_path: Path) -> None:
    path = tmp_path / "bare.eml"
    path.write_bytes(b"Subject: hi\nTo: not an address at all,,\n\nbody\n")
    headers = header_summary(path)
    assert headers.subject == "hi"
    assert headers.from_ is None
    assert headers.received_hops == 0
    assert headers.authentication_results == []
    assert isinstance(headers.to, list)
