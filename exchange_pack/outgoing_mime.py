"""The RFC 5322 message send_email hands to either backend, with a Message-ID the pack chooses.

Graph (``sendMail`` with a base64 MIME body) and EWS (``CreateItem`` with ``MimeContent``) both
keep the ``Message-ID`` header of a MIME message, so one request sends the message and the pack
already knows its internet_message_id: nothing has to be read back, and nothing is sent twice.
"""

from __future__ import annotations

import mimetypes
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from .errors import InputError
from .models import OutgoingMessage

IMPORTANCE_HEADER = {"low": "Low", "normal": "Normal", "high": "High"}


def attachment_file(path: str) -> Path:
    """The file behind an ``attachment_paths`` entry (InputError when it is not a file)."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"The attachment {path!r} is not a readable file.")
    return file


def content_type(file: Path) -> str:
    """The MIME type guessed from the file name."""
    return mimetypes.guess_type(file.name)[0] or "application/octet-stream"


def new_message_id(mailbox: str) -> str:
    """A fresh ``<...@domain>`` Message-ID in the sending mailbox's domain."""
    return make_msgid(domain=mailbox.rpartition("@")[2] or None)


def compose_mime(draft: OutgoingMessage, mailbox: str, message_id: str) -> bytes:
    """The message (body, recipients including Bcc, Reply-To, Importance, the files of
    ``attachment_paths``) as RFC 5322 bytes; Exchange drops the Bcc header on delivery."""
    mime = EmailMessage()
    mime["From"] = mailbox
    for header, addresses in (("To", draft.to), ("Cc", draft.cc), ("Bcc", draft.bcc)):
        if addresses:
            mime[header] = ", ".join(addresses)
    if draft.reply_to:
        mime["Reply-To"] = ", ".join(draft.reply_to)
    mime["Subject"] = draft.subject
    mime["Date"] = formatdate(usegmt=True)
    mime["Message-ID"] = message_id
    mime["Importance"] = IMPORTANCE_HEADER[draft.importance]
    mime.set_content(draft.body, subtype="html" if draft.body_type == "html" else "plain")
    for path in draft.attachment_paths:
        file = attachment_file(path)
        maintype, _, subtype = content_type(file).partition("/")
        mime.add_attachment(
            file.read_bytes(), maintype=maintype, subtype=subtype, filename=file.name
        )
    return mime.as_bytes()
