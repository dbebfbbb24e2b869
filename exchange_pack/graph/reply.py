"""reply_to_email on Graph: ``createReply``/``createReplyAll`` with the comment, extras, then
``send``.

A bare ``reply`` would be one request, but it answers 202 without a body, so it cannot name
the reply it sent; the draft returned by ``createReply`` carries the reply's internetMessageId.
Minimum: 2 requests; +1 PATCH for extra recipients or importance; +1 per attachment.
"""

from __future__ import annotations

from typing import Any

from ..models import MessageRef, OutgoingMessage, SentMessage
from .drafts import add_attachments, recipients_json, send_draft
from .messages import message_path
from .transport import GraphClient


def _extended(existing: list[dict[str, Any]] | None, extra: list[str]) -> list[dict[str, Any]]:
    known = {((r.get("emailAddress") or {}).get("address") or "").lower() for r in existing or []}
    added = [a for a in extra if a.lower() not in known]
    return list(existing or []) + recipients_json(added)


def reply(
    client: GraphClient,
    message: MessageRef,
    draft: OutgoingMessage,
    *,
    reply_all: bool,
) -> SentMessage:
    """Replies to ``message`` (Graph ``createReply``/``createReplyAll``, PATCH, ``send``)."""
    mailbox = message.mailbox
    action = "/createReplyAll" if reply_all else "/createReply"
    created = client.post_json(message_path(mailbox, message.id, action), {"comment": draft.body})
    changes: dict[str, Any] = {}
    if draft.to:
        changes["toRecipients"] = _extended(created.get("toRecipients"), draft.to)
    if draft.cc:
        changes["ccRecipients"] = _extended(created.get("ccRecipients"), draft.cc)
    if draft.bcc:
        changes["bccRecipients"] = recipients_json(draft.bcc)
    if draft.importance != "normal":
        changes["importance"] = draft.importance
    if changes:
        client.request("PATCH", message_path(mailbox, created["id"]), json=changes).close()
    add_attachments(client, mailbox, created["id"], draft.attachment_paths)
    send_draft(client, mailbox, created["id"])
    return SentMessage(
        mailbox=mailbox,
        internet_message_id=created["internetMessageId"],
        id=created["id"],
        subject=created.get("subject"),
    )
