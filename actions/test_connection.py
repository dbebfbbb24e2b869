"""Test Connection: acquire a token, check which actions its roles allow, probe a mailbox.

Graph and EWS both: msal client credentials (EWS on-premises: NTLM/Basic), then one read of
the mailbox's Inbox folder. Exit 0 when usable; 77 (permission) or 78 (config) otherwise.
"""

from __future__ import annotations

from typing import Any

from exchange_pack.actions.connection import connection_report
from exchange_pack.config import ConnectionConfig
from exchange_pack.manifest import load_manifest
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "test_connection"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Reports auth method, token expiry, roles, per-action permission checks and the probe."""
    report = connection_report(
        ctx.session, load_manifest(), params.get("mailbox") or config.default_mailbox
    )
    denied = [check for check in report.actions if not check.allowed]
    for check in denied:
        ctx.warn(f"{check.id} needs {', '.join(check.missing)} (not granted).")
    allowed = len(report.actions) - len(denied)
    return ActionResult(
        data=report,
        message=(
            f"Connected to {report.backend} ({report.auth_method}); "
            f"{allowed} of {len(report.actions)} actions allowed; "
            f"mailbox probe: {report.mailbox_probe.status}."
        ),
        summary={
            "allowed": allowed,
            "denied": len(denied),
            "mailbox_probe": report.mailbox_probe.status,
        },
    )


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
