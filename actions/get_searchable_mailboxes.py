"""Get Searchable Mailboxes: the mailboxes the app can search.

EWS: GetSearchableMailboxes; Graph: ``GET /users`` (users with a mailbox) and their type.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from exchange_pack.actions.outputs import SearchableMailboxesResult
from exchange_pack.config import ConnectionConfig
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "get_searchable_mailboxes"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Lists address, display name, id and type of up to ``limit`` mailboxes."""
    mailboxes = ctx.session.backend.searchable_mailboxes(params["limit"])[: params["limit"]]
    result = SearchableMailboxesResult(mailboxes=mailboxes, count=len(mailboxes))
    by_type = Counter(box.type for box in mailboxes)
    return ActionResult(
        data=result,
        message=f"{result.count} searchable mailboxes.",
        summary={"mailboxes": result.count, **{f"type_{k}": v for k, v in sorted(by_type.items())}},
    )


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
