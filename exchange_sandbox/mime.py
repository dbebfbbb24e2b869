"""RFC 5322 / MIME for the sandbox store: parse a message into its fields and attachments,
build new messages, and rewrite a message's attachment parts.

An attachment is any leaf part that is not the message body: ``message/rfc822`` parts (kind
``item``), parts with ``Content-Disposition: attachment``, and parts with a file name or a
Content-ID. The body is the first ``text/plain`` and ``text/html`` leaf that is none of those.
Attached messages are leaves: nothing inside them is an attachment of the outer message.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import mimetypes
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, parsedate_to_datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .store import Address, Importance

# CRLF line endings and no line-length refolding surprises on output.
POLICY = policy.default.clone(linesep="\r\n")
_PARSER = BytesParser(policy=policy.default)

PREVIEW_LENGTH = 255

_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|tr)\s*:\s*)+", re.IGNORECASE)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML body, whitespace folded."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup))).strip()


def preview(text: str) -> str:
    """Exchange's bodyPreview: the first 255 characters of the text body, whitespace folded."""
    return _SPACE.sub(" ", text).strip()[:PREVIEW_LENGTH]


def conversation_id(subject: str) -> str:
    """A stable ConversationId for a thread topic (the subject without RE:/FW: prefixes)."""
    topic = _REPLY_PREFIX.sub("", subject).strip().casefold()
    digest = hashlib.sha256(topic.encode("utf-8")).digest()[:16]
    return base64.b64encode(b"\x00\x04\x24\x00\x00\x00\x00" + digest).decode("ascii")


@dataclass
class ParsedAttachment:
    """One attachment part: its bytes are the decoded content (the whole message for items)."""

    name: str
    content_type: str
    content: bytes
    is_inline: bool = False
    content_id: str | None = None
    kind: Literal["file", "item"] = "file"


@dataclass
class ParsedMessage:
    """The fields the store indexes, read from a message's MIME."""

    subject: str
    sender: Address | None
    from_: Address | None
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    reply_to: list[Address]
    sent_at: dt.datetime | None
    internet_message_id: str
    in_reply_to: str | None
    importance: Importance
    body_type: Literal["text", "html"]
    body: str
    body_preview: str
    headers: list[tuple[str, str]]
    attachments: list[ParsedAttachment] = field(default_factory=list)

    @property
    def conversation_id(self) -> str:
        return conversation_id(self.subject)


# -- parsing -------------------------------------------------------------------------------------


def _leaves(part: Message) -> Iterator[tuple[Message, Message | None]]:
    """(leaf, parent) pairs in document order; message/rfc822 parts are leaves."""
    if part.get_content_maintype() == "multipart":
        for sub in part.get_payload():
            if isinstance(sub, Message):
                if sub.get_content_maintype() == "multipart":
                    yield from _leaves(sub)
                else:
                    yield sub, part
    else:
        yield part, None


def _is_attachment(part: Message) -> bool:
    if part.get_content_type() == "message/rfc822":
        return True
    disposition = (part.get_content_disposition() or "").lower()
    if disposition == "attachment":
        return True
    if part.get_content_maintype() == "text" and part.get_content_subtype() in ("plain", "html"):
        return bool(part.get_filename())
    return True


def _attachment_parts(msg: Message) -> list[tuple[Message, Message | None]]:
    return [(leaf, parent) for leaf, parent in _leaves(msg) if _is_attachment(leaf)]


def _message_bytes(msg: Message) -> bytes:
    return msg.as_bytes(policy=POLICY)


def _decode_text(part: Message) -> str:
    try:
        text = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, AttributeError):
        raw = part.get_payload(decode=True) or b""
        text = raw.decode("utf-8", "replace")
    return text.removesuffix("\n").removesuffix("\r")


def _attachment_from(part: Message, index: int) -> ParsedAttachment:
    content_id = part.get("Content-ID")
    content_id = str(content_id).strip().strip("<>") if content_id else None
    if part.get_content_type() == "message/rfc822":
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        content = _message_bytes(inner) if isinstance(inner, Message) else b""
        name = part.get_filename() or (
            f"{inner.get('Subject', '') or 'Untitled'}.eml" if inner is not None else "message.eml"
        )
        return ParsedAttachment(str(name), "message/rfc822", content, False, content_id, "item")
    content = part.get_payload(decode=True) or b""
    content_type = part.get_content_type()
    name = part.get_filename() or part.get_param("name")
    if not name:
        name = f"ATT{index:05d}{mimetypes.guess_extension(content_type) or '.bin'}"
    disposition = (part.get_content_disposition() or "").lower()
    is_inline = disposition == "inline" or (not disposition and content_id is not None)
    return ParsedAttachment(str(name), content_type, content, is_inline, content_id, "file")


def _address(value: str | None) -> Address | None:
    found = _addresses(value)
    return found[0] if found else None


