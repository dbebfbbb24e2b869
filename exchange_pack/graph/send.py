"""send_email on Graph: a MIME ``sendMail`` carrying our own Message-ID (one request), or a
draft with upload sessions when the attachments are too big for one request.

Why MIME: Graph ignores an ``internetMessageId`` set in a JSON ``sendMail`` and answers 202
without a body, so the JSON form cannot tell which message went out. A MIME message keeps the
``Message-ID`` header we generate, so one ``POST sendMail`` both sends and names the message.
Attachments larger than the request limit allow need a draft instead: ``POST messages``
(Exchange assigns the internetMessageId and returns it), attachments, then ``send``.
"""

from __future__ import annotations

import base64

from ..errors import MessageNotFoundError
from ..models import MessageRef, OutgoingMessage, SentMessage
from ..outgoing_mime import attachment_file, compose_mime, new_message_id
from .drafts import UPLOAD_THRESHOLD, add_attachments, recipients_json, send_draft
from .messages import find_by_internet_message_id
from .move import delete
from .transport import GraphClient, graph_path


def json_message(draft: OutgoingMessage) -> dict:
    """The draft as a Graph ``message`` resource (without attachments)."""
    return {
        "subject": draft.subject,
        "body": {"contentType": draft.body_type, "content": draft.body},
        "toRecipients": recipients_json(draft.to),
        "ccRecipients": recipients_json(draft.cc),
        "bccRecipients": recipients_json(draft.bcc),
        "replyTo": recipients_json(draft.reply_to),
        "importance": draft.importance,
    }


def attachment_bytes(draft: OutgoingMessage) -> int:
    """Total size of the files to attach."""
    return sum(attachment_file(path).stat().st_size for path in draft.attachment_paths)


def send(client: GraphClient, mailbox: str, draft: OutgoingMessage) -> SentMessage:
    """Sends ``draft`` from ``mailbox``: 1 request (MIME ``sendMail``), or ``POST messages`` +
    one per attachment + ``send`` when the attachments exceed 3 MB; +2 to remove the Sent
    Items copy when ``save_to_sent_items`` is false."""
    if attachment_bytes(draft) > UPLOAD_THRESHOLD:
        sent = send_as_draft(client, mailbox, draft)
    else:
        message_id = new_message_id(mailbox)
        mime = base64.b64encode(compose_mime(draft, mailbox, message_id))
        client.request(
            "POST",
            graph_path("/users/{}/sendMail", mailbox),
            data=mime,
            headers={"Content-Type": "text/plain"},
        ).close()
        sent = SentMessage(mailbox=mailbox, internet_message_id=message_id, subject=draft.subject)
    if not draft.save_to_sent_items:
        remove_sent_copy(client, sent)
        sent = sent.model_copy(update={"id": None})
    return sent


def send_as_draft(client: GraphClient, mailbox: str, draft: OutgoingMessage) -> SentMessage:
    """``POST /users/{id}/messages`` (the draft), its attachments, then ``send``."""
    created = client.post_json(graph_path("/users/{}/messages", mailbox), json_message(draft))
    add_attachments(client, mailbox, created["id"], draft.attachment_paths)
    send_draft(client, mailbox, created["id"])
    return SentMessage(
        mailbox=mailbox,
        internet_message_id=created["internetMessageId"],
        id=created["id"],  # immutable ids survive the move to Sent Items
        subject=draft.subject,
    )


def remove_sent_copy(client: GraphClient, sent: SentMessage) -> None:
    """Removes the Sent Items copy (MIME ``sendMail`` and ``send`` always save one)."""
    message_id = sent.id
    if message_id is None:
        try:
            found = find_by_internet_message_id(
                client, sent.mailbox, sent.internet_message_id, "id"
            )
        except MessageNotFoundError:  # Exchange may not have filed the copy yet
            client.session.stats.warn(
                "The message was sent, but its Sent Items copy was not found to remove."
            )
            return
        message_id = found["id"]
    # DELETE would only move it to Deleted Items: purge where Graph can, else soft-delete.
    kind = "hard" if client.config.cloud_info.supports_permanent_delete else "soft"
    delete(client, MessageRef(mailbox=sent.mailbox, id=message_id, internet_message_id=None), kind)
