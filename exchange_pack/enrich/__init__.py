"""One message in full for enrichment (get_email, poll_mailbox with ``enrich``).

The message's attachments are listed and its MIME read (bounded) through the backend: Graph
``GET messages/{id}?$expand=attachments`` and ``/$value``; EWS GetItem (MIME). Headers, bodies
and URLs come from the MIME, parsed with the standard library; attachments are streamed from
the backend (Graph ``/attachments/{id}/$value``, EWS GetAttachment) and hashed on the way, as
get_attachments does. An attached message (item attachment or ``.eml`` file) is unwrapped and
enriched the same way, marked ``reported``: in a reporting mailbox, it is the reported mail.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..actions import Warn
from ..backend import MailboxBackend
from ..models import AttachmentInfo, MessageRef
from .models import AttachmentDigest, EmailResult, Enrichment, ReportedMessage
from .parse import (
    MAX_MIME_BYTES,
    Digest,
    enrich_mime,
    flatten,
    is_message_attachment,
    read_bounded,
)

__all__ = ["EmailResult", "Enrichment", "enrich_message"]


def enrich_message(
    mailbox: MailboxBackend, ref: str, *, max_size_bytes: int, warn: Warn
) -> EmailResult:
    """The message named by ``ref`` (backend id or internet_message_id), enriched."""
    message, attachments = mailbox.message_attachments(ref)
    with mailbox.open_mime(message) as chunks:
        raw, truncated = read_bounded(chunks, MAX_MIME_BYTES)
    if truncated:
        warn(
            f"The message is larger than {MAX_MIME_BYTES} bytes: headers and bodies were read "
            "from its first part only; attachments are still hashed from the backend."
        )
    enrichment = enrich_mime(raw, mime_truncated=truncated)
    digests, reported = _attachments(mailbox, message, attachments, max_size_bytes, warn)
    update = {
        "attachments": digests,
        "reported_messages": reported,
        "is_report": any(r.depth == 1 for r in reported),
    }
    return EmailResult(message=message, enrichment=enrichment.model_copy(update=update))


def _attachments(
    mailbox: MailboxBackend,
    message: MessageRef,
    attachments: Sequence[AttachmentInfo],
    max_size_bytes: int,
    warn: Warn,
) -> tuple[list[AttachmentDigest], list[ReportedMessage]]:
    """Each attachment hashed while streaming (files first, then attached messages, as
    get_attachments orders them); attached messages also enriched."""
    digests: list[AttachmentDigest] = []
    reported: list[ReportedMessage] = []
    for attachment in sorted(attachments, key=lambda a: a.kind == "item"):
        info = {
            "id": attachment.id,
            "name": attachment.name,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "kind": attachment.kind,
            "is_inline": attachment.is_inline,
        }
        if attachment.size > max_size_bytes:
            reason = f"larger than max_size_bytes ({attachment.size} > {max_size_bytes} bytes)"
            digests.append(AttachmentDigest(**info, skipped_reason=f"{reason}; not downloaded"))
            warn(f"{attachment.name}: {reason}; not hashed.")
            continue
        keep = is_message_attachment(attachment.name, attachment.content_type, attachment.kind)
        digest, kept, over = Digest(), bytearray(), False
        with mailbox.open_attachment(message, attachment) as chunks:
            for chunk in chunks:
                digest.update(chunk)
                if digest.size > max_size_bytes:
                    over = True
                    break
                if keep and len(kept) < MAX_MIME_BYTES:
                    kept += chunk[: MAX_MIME_BYTES - len(kept)]
        if over:
            reason = f"larger than max_size_bytes (over {max_size_bytes} bytes)"
            digests.append(AttachmentDigest(**info, skipped_reason=f"{reason}; not hashed"))
            continue
        digests.append(AttachmentDigest(**{**info, "size": digest.size}, **digest.fields()))
        if keep:
            inner = enrich_mime(bytes(kept), mime_truncated=digest.size > len(kept), depth=1)
            reported.extend(flatten(inner, 1))
    return digests, reported
