"""Reply To Email: reply (or reply all) to a message and return the reply's ids.

Graph: ``createReply`` / ``createReplyAll`` (a draft, so extra recipients and attachments can
be added) then ``send``; EWS: CreateItem with ReplyToItem / ReplyAllToItem, then SendItem. A
message given by id is read inside those requests, not before them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from exchange_pack.actions.drafts import outgoing_message
from exchange_pack.actions.outputs import ReplyResult
from exchange_pack.actions.targets import locate_message, message_ref_of
from exchange_pack.config import ConnectionConfig
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "reply_to_email"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Sends the reply once and reports its internet_message_id."""
    draft = outgoing_message(params)
    mailbox, message = locate_message(ctx.session, params, config)
    sent = mailbox.reply(message, draft, reply_all=params["reply_all"])
    result = ReplyResult(
        in_reply_to=message_ref_of(sent.in_reply_to),
        reply=sent.reply,
        reply_all=params["reply_all"],
        attachment_names=[Path(p).name for p in draft.attachment_paths],
    )
    kind = "Replied to all on" if params["reply_all"] else "Replied to"
    return ActionResult(
        data=result,
        message=f"{kind} {sent.in_reply_to.subject!r} from {sent.reply.mailbox}.",
        summary={"sent": 1, "attachments": len(draft.attachment_paths)},
    )


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
