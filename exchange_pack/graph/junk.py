"""junk_mail on Graph v1.0, which has no markAsJunk: move to Junk Email (or back to the
Inbox), and block a sender with an inbox rule named ``Exchange Pack: junk mail from <addr>``
that moves that sender's mail to Junk Email (created once, removed when is_junk is false).
"""

from __future__ import annotations

from typing import Any

from ..backend import is_not_looked_up, is_unresolved
from ..models import JunkResult, MessageRef
from .messages import find_by_internet_message_id, first_found, lookup_path, message_path
from .transport import BatchRequest, GraphClient, graph_path, with_query

RULE_PREFIX = "Exchange Pack: junk mail from "
# What the result names of the message: read by the $batch, the move's answer, or one GET.
JUNK_FIELDS = "id,subject,internetMessageId,from"


def rule_name(address: str) -> str:
    """The recognizable display name of the blocking rule for one sender."""
    return f"{RULE_PREFIX}{address.lower()}"


def mark_junk(
    client: GraphClient, message: MessageRef, *, is_junk: bool, move: bool, block_sender: bool
) -> JunkResult:
    """Blocks/unblocks the sender (inbox rule) and moves the message to junkemail or inbox.

    An unresolved ``message`` costs no extra request when the sender rule's ``$batch`` or the
    move's answer returns its subject, Message-ID and sender; otherwise one ``GET``. One not
    looked up yet is found in that ``$batch``, else by one lookup before the move."""
    read: dict[str, Any] = {}
    blocked = None
    if block_sender:
        blocked, read = set_sender_rule(client, message, block=is_junk)
    elif is_not_looked_up(message):
        read = find_by_internet_message_id(
            client, message.mailbox, str(message.internet_message_id), JUNK_FIELDS
        )
    original_id = message.id or read["id"]
    current_id = original_id
    moved_to = None
    if move:
        moved_to = "junkemail" if is_junk else "inbox"
        path = message_path(message.mailbox, original_id, "/move")
        moved = client.post_json(path, {"destinationId": moved_to})
        current_id = moved["id"]
        read = read or moved
    elif not read and is_unresolved(message):
        read = client.get_json(
            with_query(message_path(message.mailbox, message.id), {"$select": JUNK_FIELDS})
        )
    return JunkResult(
        mailbox=message.mailbox,
        id=current_id,
        internet_message_id=message.internet_message_id or read.get("internetMessageId"),
        is_junk=is_junk,
        moved_to=moved_to,
        sender_blocked=blocked,
        subject=message.subject if message.subject is not None else read.get("subject"),
        sender=sender_of(read),
        original_id=original_id,
    )


def sender_of(message: dict[str, Any]) -> str | None:
    """The ``from`` address of a Graph message (None when it was not read)."""
    return ((message.get("from") or {}).get("emailAddress") or {}).get("address")


def set_sender_rule(
    client: GraphClient, message: MessageRef, *, block: bool
) -> tuple[bool, dict[str, Any]]:
    """One ``$batch`` (the message's id, sender, subject and Message-ID, by id or by the
    ``internetMessageId`` lookup; the inbox rules; the Junk Email folder id), then ``POST
    messageRules`` or ``DELETE messageRules/{id}`` when something must change; whether the
    sender is now blocked, and the message as read."""
    mailbox = message.mailbox
    rules_path = graph_path("/users/{}/mailFolders/inbox/messageRules", mailbox)
    internet_message_id = str(message.internet_message_id)
    if is_not_looked_up(message):
        message_url = lookup_path(mailbox, internet_message_id, JUNK_FIELDS)
    else:
        message_url = with_query(message_path(mailbox, message.id), {"$select": JUNK_FIELDS})
    lookups = [
        BatchRequest(id="message", url=message_url),
        BatchRequest(id="rules", url=rules_path),
        BatchRequest(
            id="junk",
            url=with_query(
                graph_path("/users/{}/mailFolders/junkemail", mailbox), {"$select": "id"}
            ),
        ),
    ]
    answers = client.batch(lookups)
    for request in lookups:
        if not answers[request.id].ok:
            raise answers[request.id].error(request)
    read = answers["message"].body or {}
    if is_not_looked_up(message):
        read = first_found(read, mailbox, internet_message_id)
    sender = sender_of(read)
    if not sender:
        return False, read
    name = rule_name(sender)
    existing = [r for r in answers["rules"].body.get("value") or [] if r.get("displayName") == name]
    if block and not existing:
        client.post_json(rules_path, _rule(name, sender, answers["junk"].body["id"]))
    if not block:
        for rule in existing:
            path = graph_path("/users/{}/mailFolders/inbox/messageRules/{}", mailbox, rule["id"])
            client.request("DELETE", path).close()
    return block, read


def _rule(name: str, sender: str, junk_folder_id: str) -> dict[str, Any]:
    return {
        "displayName": name,
        "sequence": 1,
        "isEnabled": True,
        "conditions": {"fromAddresses": [{"emailAddress": {"address": sender}}]},
        "actions": {"moveToFolder": junk_folder_id, "stopProcessingRules": True},
    }
