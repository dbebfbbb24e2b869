"""reply_to_email on Graph: ``createReply``/``createReplyAll`` with the comment, extras, then
``send``.

A bare ``reply`` would be one request, but it answers 202 without a body, so it cannot name
the reply it sent; the draft returned by ``createReply`` carries the reply's internetMessageId.
An original known by id alone is read in the same ``$batch`` as ``createReply``.
Minimum: 2 requests; +1 PATCH for extra recipients or importance; +1 per attachment.
"""

from __future__ import annotations

from typing import Any

from ..backend import is_unresolved
from ..models import MessageRef, OutgoingMessage, SentMessage, SentReply
from .drafts import add_attachments, recipients_json, send_draft
from .messages import message_path
from .shape import REF_FIELDS, message_ref
from .transport import BatchRequest, GraphClient, with_query


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
) -> SentReply:
    """Replies to ``message`` (Graph ``createReply``/``createReplyAll``, PATCH, ``send``)."""
    mailbox = message.mailbox
    action = "/createReplyAll" if reply_all else "/createReply"
    create = BatchRequest(
        id="reply",
        method="POST",
        url=message_path(mailbox, message.id, action),
        body={"comment": draft.body},
    )
    if is_unresolved(message):
        message, created = _read_and_create(client, message, create)
    else:
        created = client.post_json(create.url, create.body)
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
    sent = SentMessage(
        mailbox=mailbox,
        internet_message_id=created["internetMessageId"],
        id=created["id"],
        subject=created.get("subject"),
    )
    return SentReply(in_reply_to=message, reply=sent)


def _read_and_create(
    client: GraphClient, message: MessageRef, create: BatchRequest
) -> tuple[MessageRef, dict[str, Any]]:
    """One ``$batch``: the original's reference fields and the reply draft."""
    read = BatchRequest(
        id="original",
        url=with_query(message_path(message.mailbox, message.id), {"$select": REF_FIELDS}),
    )
    answers = client.batch([read, create])
    for request in (read, create):
        if not answers[request.id].ok:
            raise answers[request.id].error(request)
    return message_ref(answers["original"].body, message.mailbox), answers["reply"].body
