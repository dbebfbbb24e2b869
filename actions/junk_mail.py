"""Junk Mail: mark a message as junk (or not junk), move it, optionally block the sender.

EWS: MarkAsJunk (IsJunk, MoveItem; the sender joins the blocked senders list). Graph: move to
Junk Email / Inbox, and for block_sender an inbox rule named recognizably that sends the
sender's mail to Junk Email (removed again when is_junk is false).
"""

from __future__ import annotations

from typing import Any

from exchange_pack.actions.outputs import JunkOutcome
from exchange_pack.actions.targets import locate_message
from exchange_pack.config import ConnectionConfig
from exchange_pack.models import MessageRef
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "junk_mail"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Marks the message and reports where it went and whether the sender is blocked."""
    # Graph looks an internet_message_id up inside the $batch that reads the sender rules.
    mailbox, message = locate_message(ctx.session, params, config, deferred=True)
    outcome = mailbox.mark_junk(
        message,
        is_junk=params["is_junk"],
        move=params["move"],
        block_sender=params["block_sender"],
    )
    known_sender = message.from_ or message.sender
    sender = outcome.sender or (known_sender.address if known_sender else None)
    subject = outcome.subject if outcome.subject is not None else message.subject
    result = JunkOutcome(
        message=MessageRef(
            mailbox=outcome.mailbox,
            id=outcome.id,
            internet_message_id=outcome.internet_message_id or message.internet_message_id,
            subject=subject,
        ),
        original_id=outcome.original_id or message.id,
        is_junk=outcome.is_junk,
        moved_to=outcome.moved_to,
        sender=sender,
        sender_blocked=outcome.sender_blocked,
    )
    verdict = "junk" if outcome.is_junk else "not junk"
    moved = f", moved to {outcome.moved_to}" if outcome.moved_to else ""
    blocked = {True: ", sender blocked", False: ", sender not blocked", None: ""}
    return ActionResult(
        data=result,
        message=f"Marked {subject!r} as {verdict}{moved}{blocked[outcome.sender_blocked]}.",
        summary={
            "moved": outcome.moved_to is not None,
            "sender_blocked": bool(outcome.sender_blocked),
        },
    )


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
