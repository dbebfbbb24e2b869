"""Search Emails Extended: one mailbox, a list, or every searchable mailbox.

Graph: ``GET /users/{id}/messages`` with ``$filter``/``$search`` (``$batch`` across mailboxes);
EWS: FindItem with a Restriction or AQS QueryString. Filters the API cannot combine are checked
locally by the backend, never dropped.
"""

from __future__ import annotations

from typing import Any

from exchange_pack.actions.search import criteria_from, search
from exchange_pack.actions.targets import every_mailbox, search_scope
from exchange_pack.config import ConnectionConfig
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "search_emails_extended"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Returns the matching messages, each mailbox's status, truncation and next_cursor."""
    backend = ctx.session.backend
    criteria = criteria_from(params)
    cursor = params.get("cursor")
    # Every mailbox: the backend reads the directory within the search (search_all); a
    # continuation names its mailboxes in the cursor, so they are not listed again.
    everything = every_mailbox(params)
    addresses = None if everything else search_scope(params, config, backend)
    result, _ = search(
        backend,
        addresses,
        criteria,
        limit=params["limit"],
        max_results=params["max_results"],
        cursor=cursor,
        scope_key="all" if addresses is None else ",".join(sorted(a.lower() for a in addresses)),
        progress=ctx.progress,
    )
    failed = [box for box in result.mailboxes if box.status != "ok"]
    if failed:
        named = ", ".join(f"{box.mailbox} ({box.status})" for box in failed[:5])
        ctx.warn(f"{len(failed)} of {len(result.mailboxes)} mailboxes failed: {named}.")
    more = "; more match (pass next_cursor)" if result.truncated else ""
    return ActionResult(
        data=result,
        message=f"{result.total} messages in {len(result.mailboxes)} mailboxes{more}.",
        summary={
            "messages": result.total,
            "mailboxes": len(result.mailboxes),
            "failed": len(failed),
            "truncated": result.truncated,
        },
    )


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
