"""Get Out Of Office: a mailbox's automatic replies settings.

Graph: ``GET /users/{id}/mailboxSettings/automaticRepliesSetting``; EWS: GetUserOofSettings.
"""

from __future__ import annotations

from typing import Any

from exchange_pack.actions.targets import mailbox_of
from exchange_pack.config import ConnectionConfig
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "get_out_of_office"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Reads status, schedule, replies and audience of the automatic replies."""
    settings = ctx.session.backend.mailbox(mailbox_of(params, config)).out_of_office()
    state = "active now" if settings.active_now else "not active now"
    return ActionResult(
        data=settings,
        message=f"Out of office for {settings.mailbox}: {settings.status}, {state}.",
        summary={"status": settings.status, "active_now": settings.active_now},
    )


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
