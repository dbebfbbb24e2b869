"""What get_email (and poll_mailbox with ``enrich``) report about one message: pydantic models
mirrored by ``schemas/get_email.output.json``."""

from __future__ import annotations

from typing import Literal

from ..models import MessageRef, Model

Verdict = Literal[
    "pass",
    "fail",
    "softfail",
    "neutral",
    "none",
    "temperror",
    "permerror",
    "bestguesspass",
    "other",
]


class AddressCheck(Model):
    """An address header and its domain."""

    header: Literal["from", "sender", "reply_to", "return_path"]
    address: str
    domain: str


class Hop(Model):
    """One Received header, newest first: who handed the message to whom, when."""

    from_host: str | None = None
    from_ip: str | None = None
    by_host: str | None = None
    protocol: str | None = None
    at: str | None = None
    delay_seconds: int | None = None  # since the previous (older) hop


class Authentication(Model):
    """Authentication-Results verdicts (the first header, the receiving system's)."""

    spf: str | None = None
    dkim: str | None = None
    dmarc: str | None = None
    compauth: str | None = None
    smtp_mailfrom: str | None = None
    header_from: str | None = None


class AntiSpam(Model):
    """Microsoft's anti-spam verdicts, where present."""

    scl: int | None = None  # spam confidence level (-1 .. 9)
    bcl: int | None = None  # bulk complaint level (0 .. 9)
    sfv: str | None = None  # spam filtering verdict (SPM, NSPM, SKS, ...)
    category: str | None = None  # CAT: PHSH, SPM, BULK, MALW, ...
    country: str | None = None  # CTRY
    connecting_ip: str | None = None  # CIP
    direction: str | None = None  # DIR: INB / OUT / INT


class HeaderAnalysis(Model):
    addresses: list[AddressCheck]
    domains_agree: bool  # every address header names the same domain (org-domain match)
    mismatched_headers: list[str]
    received: list[Hop]
    total_delay_seconds: int | None = None
    authentication: Authentication
    x_originating_ip: str | None = None
    antispam: AntiSpam
    header_count: int


class Url(Model):
    url: str  # unwrapped
    domain: str
    wrapped: str | None = None  # the SafeLinks URL it came in


class AttachmentDigest(Model):
    """An attachment with its digests (computed while streaming), or why it was skipped."""

    name: str
    content_type: str
    size: int
    kind: Literal["file", "item"] = "file"
    is_inline: bool = False
    id: str | None = None  # backend attachment id (top-level message only)
    sha256: str | None = None
    sha1: str | None = None
    md5: str | None = None
    skipped_reason: str | None = None


class Bodies(Model):
    text: str  # the text/plain body (or the HTML's visible text when there is none)
    html_text: str | None = None  # the HTML body's visible text
    has_html: bool = False
    truncated: bool = False


class Limits(Model):
    """Which bounds hostile mail hit (parsing stopped there, never failed)."""

    mime_truncated: bool = False
    headers_truncated: bool = False
    structure_truncated: bool = False
    urls_truncated: bool = False


class MessageAnalysis(Model):
    """One message in full: parsed headers, bodies, URLs, attachments."""

    internet_message_id: str | None
    subject: str | None
    date: str | None
    headers: HeaderAnalysis
    bodies: Bodies
    urls: list[Url]
    attachments: list[AttachmentDigest]
    is_report: bool  # carries an attached message (a user's phishing report)
    reported: bool = False  # this is an attached original of a report
    limits: Limits


class ReportedMessage(MessageAnalysis):
    """An attached message, unwrapped: depth 1 is attached to the message itself."""

    depth: int


class Enrichment(MessageAnalysis):
    """The message, and every message attached to it (and to those, bounded), in order."""

    reported_messages: list[ReportedMessage] = []


class EmailResult(Model):
    message: MessageRef
    enrichment: Enrichment
