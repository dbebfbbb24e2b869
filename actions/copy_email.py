"""Copy Email: copy a message to a folder of the same mailbox or of another one.

Graph: ``POST .../messages/{id}/copy`` in the same mailbox, MIME export (``$value``) and import
across mailboxes; EWS: CopyItem (with the destination mailbox's folder).
"""

from __future__ import annotations

from typing import Any

from exchange_pack.actions.outputs import CopyResult
from exchange_pack.actions.targets import completed, locate_message, message_ref_of
from exchange_pack.config import ConnectionConfig
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "copy_email"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Copies the message and returns the copy's ids; a source given by backend id takes its
    subject and internet_message_id from the copy (Graph: the copy's answer, no GET first)."""
    mailbox, message = locate_message(ctx.session, params, config)
    destination_mailbox = params.get("destination_mailbox") or mailbox.address
    other_mailbox = destination_mailbox.lower() != mailbox.address.lower()
    copy = mailbox.copy(
        message,
        params["destination_folder"],
        destination_mailbox if other_mailbox else None,
    )
    result = CopyResult(
        source=completed(message, copy.internet_message_id, copy.subject),
        copy=message_ref_of(copy),
        destination_mailbox=copy.mailbox,
        destination_folder=params["destination_folder"],
    )
    return ActionResult(
        data=result,
        message=f"Copied to {params['destination_folder']} in {copy.mailbox}.",
        summary={"copied": 1},
    )


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
