"""The header summary of an RFC 5322 message file, read from its header block only."""

from __future__ import annotations

import email.policy
import io
import itertools
from collections.abc import Iterable, Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import BinaryIO

from pydantic import Field

from ..models import Model

MAX_HEADER_BYTES = 1024 * 1024  # a header block larger than this is cut, not read whole


class EmlHeaders(Model):
    """What an analyst looks at first: who, when, which hops and what authentication said."""

    from_: str | None = Field(default=None, alias="from")
    to: list[str] = []
    cc: list[str] = []
    reply_to: str | None = None
    subject: str | None = None
    date: str | None = None
    message_id: str | None = None
    return_path: str | None = None
    authentication_results: list[str] = []
    received_hops: int = 0


def read_header_block(stream: BinaryIO, limit: int = MAX_HEADER_BYTES) -> bytes:
    """The bytes up to the first empty line (the end of the headers), at most ``limit``."""
    block = bytearray()
    for line in stream:
        if line in (b"\r\n", b"\n"):
            break
        block += line
        if len(block) >= limit:
            break
    return bytes(block)


def peek_header_block(
    chunks: Iterable[bytes], limit: int = MAX_HEADER_BYTES
) -> tuple[bytes, Iterator[bytes]]:
    """The header block of a streamed message (read_header_block's bytes), and the stream
    again from its first byte: only the chunks up to the end of the headers are held."""
    stream = iter(chunks)
    head = bytearray()
    for chunk in stream:
        head += chunk
        if b"\n\n" in head or b"\n\r\n" in head or head.startswith((b"\n", b"\r\n")):
            break
        if len(head) >= limit:
            break
    block = read_header_block(io.BytesIO(bytes(head)), limit)
    return block, itertools.chain([bytes(head)], stream)


def parse_header_block(block: bytes) -> EmailMessage:
    """The header block as an EmailMessage without a body (RFC 2047 words decoded)."""
    return BytesParser(policy=email.policy.default).parsebytes(block, headersonly=True)


def reference_fields(message: EmailMessage) -> tuple[str | None, str | None]:
    """(Message-ID, Subject) as a mail server reports them: unfolded, otherwise verbatim."""
    message_id = _one(message, "Message-ID")
    try:
        subject = message.get("Subject")
        text = None if subject is None else str(subject)
    except Exception:  # a malformed header: the folded summary form is the best there is
        text = _one(message, "Subject")
    return message_id, text


def header_summary(path: Path | str) -> EmlHeaders:
    """Parses only the header block of the .eml at ``path`` (RFC 2047 words decoded)."""
    with open(path, "rb") as stream:
        block = read_header_block(stream)
    return summary_of(parse_header_block(block))


def summary_of(message: EmailMessage) -> EmlHeaders:
    """The header summary of a parsed header block."""
    return EmlHeaders(
        from_=_one(message, "From"),
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        reply_to=_one(message, "Reply-To"),
        subject=_one(message, "Subject"),
        date=_one(message, "Date"),
        message_id=_one(message, "Message-ID"),
        return_path=_one(message, "Return-Path"),
        authentication_results=_all(message, "Authentication-Results"),
        received_hops=len(message.get_all("Received") or []),
    )


def _all(message: EmailMessage, name: str) -> list[str]:
    values = []
    for raw in message.get_all(name) or []:
        try:
            text = str(raw)
        except Exception:  # a malformed header: keep its raw text rather than fail
            text = getattr(raw, "_value", "") or ""
        values.append(" ".join(text.split()))
    return values


def _one(message: EmailMessage, name: str) -> str | None:
    values = _all(message, name)
    return values[0] if values else None


def _addresses(message: EmailMessage, name: str) -> list[str]:
    out: list[str] = []
    for raw in message.get_all(name) or []:
        groups = getattr(raw, "addresses", None)
        if groups is None:
            out.extend(v for v in _all(message, name) if v)
            break
        out.extend(str(addr) for addr in groups)
    return out
