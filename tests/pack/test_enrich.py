"""exchange_pack.enrich on crafted MIME (pure parsing, no server): header verdicts, Received
chain, bodies, URLs, attached messages, and the bounds that keep hostile mail harmless."""

from __future__ import annotations

from exchange_pack.enrich import bodies, headers, parse
from exchange_pack.enrich.parse import enrich_mime, read_bounded

ORIGINAL = (
    b"Received: from mx2.contoso.com (10.0.0.2) by mx1.contoso.com (10.0.0.1) with SMTP;"
    b" Fri, 20 Nov 2026 10:00:30 +0000\r\n"
    b"Received: from [2001:db8::7] (helo=attacker) by mx2.contoso.com with ESMTPSA;\r\n"
    b" Fri, 20 Nov 2026 10:00:00 +0000\r\n"
    b"Received: garbage without any of the usual parts\r\n"
    b"Authentication-Results: spf=pass smtp.mailfrom=news.example.org; dkim=pass\r\n"
    b" header.d=example.org; dmarc=pass header.from=example.org\r\n"
    b"Authentication-Results: spf=fail (a forged upstream header)\r\n"
    b"From: =?utf-8?q?Caf=C3=A9_News?= <news@mail.example.org>\r\n"
    b"Reply-To: desk@example.org\r\nReturn-Path: <bounce@news.example.org>\r\n"
    b"Subject: =?utf-8?q?Men=C3=BC?=\r\nDate: not a date\r\nMessage-ID: <m1@example.org>\r\n"
    b"X-Originating-IP: [192.0.2.9]\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n\r\n"
    b"see https://example.org/a, and https://example.org/a.\r\n"
    b"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    b'<p>Hello <b>there</b></p><script>evil()</script><div style="DISPLAY: none">secret</div>'
    b'<a href="https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil.example'
    b'%2Fx%3Fa%3D1&amp;data=1">click</a><br>bye\r\n--b--\r\n'
)


def test_headers_chain_and_verdicts() -> None:
    found = enrich_mime(ORIGINAL, mime_truncated=False)
    analysis = found.headers
    hops = analysis.received
    assert [(h.from_host, h.from_ip, h.by_host) for h in hops[:2]] == [
        ("mx2.contoso.com", "10.0.0.2", "mx1.contoso.com"),
        ("[2001:db8::7]", "2001:db8::7", "mx2.contoso.com"),
    ]
    assert [h.delay_seconds for h in hops] == [30, None, None]
    assert hops[2].from_host is None and hops[2].at is None  # garbage stays harmless
    assert analysis.authentication.model_dump() == {
        "spf": "pass",
        "dkim": "pass",
        "dmarc": "pass",
        "compauth": None,
        "smtp_mailfrom": "news.example.org",
        "header_from": "example.org",
    }
    assert analysis.domains_agree  # subdomains of one organisation agree
    assert analysis.x_originating_ip == "192.0.2.9"
    assert found.subject == "Menü" and found.date is None
    assert found.internet_message_id == "<m1@example.org>"


def test_bodies_visible_text_and_urls() -> None:
    found = enrich_mime(ORIGINAL, mime_truncated=False)
    assert found.bodies.html_text == "Hello there\nclick\nbye"
    assert "see https://example.org/a" in found.bodies.text  # an unknown charset still decodes
    assert [(u.url, u.wrapped is not None) for u in found.urls] == [
        ("https://evil.example/x?a=1", True),
        ("https://example.org/a", False),
    ]


def test_url_list_is_bounded() -> None:
    text = " ".join(f"https://h{i}.example/" for i in range(bodies.MAX_URLS + 5))
    urls, cut = bodies.collect_urls(text, [])
    assert len(urls) == bodies.MAX_URLS and cut


def test_safelinks_unwrap_only_real_wrappers() -> None:
    assert (
        bodies.unwrap("https://safelinks.protection.outlook.com.evil.example/?url=https://a")[1]
        is None
    )
    assert bodies.unwrap("https://nam02.safelinks.protection.outlook.com/?url=javascript:x") == (
        "https://nam02.safelinks.protection.outlook.com/?url=javascript:x",
        None,
    )


def test_an_attached_message_is_unwrapped_with_its_depth() -> None:
    report = (
        b"From: bob@contoso.com\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="r"\r\n\r\n--r\r\n'
        b"Content-Type: text/plain\r\n\r\nplease look\r\n--r\r\n"
        b"Content-Type: message/rfc822\r\n\r\n" + ORIGINAL + b"\r\n--r--\r\n"
    )
    found = enrich_mime(report, mime_truncated=False, depth=1)
    assert found.is_report and found.reported
    (attached,) = found.attachments
    assert attached.kind == "item" and attached.sha256
    (inner,) = found.reported_messages
    assert inner.depth == 2 and inner.subject == "Menü" and inner.reported


def test_hostile_structure_and_headers_stay_within_bounds() -> None:
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(headers.MAX_HEADERS + 50))
    nested = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i)
        for i in range(parse.MAX_MULTIPART + 1)
    )
    found = enrich_mime(b"From: a@b.example\r\n" + many + nested + b"x", mime_truncated=False)
    assert found.limits.headers_truncated and found.limits.structure_truncated
    assert found.headers.header_count == headers.MAX_HEADERS + 52  # From, X-H*, Content-Type
    deep = b"".join(
        b'Content-Type: multipart/mixed; boundary="d%d"\r\n\r\n--d%d\r\n' % (i, i)
        for i in range(parse.MAX_DEPTH + 3)
    )
    leaf = b"Content-Type: text/plain\r\n\r\nx"
    walked = enrich_mime(b"From: a@b.example\r\n" + deep + leaf, mime_truncated=False)
    assert walked.limits.structure_truncated and walked.bodies.text == ""


def test_read_bounded_stops_at_the_limit() -> None:
    assert read_bounded(iter([b"abc", b"def"]), 4) == (b"abcd", True)
    assert read_bounded(iter([b"abc"]), 4) == (b"abc", False)
