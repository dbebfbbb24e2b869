"""Get Contacts: the contacts of a mailbox, filtered and paged.

Graph: ``GET /users/{id}/contacts``; EWS: FindItem in the Contacts folder.
"""

from __future__ import annotations

from typing import Any

from exchange_pack.actions.outputs import ContactsResult
from exchange_pack.actions.targets import mailbox_of
from exchange_pack.config import ConnectionConfig
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "get_contacts"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Lists up to ``limit`` contacts matching ``query``, from ``cursor`` on."""
    address = mailbox_of(params, config)
    page = ctx.session.backend.mailbox(address).contacts(
        params.get("query"), params["limit"], params.get("cursor")
    )
    result = ContactsResult(
        mailbox=address, contacts=page.items, count=len(page.items), next_cursor=page.next_cursor
    )
    more = " (more available: pass next_cursor)" if page.next_cursor else ""
    return ActionResult(
        data=result,
        message=f"{result.count} contacts in {address}{more}.",
        summary={"contacts": result.count, "truncated": page.next_cursor is not None},
    )


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
