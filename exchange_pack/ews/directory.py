"""get_searchable_mailboxes on EWS: GetSearchableMailboxes."""

from __future__ import annotations

from exchangelib.properties import SearchableMailbox

from ..models import MailboxInfo
from .transport import EwsTransport


def searchable_mailboxes(transport: EwsTransport, limit: int | None = None) -> list[MailboxInfo]:
    """EWS GetSearchableMailboxes: every mailbox the app may search (external ones left out).

    EWS does not say whether a mailbox is a user's, shared, a room or equipment: ``type`` is
    ``unknown`` (the Graph backend reads it from mailboxSettings/userPurpose)."""

    protocol = transport.versioned_protocol

    def run() -> list:
        return protocol.get_searchable_mailboxes(expand_group_membership=True)

    found = transport.call(run)
    mailboxes = [
        MailboxInfo(
            address=m.primary_smtp_address,
            display_name=m.display_name or "",
            id=m.guid or m.primary_smtp_address,
            type="unknown",
        )
        for m in found
        if isinstance(m, SearchableMailbox)
        and m.primary_smtp_address
        and not m.is_external
        and not m.is_membership_group
    ]
    return mailboxes[:limit] if limit else mailboxes
