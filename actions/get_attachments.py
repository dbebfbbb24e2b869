"""Get Attachments: save a message's attachments under output_dir, hashed while streaming.

Graph: ``GET .../messages/{id}/attachments`` and ``/attachments/{id}/$value``; EWS:
GetAttachment. Attached messages are saved as ``.eml``.
"""

from __future__ import annotations

from typing import Any

from exchange_pack.actions.attachments import save_attachments, select_attachments
from exchange_pack.actions.files import OutputFolder
from exchange_pack.actions.outputs import AttachmentsResult
from exchange_pack.actions.targets import mailbox_of, message_ref
from exchange_pack.config import ConnectionConfig
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "get_attachments"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Writes each chosen attachment to its own safe, unique file and reports its digests."""
    mailbox = ctx.session.backend.mailbox(mailbox_of(params, config))
    message, found = mailbox.message_attachments(message_ref(params))
    chosen = select_attachments(
        found,
        params.get("attachment_ids"),
        params.get("attachment_names"),
        ctx.warn,
    )
    folder = OutputFolder(ctx.output_dir)
    saved = save_attachments(
        mailbox,
        message,
        chosen,
        folder,
        include_content=params["include_content"],
        max_size_bytes=params["max_size_bytes"],
        warn=ctx.warn,
    )
    skipped = [a for a in saved if a.skipped_reason]
    for attachment in skipped:
        ctx.warn(f"{attachment.name}: {attachment.skipped_reason}.")
    result = AttachmentsResult(message=message, output_dir=str(folder.root), attachments=saved)
    return ActionResult(
        data=result,
        message=f"Saved {len(saved) - len(skipped)} of {len(saved)} attachments to {folder.root}.",
        summary={
            "attachments": len(saved),
            "saved": len(saved) - len(skipped),
            "skipped": len(skipped),
        },
    )


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
