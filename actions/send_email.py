"""Send Email: send a message from a mailbox and return its internet_message_id.

Graph: a draft (``POST /users/{id}/messages``, upload sessions for attachments over 3 MB) then
``send``; EWS: CreateItem with MessageDisposition SendAndSaveCopy / SendOnly. A send that may
have gone out is never repeated (OUTCOME_UNKNOWN instead).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from exchange_pack.actions.drafts import outgoing_message, require_recipients
from exchange_pack.actions.outputs import SendResult
from exchange_pack.actions.targets import mailbox_of
from exchange_pack.config import ConnectionConfig
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "send_email"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Sends the message once and reports its ids and recipients."""
    draft = outgoing_message(params)
    require_recipients(draft)
    sent = ctx.session.backend.mailbox(mailbox_of(params, config)).send(draft)
    result = SendResult(
        message=sent,
        to=draft.to,
        cc=draft.cc,
        bcc=draft.bcc,
        attachment_names=[Path(p).name for p in draft.attachment_paths],
    )
    recipients = len(draft.to) + len(draft.cc) + len(draft.bcc)
    return ActionResult(
        data=result,
        message=f"Sent {draft.subject!r} from {sent.mailbox} to {recipients} recipients.",
        summary={"sent": 1, "recipients": recipients, "attachments": len(draft.attachment_paths)},
    )


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
