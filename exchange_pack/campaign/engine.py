"""Which engine runs a campaign: ``fanout`` (the pack's own search and batched removals) or
``ediscovery`` (Microsoft Purview eDiscovery through Graph's security API).

``auto`` picks eDiscovery for ``all_mailboxes`` over a tenant of at least
``AUTO_EDISCOVERY_MAILBOXES`` mailboxes when the app holds ``eDiscovery.ReadWrite.All`` and
``delete_type`` is soft or hard (purgeData cannot move to Deleted Items), else the fan-out
(bench/RESULTS.md measures where eDiscovery starts to pay off). EWS (Exchange Server
on-premises) has only the fan-out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..backend import Backend
from ..errors import ExchangePackError, UnsupportedError

if TYPE_CHECKING:
    from ..runtime import ActionContext

EDISCOVERY_ROLE = "eDiscovery.ReadWrite.All"
# bench/campaign.py: where the fan-out (measured) meets Purview (modeled); RESULTS.md says how.
AUTO_EDISCOVERY_MAILBOXES = 50_000


@dataclass(frozen=True)
class Choice:
    """The engine a run uses and why."""

    name: str  # "fanout" | "ediscovery"
    reason: str


def has_ediscovery_role(ctx: ActionContext) -> bool:
    """Whether the Graph token carries eDiscovery.ReadWrite.All (False when it cannot tell)."""
    try:
        return EDISCOVERY_ROLE in ctx.session.tokens.token_info("graph").roles
    except ExchangePackError:
        return False


def choose(
    requested: str,
    backend: Backend,
    ctx: ActionContext,
    *,
    everything: bool,
    mailboxes: int,
    delete_type: str = "soft",
) -> Choice:
    """The engine for this run (UnsupportedError for eDiscovery over EWS)."""
    if backend.name == "ews":
        if requested == "ediscovery":
            raise UnsupportedError(
                "engine ediscovery needs Microsoft Graph (Purview eDiscovery in Exchange "
                "Online); EWS, as on Exchange Server on-premises, has only engine fanout.",
                hint="Use engine fanout (or auto) with backend ews, or backend graph.",
            )
        return Choice("fanout", "EWS has only the fan-out")
    if requested != "auto":
        return Choice(requested, "asked for")
    if not everything or mailboxes < AUTO_EDISCOVERY_MAILBOXES:
        return Choice("fanout", f"fewer than {AUTO_EDISCOVERY_MAILBOXES} mailboxes in scope")
    if delete_type == "move_to_deleted_items":
        return Choice("fanout", "eDiscovery cannot move to Deleted Items")
    if not has_ediscovery_role(ctx):
        return Choice("fanout", f"the app lacks {EDISCOVERY_ROLE}")
    return Choice("ediscovery", f"all of {mailboxes} mailboxes, {EDISCOVERY_ROLE} granted")