def _addresses(value: str | None) -> list[Address]:
    from .store import Address  # the store module imports this one at load time

    if not value:
        return []
    return [Address(addr.lower(), name) for name, addr in getaddresses([str(value)]) if addr]


def _importance(msg: Message) -> Importance:
    value = str(msg.get("Importance", "")).strip().lower()
    if value in ("low", "normal", "high"):
        return value  # type: ignore[return-value]
    priority = str(msg.get("X-Priority", "")).strip()[:1]
    return {"1": "high", "2": "high", "4": "low", "5": "low"}.get(priority, "normal")  # type: ignore[return-value]


def _date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


def parse_message(data: bytes) -> EmailMessage:
    """The ``email`` object model of MIME bytes."""
    return _PARSER.parsebytes(data)  # type: ignore[return-value]


def parse_mime(data: bytes) -> ParsedMessage:
    """Every indexed field and every attachment of a MIME message."""
    msg = parse_message(data)
    text_body: str | None = None
    html_body: str | None = None
    attachments: list[ParsedAttachment] = []
    for leaf, _parent in _leaves(msg):
        if _is_attachment(leaf):
            attachments.append(_attachment_from(leaf, len(attachments) + 1))
        elif leaf.get_content_subtype() == "html":
            html_body = _decode_text(leaf) if html_body is None else html_body
        else:
            text_body = _decode_text(leaf) if text_body is None else text_body
    if html_body is not None:
        body_type: Literal["text", "html"] = "html"
        body = html_body
        plain = text_body if text_body is not None else html_to_text(html_body)
    else:
        body_type, body = "text", text_body or ""
        plain = body
    from_ = _address(msg.get("From"))
    message_id = str(msg.get("Message-ID", "") or "").strip()
    in_reply_to = str(msg.get("In-Reply-To", "") or "").strip() or None
    return ParsedMessage(
        subject=str(msg.get("Subject", "") or ""),
        sender=_address(msg.get("Sender")) or from_,
        from_=from_,
        to=_addresses(msg.get("To")),
        cc=_addresses(msg.get("Cc")),
        bcc=_addresses(msg.get("Bcc")),
        reply_to=_addresses(msg.get("Reply-To")),
        sent_at=_date(msg.get("Date")),
        internet_message_id=message_id,
        in_reply_to=in_reply_to,
        importance=_importance(msg),
        body_type=body_type,
        body=body,
        body_preview=preview(plain),
        headers=[(name, str(value)) for name, value in msg.items()],
        attachments=attachments,
    )


# -- building ------------------------------------------------------------------------------------


def format_addresses(addresses: list[Address]) -> str:
    """``"Name" <address>, ...`` for a header."""
    return ", ".join(
        str(HeaderAddress(display_name=a.name, addr_spec=a.address)) for a in addresses
    )


def new_message_id(sender_address: str) -> str:
    """``<uuid@domain-of-sender>``."""
    domain = sender_address.rpartition("@")[2] or "sandbox.local"
    return f"<{uuid.uuid4()}@{domain}>"


def _add_part(msg: EmailMessage, attachment: ParsedAttachment) -> None:
    disposition = "inline" if attachment.is_inline else "attachment"
    if attachment.kind == "item":
        inner = parse_message(attachment.content)
        msg.add_attachment(inner, disposition=disposition, filename=attachment.name)
    else:
        maintype, _, subtype = attachment.content_type.partition("/")
        msg.add_attachment(
            attachment.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            disposition=disposition,
            filename=attachment.name,
            cid=f"<{attachment.content_id}>" if attachment.content_id else None,
        )
    if attachment.kind == "item" and attachment.content_id:
        msg.get_payload()[-1]["Content-ID"] = f"<{attachment.content_id}>"


def _stable_boundaries(msg: Message, seed: str) -> None:
    """Boundaries derived from the Message-ID, so the same message always has the same bytes."""
    for index, part in enumerate(_multiparts(msg)):
        digest = hashlib.sha1(f"{seed}/{index}".encode()).hexdigest()[:28]
        part.set_boundary(f"----=_Part_{index}_{digest}")


def _multiparts(msg: Message) -> Iterator[Message]:
    if msg.get_content_maintype() == "multipart":
        yield msg
        for sub in msg.get_payload():
            if isinstance(sub, Message):
                yield from _multiparts(sub)


def compose(
    headers: list[tuple[str, str]],
    body: str,
    body_type: Literal["text", "html"],
    attachments: list[ParsedAttachment],
) -> bytes:
    """A message with these top-level headers, body (HTML gets a text alternative) and
    attachment parts in order."""
    msg = EmailMessage(policy=POLICY)
    for name, value in headers:
        msg[name] = value
    if "MIME-Version" not in msg:
        msg["MIME-Version"] = "1.0"
    if body_type == "html":
        msg.set_content(html_to_text(body) or " ", subtype="plain", cte="quoted-printable")
        msg.add_alternative(body, subtype="html", cte="quoted-printable")
    else:
        msg.set_content(body, subtype="plain", cte="quoted-printable")
    for attachment in attachments:
        _add_part(msg, attachment)
    _finish(msg)
    return msg.as_bytes(policy=POLICY)


