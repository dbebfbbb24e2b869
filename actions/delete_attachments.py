"""Delete Attachments: remove attachments from a message (by id, by name, or all).

Graph: ``DELETE .../messages/{id}/attachments/{id}``; EWS: DeleteAttachment. Each attachment is
first saved under ``output_dir`` (Graph ``/attachments/{id}/$value``, EWS GetAttachment) and
hashed, so a removal can be undone; ``save_copies: false`` opts out. ``dry_run`` lists what
would be removed and changes nothing.
"""

from __future__ import annotations

from typing import Any

from exchange_pack.actions.attachments import keep_copy, require_selection, select_attachments
from exchange_pack.actions.deletion import raise_when_all_failed
from exchange_pack.actions.files import OutputFolder
from exchange_pack.actions.outputs import AttachmentRemoval, DeleteAttachmentsResult
from exchange_pack.actions.targets import mailbox_of, message_ref
from exchange_pack.config import ConnectionConfig
from exchange_pack.errors import AttachmentNotFoundError, ConfigError, ExchangePackError
from exchange_pack.models import FileDigest
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "delete_attachments"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Saves a copy of each chosen attachment, removes it, and reports its status."""
    ids, names = params.get("attachment_ids"), params.get("attachment_names")
    require_selection(ids, names, params["all_attachments"])
    mailbox = ctx.session.backend.mailbox(mailbox_of(params, config))
    message, found = mailbox.message_attachments(message_ref(params))
    chosen = select_attachments(found, ids, names, ctx.warn)
    dry_run = params["dry_run"]
    folder = output_folder(ctx) if params["save_copies"] and not dry_run else None
    removals: list[AttachmentRemoval] = []
    errors: list[ExchangePackError | None] = []
    for attachment in chosen:
        info = attachment.model_dump()
        error: ExchangePackError | None = None
        copy: FileDigest | None = None
        if dry_run:
            removals.append(AttachmentRemoval(**info, status="would_delete"))
            errors.append(None)
            continue
        try:
            # No copy, no removal: an attachment is never lost for want of its copy.
            copy = keep_copy(mailbox, message, attachment, folder) if folder else None
            mailbox.delete_attachment(message, attachment)
        except AttachmentNotFoundError:
            pass  # removed meanwhile: the wanted state holds
        except ExchangePackError as exc:
            error = exc
        status = "failed" if error else "deleted"
        removals.append(
            AttachmentRemoval(
                **info, status=status, error=error.message if error else None, copy=copy
            )
        )
        errors.append(error)
    raise_when_all_failed(errors)
    failed = sum(r.status == "failed" for r in removals)
    done = len(removals) - failed
    copies = sum(r.copy_ is not None for r in removals)
    verb = "Would remove" if dry_run else "Removed"
    text = f"{verb} {done} of {len(removals)} attachments from {message.subject!r}"
    if folder is not None:
        text += f"; copies of {copies} saved in {folder.root}"
    elif not dry_run:
        text += " (no copies kept: save_copies is false)"
    result = DeleteAttachmentsResult(
        message=message,
        dry_run=dry_run,
        copies_dir=str(folder.root) if folder is not None else None,
        attachments=removals,
    )
    return ActionResult(
        data=result,
        message=text + ".",
        summary={
            "attachments": len(removals),
            "removed": 0 if dry_run else done,
            "copies_saved": copies,
            "failed": failed,
        },
    )


def output_folder(ctx: ActionContext) -> OutputFolder:
    """Where the copies go; an ``output_dir`` that cannot be made is a config error."""
    try:
        return OutputFolder(ctx.output_dir)
    except OSError as exc:
        raise ConfigError(
            f"output_dir {ctx.config.output_dir} cannot be used ({exc.strerror}).",
            hint="Set output_dir to a folder the action may write to, or save_copies to false.",
        ) from None


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
