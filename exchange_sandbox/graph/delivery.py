"""Mail submission inside the tenant: what Exchange transport does after send, sendMail, reply
or forward. Copies go to each recipient that is a mailbox of the tenant (its Inbox, or where
its inbox rules or blocked senders list put it) and, when asked, to the sender's Sent Items.
Recipients outside the tenant are accepted and dropped, as mail leaving the organisation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..mime import POLICY, ParsedMessage, parse_message, parse_mime
from ..store import Mailbox, Rule, Store
from .errors import GraphError

# Conditions (messageRulePredicates) the sandbox evaluates on delivered mail.
SUPPORTED_CONDITIONS = frozenset(
    {
        "fromAddresses",
        "senderContains",
        "subjectContains",
        "bodyContains",
        "bodyOrSubjectContains",
        "recipientContains",
        "sentToAddresses",
        "hasAttachments",
        "importance",
    }
)
# Actions (messageRuleActions) the sandbox carries out.
SUPPORTED_ACTIONS = frozenset({"moveToFolder", "delete", "markAsRead", "stopProcessingRules"})


def without_bcc(mime: bytes) -> bytes:
    """The message as recipients receive it: the ``Bcc`` header removed."""
    msg = parse_message(mime)
    if "Bcc" not in msg:
        return mime
    del msg["Bcc"]
    return msg.as_bytes(policy=POLICY)


def _addresses_of(recipients: Any) -> set[str]:
    found = set()
    for item in recipients or []:
        email = item.get("emailAddress") if isinstance(item, dict) else None
        if isinstance(email, dict) and email.get("address"):
            found.add(str(email["address"]).lower())
    return found


def _contains_any(haystack: str, needles: Any) -> bool:
    text = haystack.casefold()
    return any(str(n).casefold() in text for n in needles or [])


def rule_matches(conditions: dict[str, Any], parsed: ParsedMessage) -> bool:
    """True when every condition of a messageRulePredicates object holds for the message."""
    sender = parsed.from_ or parsed.sender
    sender_text = f"{sender.name} {sender.address}" if sender else ""
    recipients = parsed.to + parsed.cc
    checks = {
        "fromAddresses": lambda v: bool(sender) and sender.address.lower() in _addresses_of(v),
        "senderContains": lambda v: _contains_any(sender_text, v),
        "subjectContains": lambda v: _contains_any(parsed.subject, v),
        "bodyContains": lambda v: _contains_any(parsed.body, v),
        "bodyOrSubjectContains": lambda v: _contains_any(f"{parsed.subject} {parsed.body}", v),
        "recipientContains": lambda v: _contains_any(
            " ".join(f"{a.name} {a.address}" for a in recipients), v
        ),
        "sentToAddresses": lambda v: bool(
            {a.address.lower() for a in recipients} & _addresses_of(v)
        ),
        "hasAttachments": lambda v: bool(parsed.attachments) == bool(v),
        "importance": lambda v: parsed.importance == str(v).lower(),
    }
    return all(checks[name](value) for name, value in conditions.items() if name in checks)


def _placement(store: Store, mailbox: Mailbox, parsed: ParsedMessage) -> tuple[str, bool]:
    """(folder id, is_read) for a message arriving in ``mailbox``."""
    sender = parsed.from_ or parsed.sender
    if sender and sender.address.lower() in store.blocked_senders(mailbox.id):
        return store.folder(mailbox.id, "junkemail").id, False
    folder_id = store.folder(mailbox.id, "inbox").id
    is_read = False
    rules: list[Rule] = sorted(store.rules(mailbox.id), key=lambda r: r.sequence)
    for rule in rules:
        if not rule.is_enabled or not rule_matches(rule.conditions, parsed):
            continue
        actions = rule.actions
        target = actions.get("moveToFolder")
        if target:
            found = store.folder(mailbox.id, str(target))
            folder_id = found.id if found else folder_id
        if actions.get("delete"):
            folder_id = store.folder(mailbox.id, "deleteditems").id
        if actions.get("markAsRead"):
            is_read = True
        if actions.get("stopProcessingRules"):
            break
    return folder_id, is_read


def submit(
    store: Store, sender: Mailbox, mime: bytes, *, save_to_sent: bool, now: dt.datetime
) -> None:
    """Delivers ``mime`` to the tenant's recipient mailboxes and files the sender's copy."""
    parsed = parse_mime(mime)
    recipients = parsed.to + parsed.cc + parsed.bcc
    if not recipients:
        raise GraphError(400, "ErrorInvalidRecipients", "At least one recipient isn't valid.")
    delivered = without_bcc(mime)
    delivered_parsed = parse_mime(delivered)
    seen: set[int] = set()
    for address in recipients:
        target = store.mailbox(address.address)
        if target is None or not target.enabled or target.id in seen:
            continue
        seen.add(target.id)
        folder_id, is_read = _placement(store, target, delivered_parsed)
        store.add_message(target.id, folder_id, delivered, received_at=now, is_read=is_read)
    if save_to_sent:
        sent = store.folder(sender.id, "sentitems")
        store.add_message(sender.id, sent.id, mime, received_at=now, is_read=True)