def _finish(msg: Message) -> None:
    """Stable boundaries; MIME-Version only on the top level (``email`` copies it down)."""
    _stable_boundaries(msg, str(msg.get("Message-ID", "")))
    for part in _multiparts(msg):
        for sub in part.get_payload():
            if isinstance(sub, Message):
                del sub["MIME-Version"]


def build_mime(
    *,
    sender: Address,
    to: list[Address],
    cc: list[Address] = (),  # type: ignore[assignment]
    bcc: list[Address] = (),  # type: ignore[assignment]
    reply_to: list[Address] = (),  # type: ignore[assignment]
    subject: str,
    body: str,
    body_type: Literal["text", "html"] = "text",
    attachments: list[tuple[str, str, bytes, bool, str | None]] = (),  # type: ignore[assignment]
    attached_messages: list[bytes] = (),  # type: ignore[assignment]
    importance: Importance = "normal",
    internet_message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    date: dt.datetime | None = None,
    extra_headers: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> bytes:
    """RFC 5322 MIME for a message the faces create (send, reply, drafts, seeds).

    ``attachments``: (name, content_type, content, is_inline, content_id); a
    ``message/rfc822`` entry becomes an attached message with that file name.
    """
    when = date or dt.datetime.now(dt.timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    headers: list[tuple[str, str]] = [("From", format_addresses([sender]))]
    for name, group in (("To", to), ("Cc", cc), ("Bcc", bcc), ("Reply-To", reply_to)):
        if group:
            headers.append((name, format_addresses(list(group))))
    headers += [
        ("Subject", subject),
        ("Date", format_datetime(when)),
        ("Message-ID", internet_message_id or new_message_id(sender.address)),
    ]
    if in_reply_to:
        headers.append(("In-Reply-To", in_reply_to))
    if references:
        headers.append(("References", references))
    if importance != "normal":
        headers += [
            ("Importance", importance.capitalize()),
            ("X-Priority", "1 (Highest)" if importance == "high" else "5 (Lowest)"),
        ]
    headers += list(extra_headers)
    parts = [
        ParsedAttachment(n, ct, c, inline, cid, "item" if ct == "message/rfc822" else "file")
        for n, ct, c, inline, cid in attachments
    ]
    for inner in attached_messages:
        subject_of_inner = str(parse_message(inner).get("Subject", "") or "Untitled")
        parts.append(
            ParsedAttachment(f"{subject_of_inner}.eml", "message/rfc822", inner, kind="item")
        )
    return compose(headers, body, body_type, parts)


# -- rewriting -----------------------------------------------------------------------------------

_STRUCTURE_HEADERS = {"content-type", "content-transfer-encoding", "mime-version"}


def remove_attachment(data: bytes, index: int) -> bytes:
    """The message without its ``index``-th attachment part (order of ``parse_mime``)."""
    msg = parse_message(data)
    parts = _attachment_parts(msg)
    if not 0 <= index < len(parts):
        raise IndexError(f"no attachment #{index}")
    leaf, parent = parts[index]
    if parent is None:  # the whole message is one attachment part: leave an empty text body
        msg.set_content("", subtype="plain")
    else:
        parent.set_payload([p for p in parent.get_payload() if p is not leaf])
    return msg.as_bytes(policy=POLICY)


def append_attachment(data: bytes, attachment: ParsedAttachment) -> bytes:
    """The message with one more attachment part at the end."""
    msg = parse_message(data)
    _add_part(msg, attachment)
    _finish(msg)
    return msg.as_bytes(policy=POLICY)


def rewrite(
    data: bytes,
    *,
    header_changes: dict[str, str | None],
    body: str | None = None,
    body_type: Literal["text", "html"] | None = None,
) -> bytes:
    """The message with headers replaced (None removes one) and optionally a new body; the
    attachment parts are kept in order."""
    parsed = parse_mime(data)
    msg = parse_message(data)
    wanted = {name.lower(): (name, value) for name, value in header_changes.items()}
    headers: list[tuple[str, str]] = []
    for name, value in msg.items():
        key = name.lower()
        if key in _STRUCTURE_HEADERS:
            continue
        if key in wanted:
            new_name, new_value = wanted.pop(key)
            if new_value is not None:
                headers.append((new_name, new_value))
            continue
        headers.append((name, str(value)))
    headers += [(n, v) for n, v in wanted.values() if v is not None]
    return compose(
        headers,
        parsed.body if body is None else body,
        body_type or parsed.body_type,
        parsed.attachments,
    )
