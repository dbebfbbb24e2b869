"""GetSearchableMailboxes: the mailboxes an eDiscovery search could cover."""

from __future__ import annotations

from lxml import etree

from .serialize import boolean
from .service import EwsContext, operation
from .soap import M, T, m


@operation("GetSearchableMailboxes", since="Exchange2013")
def get_searchable_mailboxes(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS GetSearchableMailboxes (SearchFilter on address or display name)."""
    wanted = (request.findtext(m("SearchFilter")) or "").strip().lower()
    container = M.SearchableMailboxes()
    for mailbox in context.store.mailboxes():
        if context.app_id and not context.tenant.in_scope(context.app_id, mailbox):
            continue
        if wanted and wanted not in mailbox.address and wanted not in mailbox.display_name.lower():
            continue
        container.append(
            T.SearchableMailbox(
                T.Guid(mailbox.guid),
                T.PrimarySmtpAddress(mailbox.address),
                T.IsExternalMailbox(boolean(False)),
                T.ExternalEmailAddress(""),
                T.DisplayName(mailbox.display_name),
                T.IsMembershipGroup(boolean(False)),
                T.ReferenceId(mailbox.address),
            )
        )
    return M.GetSearchableMailboxesResponse(
        M.ResponseCode("NoError"), container, ResponseClass="Success"
    )
