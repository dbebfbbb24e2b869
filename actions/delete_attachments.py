"""Delete Attachments: remove attachments from a message (by id, by name, or all).

Graph: ``DELETE .../messages/{id}/attachments/{id}``; EWS: DeleteAttachment. ``dry_run``
lists what would be removed and changes nothing.
"""

from __future__ import annotations

import sys
from typing import Any

from exchange_pack.actions.attachments import require_selection, select_attachments
from exchange_pack.actions.deletion import raise_when_all_failed
from exchange_pack.actions.outputs import AttachmentRemoval, DeleteAttachmentsResult
from exchange_pack.actions.targets import mailbox_of, message_ref
from exchange_pack.config import ConnectionConfig
from exchange_pack.errors import AttachmentNotFoundError, ExchangePackError
from exchange_pack.runtime import ActionContext, ActionResult, run_action

ACTION_ID = "delete_attachments"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Removes each chosen attachment and reports its status."""
    ids, names = params.get("attachment_ids"), params.get("attachment_names")
    require_selection(ids, names, params["all_attachments"])
    mailbox = ctx.session.backend.mailbox(mailbox_of(params, config))
    message, found = mailbox.message_attachments(message_ref(params))
    chosen = select_attachments(found, ids, names, ctx.warn)
    dry_run = params["dry_run"]
    removals: list[AttachmentRemoval] = []
    errors: list[ExchangePackError | None] = []
    for attachment in chosen:
        info = attachment.model_dump()
        error = None
        if dry_run:
            removals.append(AttachmentRemoval(**info, status="would_delete"))
        else:
            try:
                mailbox.delete_attachment(message, attachment)
            except AttachmentNotFoundError:
                pass  # removed meanwhile: the wanted state holds
            except ExchangePackError as exc:
                error = exc
            status = "failed" if error else "deleted"
            removals.append(
                AttachmentRemoval(**info, status=status, error=error.message if error else None)
            )
        errors.append(error)
    raise_when_all_failed(errors)
    failed = sum(r.status == "failed" for r in removals)
    done = len(removals) - failed
    verb = "Would remove" if dry_run else "Removed"
    result = DeleteAttachmentsResult(message=message, dry_run=dry_run, attachments=removals)
    return ActionResult(
        data=result,
        message=f"{verb} {done} of {len(removals)} attachments from {message.subject!r}.",
        summary={"attachments": len(removals), "removed": 0 if dry_run else done, "failed": failed},
    )


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    sys.exit(main())
