"""Poll Mailbox: the new messages of one folder since a checkpoint, each delivered once.

Graph: ``GET .../mailFolders/{id}/messages/delta?changeType=created`` (then its deltaLink);
EWS: SyncFolderItems. Optional enrichment per message (as get_email), ``mark_as_read``
(Graph PATCH, EWS UpdateItem) and ``move_to`` (Graph move, EWS MoveItem) after delivery. The
engine stores ``checkpoint`` from the output and passes it to the next run.
"""

from __future__ import annotations

from typing import Any

from exchange_pack.actions.checkpoint import Journal
from exchange_pack.actions.polling import poll
from exchange_pack.actions.targets import mailbox_of
from exchange_pack.config import ConnectionConfig
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "poll_mailbox"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Delivers up to ``limit`` new messages in received order and the next checkpoint."""
    backend = ctx.session.backend
    mailbox = backend.mailbox(mailbox_of(params, config))
    result = poll(mailbox, backend.name, params, journal=Journal(ctx.output_dir), warn=ctx.warn)
    text = f"{result.count} new message(s) in {result.mailbox} {result.folder}"
    text += "; more waiting." if result.more else "."
    return ActionResult(
        data=result,
        message=text,
        summary={
            "count": result.count,
            "more": result.more,
            "redelivered": result.redelivered,
            "resynced": result.resynced,
        },
    )


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
