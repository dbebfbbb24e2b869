"""junk_mail on Graph v1.0, which has no markAsJunk: move to Junk Email (or back to the
Inbox), and block a sender with an inbox rule named ``Exchange Pack: junk mail from <addr>``
that moves that sender's mail to Junk Email (created once, removed when is_junk is false).
"""

from __future__ import annotations

from typing import Any

from ..models import JunkResult, MessageRef
from .messages import message_path
from .transport import BatchRequest, GraphClient, graph_path, with_query

RULE_PREFIX = "Exchange Pack: junk mail from "


def rule_name(address: str) -> str:
    """The recognizable display name of the blocking rule for one sender."""
    return f"{RULE_PREFIX}{address.lower()}"


def mark_junk(
    client: GraphClient, message: MessageRef, *, is_junk: bool, move: bool, block_sender: bool
) -> JunkResult:
    """Blocks/unblocks the sender (inbox rule) and moves the message to junkemail or inbox."""
    blocked = set_sender_rule(client, message, block=is_junk) if block_sender else None
    current_id = message.id
    moved_to = None
    if move:
        moved_to = "junkemail" if is_junk else "inbox"
        path = message_path(message.mailbox, message.id, "/move")
        current_id = client.post_json(path, {"destinationId": moved_to})["id"]
    return JunkResult(
        mailbox=message.mailbox,
        id=current_id,
        internet_message_id=message.internet_message_id,
        is_junk=is_junk,
        moved_to=moved_to,
        sender_blocked=blocked,
    )


def set_sender_rule(client: GraphClient, message: MessageRef, *, block: bool) -> bool:
    """One ``$batch`` (the message's sender, the inbox rules, the Junk Email folder id), then
    ``POST messageRules`` or ``DELETE messageRules/{id}`` when something must change."""
    mailbox = message.mailbox
    rules_path = graph_path("/users/{}/mailFolders/inbox/messageRules", mailbox)
    lookups = [
        BatchRequest(
            id="message", url=with_query(message_path(mailbox, message.id), {"$select": "from"})
        ),
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
    sender = ((answers["message"].body.get("from") or {}).get("emailAddress") or {}).get("address")
    if not sender:
        return False
    name = rule_name(sender)
    existing = [r for r in answers["rules"].body.get("value") or [] if r.get("displayName") == name]
    if block and not existing:
        client.post_json(rules_path, _rule(name, sender, answers["junk"].body["id"]))
    if not block:
        for rule in existing:
            path = graph_path("/users/{}/mailFolders/inbox/messageRules/{}", mailbox, rule["id"])
            client.request("DELETE", path).close()
    return block


def _rule(name: str, sender: str, junk_folder_id: str) -> dict[str, Any]:
    return {
        "displayName": name,
        "sequence": 1,
        "isEnabled": True,
        "conditions": {"fromAddresses": [{"emailAddress": {"address": sender}}]},
        "actions": {"moveToFolder": junk_folder_id, "stopProcessingRules": True},
    }
