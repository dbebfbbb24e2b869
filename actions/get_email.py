"""Get Email: one message in full for enrichment, the same on Graph and EWS.

Graph: ``GET .../messages/{id}?$expand=attachments``, ``/$value`` and
``/attachments/{id}/$value``; EWS: GetItem (attachments, then MIME) and GetAttachment. Headers
(sender domains, Received chain, SPF/DKIM/DMARC, anti-spam verdicts), bodies, URLs (SafeLinks
unwrapped), attachments hashed while streaming, and a reported original unwrapped.
"""

from __future__ import annotations

from typing import Any

from exchange_pack.actions.targets import mailbox_of, message_ref
from exchange_pack.config import ConnectionConfig
from exchange_pack.enrich import enrich_message
from exchange_pack.runtime import ActionContext, ActionResult, exit_process, run_action

ACTION_ID = "get_email"


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Reads, parses and hashes the message; reports the enrichment."""
    mailbox = ctx.session.backend.mailbox(mailbox_of(params, config))
    result = enrich_message(
        mailbox, message_ref(params), max_size_bytes=params["max_size_bytes"], warn=ctx.warn
    )
    found = result.enrichment
    auth = found.headers.authentication
    reported = found.reported_messages
    text = f"Read {found.subject or result.message.id!r}: {len(found.urls)} URLs, "
    text += f"{len(found.attachments)} attachments"
    text += f", reporting {len(reported)} attached message(s)." if reported else "."
    return ActionResult(
        data=result,
        message=text,
        summary={
            "urls": len(found.urls),
            "attachments": len(found.attachments),
            "reported_messages": len(reported),
            "spf": auth.spf,
            "dmarc": auth.dmarc,
            "domains_agree": found.headers.domains_agree,
        },
    )


def main() -> int:
    """Runs the action under the contract: stdin JSON in, one envelope out, sysexits code."""
    return run_action(ACTION_ID, run)


if __name__ == "__main__":
    exit_process(main())
