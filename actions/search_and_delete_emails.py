"""Search And Delete Emails: estimate a campaign, then remove it with the estimate's approval.

fanout engine: Graph ``GET /users/{id}/messages`` through ``$batch``, then ``$batch`` of
``POST .../move`` / ``.../permanentDelete`` (20 per call); EWS FindItem per mailbox, then
DeleteItem with many ItemIds. ediscovery engine (Graph): ``/security/cases/ediscoveryCases``
searches, ``estimateStatistics`` and ``purgeData``.
"""

from __future__ import annotations

from typing import Any

from exchange_pack.campaign import action
from exchange_pack.config import ConnectionConfig
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "search_and_delete_emails"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Estimates (approval_token) or deletes the matching messages in the scope."""
    return action.run(params, config, ctx)


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
