"""Delete Email: one or many messages in one or several mailboxes, with a status each.

Graph: ``POST .../messages/{id}/move`` to Deleted Items, ``DELETE`` (soft) or
``permanentDelete`` (hard, global cloud only); EWS: DeleteItem (MoveToDeletedItems,
SoftDelete, HardDelete). ``dry_run`` resolves the messages and changes nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from exchange_pack.actions.deletion import delete_messages
from exchange_pack.actions.outputs import DeleteEmailResult
from exchange_pack.actions.targets import delete_targets
from exchange_pack.config import ConnectionConfig
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "delete_email"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Deletes every named message in every named mailbox; a missing one is not_found."""
    delete_type, dry_run = params["delete_type"], params["dry_run"]
    outcomes = delete_messages(
        ctx.session.backend,
        delete_targets(params, config),
        delete_type,
        dry_run=dry_run,
        progress=ctx.progress,
    )
    counts = Counter(outcome.status for outcome in outcomes)
    for outcome in outcomes:
        if outcome.status == "failed":
            ctx.warn(f"{outcome.mailbox}: {outcome.message}: {outcome.error}")
    result = DeleteEmailResult(delete_type=delete_type, dry_run=dry_run, results=outcomes)
    done = counts["would_delete"] if dry_run else counts["deleted"]
    verb = "Would delete" if dry_run else "Deleted"
    return ActionResult(
        data=result,
        message=(
            f"{verb} {done} messages ({delete_type}); {counts['not_found']} not found, "
            f"{counts['failed']} failed."
        ),
        summary={
            "deleted": counts["deleted"],
            "would_delete": counts["would_delete"],
            "not_found": counts["not_found"],
            "failed": counts["failed"],
        },
    )


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
