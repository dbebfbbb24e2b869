"""junk_mail on EWS: MarkAsJunk, which also keeps the mailbox's blocked-senders list.

EWS MarkAsJunk with IsJunk=true adds the sender to the blocked senders list (and moves the
message to Junk Email when MoveItem=true); IsJunk=false removes the sender and moves it back to
the Inbox. Marking junk without blocking the sender is a plain MoveItem to Junk Email.
"""

from __future__ import annotations

from exchangelib import Account
from exchangelib.services import MarkAsJunk

from ..models import JunkResult, MessageRef
from .messages import completed, item_id
from .mutate import move as move_message
from .mutate import new_item_id
from .transport import EwsTransport


def mark_junk(
    transport: EwsTransport,
    account: Account,
    message: MessageRef,
    *,
    is_junk: bool,
    move: bool,
    block: bool,
) -> JunkResult:
    """EWS MarkAsJunk (or MoveItem to junkemail when the sender must not be blocked); an
    unresolved ``message`` is read first (GetItem of its reference fields and sender)."""
    message, item = completed(transport, account, message, ("author", "sender"))
    person = (item.author or item.sender) if item is not None else None
    sender = person.email_address if person is not None else None
    destination = ("junkemail" if is_junk else "inbox") if move else None
    if is_junk and not block:
        moved = move_message(transport, account, message, "junkemail") if move else message
        return _result(account, moved.id, message, is_junk, destination, None, sender)

    def run() -> str | None:
        return new_item_id(
            MarkAsJunk(account=account).call(
                items=[item_id(message)], is_junk=is_junk, move_item=move
            )
        )

    new_id = transport.call(run, mailbox=account.primary_smtp_address)
    return _result(account, new_id or message.id, message, is_junk, destination, is_junk, sender)


def _result(
    account: Account,
    new_id: str,
    message: MessageRef,
    is_junk: bool,
    moved_to: str | None,
    blocked: bool | None,
    sender: str | None,
) -> JunkResult:
    return JunkResult(
        mailbox=account.primary_smtp_address,
        id=new_id,
        internet_message_id=message.internet_message_id,
        is_junk=is_junk,
        moved_to=moved_to,
        sender_blocked=blocked,
        subject=message.subject,
        sender=sender,
    )
