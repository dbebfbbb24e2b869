"""Bounded MIME parsing with the standard library (``email``, policy default), and the
enrichment of one message's MIME: headers, bodies, URLs and, inside an attached message, its
attachments and its own attached messages.

Hostile mail never fails the action: the MIME read is capped (MAX_MIME_BYTES), a message with
more than MAX_MULTIPART multipart containers (the parser recurses once per level) is read for
its headers only, the part walk stops at MAX_DEPTH levels and MAX_PARTS parts, and attached
messages are unwrapped MAX_REPORT_DEPTH levels deep. Each bound hit is flagged in ``limits``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from ..models import iso_utc
from . import bodies, headers
from .models import AttachmentDigest, Bodies, Enrichment, Limits, ReportedMessage

MAX_MIME_BYTES = 16 * 1024 * 1024
MAX_MULTIPART = 50
MAX_DEPTH = 8
MAX_PARTS = 500
MAX_REPORT_DEPTH = 2
_MULTIPART = re.compile(rb"(?im)^content-type:[ \t]*multipart/")
_MESSAGE_TYPES = ("message/rfc822",)


def read_bounded(chunks: Iterable[bytes], limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of a stream, and whether it had more (the rest is not read)."""
    buffer = bytearray()
    for chunk in chunks:
        room = limit - len(buffer)
        if len(chunk) > room:
            buffer += chunk[:room]
            return bytes(buffer), True
        buffer += chunk
    return bytes(buffer), False


class Digest:
    """SHA-256, SHA-1 and MD5 of a stream, fed chunk by chunk."""

    def __init__(self) -> None:
        self.sha256, self.sha1, self.md5 = hashlib.sha256(), hashlib.sha1(), hashlib.md5()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        for digest in (self.sha256, self.sha1, self.md5):
            digest.update(chunk)
        self.size += len(chunk)

    def fields(self) -> dict[str, str]:
        return {
            "sha256": self.sha256.hexdigest(),
            "sha1": self.sha1.hexdigest(),
            "md5": self.md5.hexdigest(),
        }


def parse(raw: bytes) -> tuple[EmailMessage, bool]:
    """The parsed message, and whether its structure was too deep to parse (headers only)."""
    parser = BytesParser(policy=policy.default)
    if len(_MULTIPART.findall(raw, 0, MAX_MIME_BYTES)) > MAX_MULTIPART:
        return parser.parsebytes(raw, headersonly=True), True  # type: ignore[return-value]
    try:
        return parser.parsebytes(raw), False  # type: ignore[return-value]
    except RecursionError:
        return parser.parsebytes(raw, headersonly=True), True  # type: ignore[return-value]


def leaves(message: Message, limits: Limits) -> Iterator[Message]:
    """The non-multipart parts in order (an attached message is one leaf), bounded."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    count = 0
    while stack:
        part, depth = stack.pop()
        if not part.is_multipart() or part.get_content_type() in _MESSAGE_TYPES:
            count += 1
            if count > MAX_PARTS:
                limits.structure_truncated = True
                return
            yield part
            continue
        if depth >= MAX_DEPTH:
            limits.structure_truncated = True
            continue
        children = part.get_payload()
        if isinstance(children, list):
            stack.extend((child, depth + 1) for child in reversed(children))


def _is_attachment(part: Message) -> bool:
    if part.get_content_type() in _MESSAGE_TYPES:
        return True
    disposition = (part.get_content_disposition() or "").lower()
    return disposition == "attachment" or (disposition != "inline" and bool(part.get_filename()))


def text_of(part: Message) -> str:
    """A text part's content, decoded; unknown charsets and bad bytes replaced, never raised."""
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content[: bodies.MAX_BODY_CHARS * 4]
    except (LookupError, ValueError, AssertionError, KeyError):
        pass
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def attached_bytes(part: Message) -> bytes:
    """The bytes of an attached message part (``message/rfc822``) or an .eml file part."""
    if part.get_content_type() in _MESSAGE_TYPES:
        inner = part.get_payload()
        if isinstance(inner, list) and inner:
            return inner[0].as_bytes(policy=policy.default)
        return b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def is_message_attachment(name: str, content_type: str, kind: str) -> bool:
    """An attached message: an item attachment, ``message/rfc822``, or an ``.eml`` file."""
    return kind == "item" or content_type.lower() in _MESSAGE_TYPES or name.lower().endswith(".eml")


def _date(message: Message) -> str | None:
    value = message.get("Date") if "Date" in message else None
    try:
        return iso_utc(parsedate_to_datetime(str(value))) if value else None
    except (TypeError, ValueError, IndexError):
        return None


def _header(message: Message, name: str) -> str | None:
    try:
        value = message.get(name)
    except Exception:  # a header the policy cannot parse: read it raw
        value = next((v for k, v in message.raw_items() if k.lower() == name.lower()), None)
    return " ".join(str(value).split()) if value is not None else None


def enrich_mime(
    raw: bytes, *, mime_truncated: bool, depth: int = 0, max_size_bytes: int = MAX_MIME_BYTES
) -> Enrichment:
    """Headers, bodies and URLs of ``raw``; at ``depth`` > 0 (an attached message) also its
    attachments from the MIME and, bounded, the messages attached to it."""
    message, too_deep = parse(raw)
    limits = Limits(mime_truncated=mime_truncated, structure_truncated=too_deep)
    analysis, limits.headers_truncated = headers.analyse(message)
    text: str | None = None
    html: str | None = None
    links: list[str] = []
    attachments: list[AttachmentDigest] = []
    reported: list[ReportedMessage] = []
    for part in leaves(message, limits):
        content_type = part.get_content_type()
        if not _is_attachment(part):
            if content_type == "text/plain" and text is None:
                text = text_of(part)
            elif content_type == "text/html" and html is None:
                html, links = bodies.html_text(text_of(part))
            continue
        if depth == 0:
            continue  # the top message's attachments come from the backend, streamed
        name = part.get_filename() or ("attached.eml" if content_type in _MESSAGE_TYPES else "")
        data = attached_bytes(part)
        kind = "item" if content_type in _MESSAGE_TYPES else "file"
        digest = Digest()
        digest.update(data)
        attachments.append(
            AttachmentDigest(
                name=name, content_type=content_type, size=digest.size, kind=kind, **digest.fields()
            )
        )
        if is_message_attachment(name, content_type, kind) and depth < MAX_REPORT_DEPTH:
            inner = enrich_mime(
                data[:max_size_bytes], mime_truncated=len(data) > max_size_bytes, depth=depth + 1
            )
            reported.extend(flatten(inner, depth + 1))
    body_text = text if text is not None else (html or "")
    urls, limits.urls_truncated = bodies.collect_urls(f"{text or ''}\n{html or ''}", links)
    return Enrichment(
        internet_message_id=_header(message, "Message-ID"),
        subject=_header(message, "Subject"),
        date=_date(message),
        headers=analysis,
        bodies=Bodies(
            text=body_text[: bodies.MAX_BODY_CHARS],
            html_text=html,
            has_html=html is not None,
            truncated=len(body_text) > bodies.MAX_BODY_CHARS,
        ),
        urls=urls,
        attachments=attachments,
        is_report=any(r.depth == depth + 1 for r in reported),
        reported=depth > 0,
        reported_messages=reported,
        limits=limits,
    )


def flatten(found: Enrichment, depth: int) -> list[ReportedMessage]:
    """An attached message's enrichment and the ones attached to it, as one list."""
    own = found.model_dump(exclude={"reported_messages"})
    return [ReportedMessage(**own, depth=depth), *found.reported_messages]
